/**
 * What kind of filesystem holds a path, where it changes what a number means:
 * on tmpfs or ramfs there is no device, so O_DIRECT is refused and
 * fdatasync makes nothing durable.
 */
import { statfsSync } from "node:fs";

/** statfs f_type of tmpfs (TMPFS_MAGIC). */
export const TMPFS_MAGIC = 0x01021994;
/** statfs f_type of ramfs (RAMFS_MAGIC): no device either. */
export const RAMFS_MAGIC = 0x858458f6;

/** "tmpfs" or "ramfs" when `path` lives in memory (no block device), else null (also when statfs fails). */
export function memoryFsName(path: string): "tmpfs" | "ramfs" | null {
  try {
    const t = Number(statfsSync(path).type);
    return t === TMPFS_MAGIC ? "tmpfs" : t === RAMFS_MAGIC ? "ramfs" : null;
  } catch {
    return null;
  }
}
