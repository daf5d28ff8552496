#!/bin/bash
# A/B: the base tree's and this tree's uring echo servers side by side (both pinned to CPU 0, idle when not measured),
# the CLI's load generator (echo --connect, CPU 1) against each in turn, 5 alternations.
cd /work/main
pa=$(python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])")
pb=$(python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])")
(cd /tmp/base14 && exec taskset -c 0 node_modules/.bin/bun cli/echo/server-uring.ts --port $pb) > /tmp/m14/ab.b.out 2>&1 &
(cd /work/main && exec taskset -c 0 node_modules/.bin/bun cli/echo/server-uring.ts --port $pa) > /tmp/m14/ab.a.out 2>&1 &
sleep 2
for i in 1 2 3 4 5; do
  for t in after:$pa before:$pb; do
    label=${t%%:*}; port=${t##*:}
    r=$(taskset -c 1 node_modules/.bin/bun cli/echo/load-worker.ts --host 127.0.0.1 --port $port -c 1000 -b 512 --duration 3000 --warmup 1000 --server-pid $(pgrep -f "server-uring.ts --port $port" | head -1) | grep -a RESULT)
    echo "$label $i $(cut -d' ' -f1 /proc/loadavg) $r"
  done
done
kill $(pgrep -f "server-uring.ts --port $pa") $(pgrep -f "server-uring.ts --port $pb")
