import json, glob, os, statistics as st, sys
HERE = os.path.dirname(os.path.abspath(__file__))
def load(f): return json.load(open(f))['results']
def ts(v): return v in ('uring', 'uring-bench (TS)')
def cref(v): return v in ('c-liburing', 'liburing (C)')
out=[]
def ratios(kind):
    # per side, per cell: list of TS/C ratios (one per invocation); TS/C in one invocation is paired-by-run
    res={}
    for side in ('before','after'):
        for f in sorted(glob.glob(f'{HERE}/{kind}-{side}-*.json')):
            rs=load(f); cells={}
            for r in rs: cells.setdefault(r['cell'],{})['ts' if ts(r['variant']) else 'c' if cref(r['variant']) else r['variant']]=r['opsPerSec']
            for c,v in cells.items():
                if 'ts' in v and 'c' in v: res.setdefault(c,{}).setdefault(side,[]).append(v['ts']/v['c'])
    return res
for kind in ('nop','read'):
    out.append(f'\n{kind}: TS/C ratio per invocation (median of 5 interleaved repetitions each); before = b9dea8e, after = this submission')
    out.append('| cell | before TS/C | after TS/C | after ÷ before (medians) |')
    out.append('|---|---|---|---|')
    for c,v in ratios(kind).items():
        b=v.get('before',[]); a=v.get('after',[])
        if not b or not a: continue
        out.append(f"| {c} | {' '.join(f'{x:.3f}' for x in b)} (median {st.median(b):.3f}) | {' '.join(f'{x:.3f}' for x in a)} (median {st.median(a):.3f}) | {st.median(a)/st.median(b):.3f} |")
# echo
out.append('\necho -c 1000 -b 512: round trips/s and server CPU µs per round trip, per invocation')
out.append('| side | server | round trips/s | server CPU µs/rt | × bun |')
out.append('|---|---|---|---|---|')
for f in sorted(glob.glob(HERE + '/echo-*.json')):
    side=f.split('-')[1]; rs=load(f); bun=[r for r in rs if r['variant']=='bun']
    for r in rs:
        cpu=r.get('cpu',{}) or {}
        ex=r.get('extra',{}) or {}
        us=ex.get("serverUsPerRoundTrip")
        out.append(f"| {f.split('/')[-1][:-5]} | {r['variant']} | {r['opsPerSec']:.0f} | {us if us is None else round(us,2)} | {r['opsPerSec']/bun[0]['opsPerSec']:.2f} |")
print('\n'.join(out))
