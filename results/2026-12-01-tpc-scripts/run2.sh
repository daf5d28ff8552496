#!/bin/bash
cd /work/main
F=$(ls /var/tmp/uring-bench-read-*.dat | head -1)
for i in 1 2 3; do
  for r in 1 2; do
    node_modules/.bin/bun cli/main.ts read --variants uring,pread,fio-io_uring,fio-psync --rings $r --file $F -d 2s --warmup 300ms --repeat 1 --json /tmp/tpc/readcmp-r$r-$i.json -q >/dev/null 2>/tmp/tpc/readcmp-r$r-$i.err
    echo "read $i $r rc=$?"
  done
done
for i in 1 2 3 4; do
  node_modules/.bin/bun cli/main.ts echo --servers uring,c-uring --threads 1 -c 400 -b 128 -d 2s --warmup 300ms --repeat 1 --server-cpu 0 --client-cpu 1 --json /tmp/tpc/echo-cl-t1-$i.json -q >/dev/null 2>/tmp/tpc/echo-cl-t1-$i.err; echo "echo $i t1 rc=$?"
  node_modules/.bin/bun cli/main.ts echo --servers uring,c-uring --threads 2 -c 400 -b 128 -d 2s --warmup 300ms --repeat 1 --server-cpu 0,1 --client-cpu 1 --json /tmp/tpc/echo-cl-t2-$i.json -q >/dev/null 2>/tmp/tpc/echo-cl-t2-$i.err; echo "echo $i t2 rc=$?"
done
