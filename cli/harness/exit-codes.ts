/**
 * The one exit-code rule of every benchmark command (documented in
 * docs/cli.md and in each command's --help):
 * 0 every variant ran; 1 some variant failed (the results are still printed);
 * 2 bad usage or input (nothing ran); 130 interrupted (partial results printed).
 */
import type { RunResult } from "./result.ts";

/** Every variant ran and every check passed. */
export const EXIT_OK = 0;
/** Some variant failed, returned wrong bytes or lost a commit; the results are still printed. */
export const EXIT_VARIANT_FAILED = 1;
/** Bad options or input (unknown flag, bad value, unusable file or directory): nothing ran. */
export const EXIT_USAGE = 2;
/** Interrupted by Ctrl-C (SIGINT): what was measured is printed, marked partial. */
export const EXIT_INTERRUPTED = 130;

/** The rule as help text, for `addHelpText("after", ...)`. */
export const EXIT_CODES_HELP =
  `Exit codes: ${EXIT_OK} every variant ran; ${EXIT_VARIANT_FAILED} some variant failed (results still printed); ` +
  `${EXIT_USAGE} bad usage or input; ${EXIT_INTERRUPTED} interrupted (partial results printed).`;

/**
 * Did a variant fail? Errors count, except a variant reported as unsupported
 * here (e.g. IOPOLL on a buffered file), which is a fact about the machine.
 */
export function someVariantFailed(run: RunResult): boolean {
  return run.results.some((r) => r.errors > 0 && r.extra?.status !== "unsupported");
}

/** The exit code a finished run earns: interrupted wins, then failures. */
export function exitCodeFor(run: RunResult): number {
  if (run.partial === true) return EXIT_INTERRUPTED;
  return someVariantFailed(run) ? EXIT_VARIANT_FAILED : EXIT_OK;
}
