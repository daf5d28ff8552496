#!/bin/bash
# fsync-chain: uring, loop, fio at --rings 1 and 2 (append, 4 KiB, fdatasync, qd1), 3 interleaved pairs.
cd /work/main
for i in 1 2 3; do
  for r in 1 2; do
    node_modules/.bin/bun cli/main.ts fsync-chain --dir /var/tmp --rings $r --variants uring,loop,fio -d 2s -w 300ms -r 1 --json /tmp/tpc/fsync-r$r-$i.json -q >/dev/null 2>/tmp/tpc/fsync-r$r-$i.err
    echo "fsync $i $r rc=$?"
  done
done
