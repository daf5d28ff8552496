#!/bin/bash
# Interleaved echo runs: this tree (after) and the base commit 8b87fd6 (before), uring and c-uring in each run.
out=${OUT:-/tmp/m14/bench.txt}; : > $out
for i in 1 2; do
  for t in /work/main:after /tmp/base14:before; do
    dir=${t%%:*}; label=${t##*:}
    echo "=== $label run $i $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $out
    (cd $dir && timeout 600 node_modules/.bin/bun cli/main.ts echo --servers uring,c-uring -c 1000 -b 512 --duration 3s --warmup 1s --repeat 3 2>&1 | tail -30) >> $out
  done
done
[ -n "$ECHO_ONLY" ] && exit 0
echo "=== faults 200 stalled $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $out
cd /work/main && timeout 1500 node_modules/.bin/bun cli/main.ts echo --faults stalled --fault-stalled 200 --servers uring,c-uring -c 100 -b 512 --duration 5s --warmup 1s --repeat 3 2>&1 | tail -16 >> $out
echo "=== faults mix $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $out
cd /work/main && timeout 1500 node_modules/.bin/bun cli/main.ts echo --faults --servers uring,c-uring -c 100 -b 512 --duration 5s --warmup 1s --repeat 3 2>&1 | tail -16 >> $out
echo "=== done $(date -u +%H:%M:%S)" >> $out
