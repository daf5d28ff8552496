#!/bin/sh
# The thread-per-core open-loop echo runs of 2026-12-02 (issue 18): uring (TcpServerGroup),
# c-uring and c-epoll, 1 thread against 2, interleaved, at fixed offered rates.
# Run from the repo root; each run writes a RunResult JSON and the console table beside it.
set -e
BUN=node_modules/.bin/bun
OUT=${OUT:-results}
TAG=${TAG:-}
common="echo --servers uring,c-uring,c-epoll --threads 1,2 -c 100 -b 128 -d 3s -r ${REPS:-5} --syscalls"
# A: the setup: 1 thread on CPU 0; 2 threads on CPUs 0 and 1, the C open-loop client on CPU 1.
$BUN cli/main.ts $common --rate 10k --server-cpu 0,1 --client-cpu 1 --json $OUT/2026-12-02-tpc-echo-10k$TAG.json 2>&1 | tee $OUT/2026-12-02-tpc-scripts/echo-10k$TAG.txt
# B: the load generator kept off the server's core: every server thread on CPU 0, the client alone on CPU 1.
$BUN cli/main.ts $common --rate 10k --server-cpu 0 --client-cpu 1 --json $OUT/2026-12-02-tpc-echo-10k-cpu0$TAG.json 2>&1 | tee $OUT/2026-12-02-tpc-scripts/echo-10k-cpu0$TAG.txt
# C: near saturation of one thread (full batches), same placement as A.
$BUN cli/main.ts $common --rate ${HIGH:-40k} --server-cpu 0,1 --client-cpu 1 --json $OUT/2026-12-02-tpc-echo-high$TAG.json 2>&1 | tee $OUT/2026-12-02-tpc-scripts/echo-high$TAG.txt
# D: closed loop, every server saturated (full batches): 400 connections, our load generator on CPU 1.
$BUN cli/main.ts echo --servers uring,c-uring,c-epoll --threads 1,2 -c 400 -b 128 -d 3s -r ${REPS:-5} --server-cpu 0,1 --client-cpu 1 --json $OUT/2026-12-02-tpc-echo-closed-c400$TAG.json 2>&1 | tee $OUT/2026-12-02-tpc-scripts/echo-closed-c400$TAG.txt
