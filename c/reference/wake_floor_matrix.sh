#!/bin/bash
# The C wake-up floor over every wait mode × writer placement × ring setup
# (c/reference/wake_floor.c), with the wake-ups between the program's own
# threads per sample: perf record -a of sched:sched_wakeup, counted waker ->
# wakee by thread name (floor-main, floor-writer, floor-waiter). A count
# below 1 means some wake-ups found the wakee still on its CPU (no event).
#
# usage: c/reference/wake_floor_matrix.sh [samples]   (root, perf, build/wake_floor built:
#        gcc -O2 -o build/wake_floor c/reference/wake_floor.c -luring -lpthread)
set -eu
cd "$(dirname "$0")/../.."
N=${1:-300}
DATA=$(mktemp)
trap 'rm -f "$DATA"' EXIT
for f in defer plain; do for w in self same other any; do for m in epoll thread wait; do
  line=$(perf record -q -e sched:sched_wakeup -a -o "$DATA" -- ./build/wake_floor --mode $m --writer $w --flags $f --samples "$N" 2>/dev/null | tr -s ' ')
  pairs=$(perf script -i "$DATA" -F comm,trace 2>/dev/null | grep -o '^ *floor-[a-z]* .*comm=floor-[a-z]*' | awk '{print $1"->"substr($2,6)}' | sort | uniq -c |
    awk -v n=$((N + 20)) '$1/n >= 0.2 {printf " %s %.2f", $2, $1/n}')
  echo "$line |$pairs"
done; done; done
