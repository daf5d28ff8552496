#!/bin/bash
# usage: leak.sh <repo-root> <label> [server args]  — 2000 faulty connections against that tree's uring echo server (plain fds), then what it still holds
root=$1; label=$2; shift 2
cd /work/main
port=$(python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])")
( cd $root && exec node_modules/.bin/bun cli/echo/server-uring.ts --port $port "$@" ) > /tmp/m14/srv.$label.out 2>&1 &
spid=$!
for i in $(seq 50); do grep -q READY /tmp/m14/srv.$label.out && break; sleep 0.1; done
spid=$(pgrep -f "server-uring.ts --port $port" | head -1)
fds0=$(node_modules/.bin/bun -e "import {fdCount} from './cli/echo/faults.ts'; console.log(fdCount($spid))")
# 2000 faulty connections: the fault worker's cycling kinds only (partial+RST, RST in flight, half close, churn) until 2000 are made
node_modules/.bin/bun -e "
import { runFaultMix } from './cli/echo/fault-worker.ts';
let total = 0, counts;
while (total < 2000) { counts = await runFaultMix('127.0.0.1', $port, 500, 0, 0, ['reset','inflight','halfclose','churn'], 200); total += counts.total; }
console.log('faulty connections', total);
"
hex=$(printf '%04X' $port)
for i in $(seq 100); do
  open=$(awk -v h=":$hex" '$2 ~ h"$" && ($4=="01" || $4=="08")' /proc/net/tcp | wc -l)
  fds=$(node_modules/.bin/bun -e "import {fdCount} from './cli/echo/faults.ts'; console.log(fdCount($spid))")
  [ "$open" = 0 ] && [ "$fds" -le "$fds0" ] && break
  sleep 0.1
done
echo "$label: connections left open (ESTABLISHED/CLOSE_WAIT on :$port): $open; descriptors (fds + direct) before $fds0 after $fds (polled up to 10 s)"
python3 - <<PY
import socket
try:
    c=socket.create_connection(("127.0.0.1",$port),timeout=3); c.sendall(b"ping"); r=c.recv(4); c.close(); print("$label: fresh echo:", r)
except OSError as e: print("$label: fresh echo failed:", repr(e))
PY
kill $spid
