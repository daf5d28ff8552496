/**
 * The one error type for bad input to any command: a flag value, a
 * combination of flags, or a file or directory the run cannot use. It extends
 * commander's `InvalidArgumentError`, so an option parser can throw it and
 * commander names the flag; a command's action can throw it too, and
 * cli/main.ts turns either into exit code 2 (usage) with the message alone.
 *
 * ```ts
 * throw new OptionError("--qd 0: at least one read must be in flight.", "qd");
 * ```
 */
import { InvalidArgumentError } from "commander";

/** Bad input: the message says which flag or path, what was wrong, and what to pass instead. */
export class OptionError extends InvalidArgumentError {
  /** Short machine-readable cause for tests and JSON ("missing", "bs-alignment", "option", ...). */
  readonly reason: string;
  constructor(message: string, reason = "option") {
    super(message);
    this.name = "OptionError";
    this.reason = reason;
  }
}
