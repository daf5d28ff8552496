/**
 * Flag values the commit SQEs need that src/sys/constants.ts does not carry:
 * RWF_DSYNC (rw_flags) and sync_file_range(2) flags. The preparers themselves
 * are src/ops's (prepWrite, prepFsync, prepSyncFileRange, prepFallocate).
 */

/** RWF_DSYNC (linux/fs.h): per-write O_DSYNC semantics, in sqe->rw_flags. */
export const RWF_DSYNC = 0x2;

/** sync_file_range(2) flags. */
export const SyncFileRange = {
  /** wait for writeback already in progress on the range */
  WAIT_BEFORE: 1,
  /** start writeback of the range's dirty pages */
  WRITE: 2,
  /** wait for that writeback to finish */
  WAIT_AFTER: 4,
} as const;

/** All three: wait for earlier writeback, start it for the range, wait for it to finish. */
export const SYNC_FILE_RANGE_ALL = SyncFileRange.WAIT_BEFORE | SyncFileRange.WRITE | SyncFileRange.WAIT_AFTER;
