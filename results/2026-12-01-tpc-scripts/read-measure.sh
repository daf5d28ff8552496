#!/bin/bash
# Interleaved page-cache reads: uring with --rings 1 and --rings 2 (same kept 256 MiB file), REPS pairs.
cd /work/main
F=$(ls /var/tmp/uring-bench-read-*.dat | head -1)
for i in $(seq 1 ${REPS:-5}); do
  for r in 1 2; do
    node_modules/.bin/bun cli/main.ts read --variants uring --rings $r --file $F -d 2s --warmup 300ms --repeat 1 --json /tmp/tpc/read-r$r-$i.json -q >/dev/null 2>&1
    python3 -c "import json;d=json.load(open('/tmp/tpc/read-r$r-$i.json'));x=d['results'][0];print($i,$r,round(x['opsPerSec']),x['cpu'],x['extra'].get('opsPerCpuSec'))"
  done
done
