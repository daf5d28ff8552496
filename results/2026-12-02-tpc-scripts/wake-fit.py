# Least-squares fit, per server, of server CPU per round trip = a + w × (io_uring_enter per round trip)
# over every open-loop cell (1 and 2 threads) of the given RunResult JSONs: w is the CPU a wake-up costs,
# a what a round trip costs apart from its wake-ups (derived, from medians of interleaved repetitions).
# Usage: python3 results/2026-12-02-tpc-scripts/wake-fit.py results/2026-12-02-tpc-echo-10k*.json
import json, sys
pts = {}
for f in sys.argv[1:]:
    d = json.load(open(f))
    for r in d["results"]:
        x = r.get("extra") or {}
        if "entersPerRoundTrip" not in x or r["variant"] == "c-epoll":
            continue
        pts.setdefault(r["variant"], []).append((x["entersPerRoundTrip"], x["serverUsPerRoundTrip"], f.split("/")[-1], r["cell"].split()[-1]))
print("| server | points | a: µs per round trip besides wake-ups | w: µs per wake-up | r² |")
print("|---|---:|---:|---:|---:|")
for s, p in pts.items():
    n = len(p); mx = sum(e for e, *_ in p) / n; my = sum(c for _, c, *_ in p) / n
    sxx = sum((e - mx) ** 2 for e, *_ in p); sxy = sum((e - mx) * (c - my) for e, c, *_ in p)
    w = sxy / sxx; a = my - w * mx
    ss = sum((c - my) ** 2 for _, c, *_ in p); res = sum((c - a - w * e) ** 2 for e, c, *_ in p)
    print(f"| {s} | {n} | {a:.1f} | {w:.1f} | {1 - res / ss:.2f} |")
print()
for s, p in pts.items():
    for e, c, f, t in p:
        print(f"  {s:8} {f:40} {t:10} enters/rt {e:.2f}  µs/rt {c:.1f}")
