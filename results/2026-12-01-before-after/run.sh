#!/usr/bin/env bash
# Before (7c49f94, /tmp/lead-base) vs after (/work/main), alternating, on the quiet machine.
set -u
B=/work/main/node_modules/.bin/bun
OUT=${OUT:-results/2026-12-01-before-after}
for round in 1 2 3; do
  for side in before after; do
    if [ $side = before ]; then cd /tmp/lead-base; nop=(bench/nop.ts --ms 500 --repeat 5 --json $OUT/nop-$side-$round.json); else cd /work/main; nop=(cli/main.ts nop -d 500ms -r 5 --json $OUT/nop-$side-$round.json); fi
    $B "${nop[@]}" > $OUT/nop-$side-$round.txt 2>&1
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
