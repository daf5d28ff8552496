/**
 * The read command's input errors, each saying what happened and what to do.
 * Every check of the target (missing file, directory, permission, O_DIRECT,
 * block size, file size, space, queue depth) throws the CLI's one
 * {@link OptionError} made here, so the messages live in one place and tests
 * can match them by `reason`.
 */
import { OptionError } from "../harness/option-error.ts";

/** A problem with what the user asked for; `reason` ("missing", "directory", "permission", ...) names it for tests. */
export function inputError(reason: string, message: string): OptionError {
  return new OptionError(message, reason);
}

/** Explains an open(2) failure on `path` (errno name from node's error `code`). */
export function explainOpenError(path: string, code: string | undefined, direct: boolean): OptionError {
  switch (code) {
    case "ENOENT":
      return inputError("missing", `${path} does not exist: pass an existing file with --file, or leave --file out to generate one.`);
    case "EISDIR":
      return inputError("directory", `${path} is a directory: --file takes a regular file (use --dir to say where a generated file goes).`);
    case "EACCES":
    case "EPERM":
      return inputError("permission", `No permission to read ${path} (${code}): make it readable (chmod +r) or run as a user who may read it.`);
    case "EINVAL":
      if (direct) return oDirectUnsupported(path, "the filesystem refused O_DIRECT (EINVAL)");
      return inputError("open", `open(${path}) failed with EINVAL.`);
    case "ELOOP":
    case "ENOTDIR":
      return inputError("missing", `${path} is not a reachable file (${code}): check the path.`);
    default:
      return inputError("open", `open(${path}) failed: ${code ?? "unknown error"}.`);
  }
}

/** O_DIRECT cannot be used on `path`'s filesystem. */
export function oDirectUnsupported(path: string, why: string): OptionError {
  return inputError(
    "direct-unsupported",
    `O_DIRECT is not supported for ${path}: ${why}. Run without --direct (buffered reads through the page cache), or put the file on a disk filesystem (ext4, xfs) with --dir or --file.`,
  );
}

/** O_DIRECT on tmpfs: accepted since Linux 6.6 but there is no device, so it measures memory copies. */
export function oDirectOnTmpfs(path: string): OptionError {
  return oDirectUnsupported(path, "it is on tmpfs (memory), which has no block device to read directly from, so O_DIRECT numbers would be memory copies");
}

/** --bs is not a multiple of the device's logical block size, which O_DIRECT requires. */
export function bsNotAligned(bs: number, logical: number, path: string): OptionError {
  return inputError(
    "bs-alignment",
    `--bs ${bs} is not a multiple of the logical block size (${logical} bytes) of the device under ${path}, which O_DIRECT requires: use --bs ${Math.max(logical, Math.ceil(bs / logical) * logical)} or run without --direct.`,
  );
}

/** The file holds less than one block. */
export function fileTooSmall(path: string, size: number, bs: number): OptionError {
  return inputError("too-small", `${path} is ${size} bytes, smaller than one block (--bs ${bs}): use a larger file or a smaller --bs.`);
}

/** No space for the generated file. */
export function noSpace(dir: string, size: number, free: number | null): OptionError {
  const freeText = free === null ? "" : ` (${formatBytes(free)} free)`;
  return inputError(
    "no-space",
    `No space left on the device while generating a ${formatBytes(size)} file in ${dir}${freeText}: use a smaller --size, or --dir on a filesystem with room.`,
  );
}

/** Queue depth above what one ring holds. */
export function qdAboveRing(qd: number, entries: number): OptionError {
  return inputError(
    "qd-above-ring",
    `--qd ${qd} is above the ring size (--entries ${entries}): a ring of ${entries} entries keeps at most ${entries} reads in flight. Raise --entries (up to 32768) or lower --qd.`,
  );
}

/** 1536 → "1.5 KiB". */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u]}`;
}
