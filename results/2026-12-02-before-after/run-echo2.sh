#!/usr/bin/env bash
# A second echo before/after (uring and c-uring only, more alternations), because the first
# run's "after" invocations had 25-42% spreads and a load generator 35% costlier per round trip
# on identical client code (the VM's phase): before = /tmp/lead-base (b9dea8e), after = /work/main.
set -u
B=/work/main/node_modules/.bin/bun
OUT=${OUT:-/work/main/results/2026-12-02-before-after}
for round in 3 4 5; do
  for side in before after; do
    if [ $side = before ]; then cd /tmp/lead-base; else cd /work/main; fi
    $B cli/main.ts echo -c 1000 -b 512 --servers uring,c-uring -d 2s -w 1s -r 3 --json $OUT/echo-$side-$round.json > $OUT/echo-$side-$round.txt 2>&1
  done
done
