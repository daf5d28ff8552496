#!/bin/bash
# Plain fd vs registered file, 1 vs 2 rings: does the shared struct file's refcount show in CPU per read?
cd /work/main
F=$(ls /var/tmp/uring-bench-read-*.dat | head -1)
for i in 1 2 3 4; do
  for r in 1 2; do
    node_modules/.bin/bun cli/main.ts read --variants uring,uring-fixfile --rings $r --file $F -d 2s --warmup 300ms --repeat 1 --json /tmp/tpc/fixfile-r$r-$i.json -q >/dev/null 2>/tmp/tpc/fixfile-r$r-$i.err
    echo "fixfile $i $r rc=$?"
  done
done
