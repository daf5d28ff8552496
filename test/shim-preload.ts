/**
 * Preloaded before every test file (bunfig.toml [test].preload): checks once that
 * this process can create an io_uring. Where it cannot (kernel.io_uring_disabled,
 * seccomp, memlock), the suite stops here with doctor's reason and exit code 1,
 * instead of hundreds of tests each failing the same way.
 * Set URING_BENCH_TEST_WITHOUT_IO_URING=1 to run the suite anyway (to test how
 * things fail without io_uring).
 */
import { Ring } from "../src/ring/ring.ts";

if (process.env.URING_BENCH_TEST_WITHOUT_IO_URING !== "1") {
  try {
    new Ring(2).close();
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    process.stderr.write(
      `\nuring-bench tests: io_uring is not usable in this process, so no test can run.\n  ${reason}\n` +
        `  (\`bun cli/main.ts doctor\` says more; URING_BENCH_TEST_WITHOUT_IO_URING=1 runs the tests anyway.)\n\n`,
    );
    process.exit(1);
  }
}
