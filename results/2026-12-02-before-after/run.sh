#!/usr/bin/env bash
# Before (b9dea8e, the previous landing, a worktree at /tmp/lead-base with its own shim build)
# against after (/work/main), alternating, on the quiet machine. Same commands on both sides.
set -u
B=/work/main/node_modules/.bin/bun
OUT=${OUT:-/work/main/results/2026-12-02-before-after}
for round in 1 2 3; do
  for side in before after; do
    if [ $side = before ]; then cd /tmp/lead-base; else cd /work/main; fi
    $B cli/main.ts nop -d 500ms -r 5 --json $OUT/nop-$side-$round.json > $OUT/nop-$side-$round.txt 2>&1
    $B cli/main.ts read --size 256m -d 2s -r 5 --variants uring,c-liburing --json $OUT/read-$side-$round.json > $OUT/read-$side-$round.txt 2>&1
  done
done
for round in 1 2; do
  for side in before after; do
    if [ $side = before ]; then cd /tmp/lead-base; else cd /work/main; fi
    $B cli/main.ts echo -c 1000 -b 512 --servers uring,c-uring,bun -d 2s -w 1s -r 5 --json $OUT/echo-$side-$round.json > $OUT/echo-$side-$round.txt 2>&1
  done
done
echo done > $OUT/DONE
