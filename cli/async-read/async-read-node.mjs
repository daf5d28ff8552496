// The node baseline of `uring-bench async-read` (cli/async-read/variants.ts): node:fs/promises FileHandle.read of
// 4 KiB at random offsets, QD in flight, for MS milliseconds. Run with `node`.
// usage: node cli/async-read/async-read-node.mjs PATH SIZE QD MS  → {"ops":N,"seconds":S,"cpu":CPU_SECONDS}
import { open } from "node:fs/promises";

const [path, sizeArg, qdArg, msArg] = process.argv.slice(2);
const blocks = Math.floor(Number(sizeArg) / 4096);
const qd = Number(qdArg);
const ms = Number(msArg);
let rng = 12345;
function nextOffset() {
  let x = rng;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  rng = x >>> 0;
  return (rng % blocks) * 4096;
}
const fh = await open(path, "r");
async function run(duration) {
  let ops = 0;
  let stop = false;
  const end = performance.now() + duration;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: qd }, async () => {
      const buf = Buffer.alloc(4096);
      while (!stop) {
        await fh.read(buf, 0, 4096, nextOffset());
        if ((++ops & 255) === 0 && performance.now() > end) stop = true;
      }
    }),
  );
  const c = process.cpuUsage(c0);
  return { ops, seconds: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}
await run(Math.min(300, ms));
console.log(JSON.stringify(await run(ms)));
await fh.close();
