import json,glob,statistics as st
def med(v): v=[x for x in v if x is not None]; return st.median(v) if v else float('nan')
out=[]
P=out.append
# --- read: uring 1 vs 2 rings, pairs
pairs=[]
for i in range(1,6):
    a=json.load(open(f'read-r1-{i}.json'))['results'][0]; b=json.load(open(f'read-r2-{i}.json'))['results'][0]
    pairs.append((a,b))
for i in range(1,4):
    A={x['variant']:x for x in json.load(open(f'readcmp-r1-{i}.json'))['results']}
    B={x['variant']:x for x in json.load(open(f'readcmp-r2-{i}.json'))['results']}
    pairs.append((A['uring'],B['uring']))
def nsop(x, mult=1):
    c=x.get('cpu',{}).get('self'); return c*mult*1e9/x['opsPerSec'] if c and x['opsPerSec'] else None
P('### Page-cache reads, 4 KiB random, qd 32, 256 MiB file (uring variant): 2 rings vs 1 ring, 8 interleaved pairs\n')
P('| pair | 1 ring ops/s | 2 rings ops/s | ratio | 1 ring CPU ns/op | 2 rings CPU ns/op |')
P('|---|---|---|---|---|---|')
rat=[];n1=[];n2=[]
for k,(a,b) in enumerate(pairs):
    r=b['opsPerSec']/a['opsPerSec']; rat.append(r); n1.append(nsop(a)); n2.append(nsop(b))
    P(f"| {k+1} | {a['opsPerSec']:.0f} | {b['opsPerSec']:.0f} | {r:.2f}x | {nsop(a):.0f} | {nsop(b):.0f} |")
P(f"| **median** | {med([a['opsPerSec'] for a,_ in pairs]):.0f} | {med([b['opsPerSec'] for _,b in pairs]):.0f} | **{med(rat):.2f}x** | {med(n1):.0f} | {med(n2):.0f} ({med(n2)/med(n1):.2f}x) |")
P('')
# --- read comparison with pread threads and fio numjobs
P('### `read --rings N`: io_uring rings vs N threads of pread vs fio numjobs=N (same run, 3 interleaved pairs of invocations)\n')
P('fio CPU under group_reporting is the jobs\' mean; the raw JSON of these runs predates the fix, so it is multiplied by N here (as the CLI now does).\n')
P('| variant | N=1 ops/s | N=2 ops/s | ratio (median of pairs) | N=1 CPU ns/op | N=2 CPU ns/op |')
P('|---|---|---|---|---|---|')
for v in ['uring','pread','fio-io_uring','fio-psync']:
    o1=[];o2=[];c1=[];c2=[];rr=[]
    for i in range(1,4):
        A={x['variant']:x for x in json.load(open(f'readcmp-r1-{i}.json'))['results']}[v]
        B={x['variant']:x for x in json.load(open(f'readcmp-r2-{i}.json'))['results']}[v]
        o1.append(A['opsPerSec']);o2.append(B['opsPerSec']);rr.append(B['opsPerSec']/A['opsPerSec'])
        c1.append(nsop(A)); c2.append(nsop(B, 2 if v.startswith('fio') else 1))
    P(f"| {v} | {med(o1):.0f} | {med(o2):.0f} | {med(rr):.2f}x | {med(c1):.0f} | {med(c2):.0f} |")
P('')
# --- echo fixed rate
for tag,f in [('10 000/s','echo-10k.json'),('2 000/s','echo-2k.json')]:
    d=json.load(open(f)); rows=d['rows']
    P(f"### Echo at a fixed offered rate of {tag} (C open-loop client, {d['connections']} connections, {d['bytes']} B, uniform arrivals; 5 interleaved reps)\n")
    P('| server | achieved /s | server CPU µs per round trip (median, range) | corrected p50 ms (median) | errors / unanswered | connections alive |')
    P('|---|---|---|---|---|---|')
    for name in ['plain-1ring','group-1worker','group-2workers']:
        rs=[r for r in rows if r['name']==name]
        us=[r['serverUsPerRt'] for r in rs]
        P(f"| {name} | {med([r['achieved'] for r in rs]):.0f} | {med(us):.1f} ({min(us):.1f}-{max(us):.1f}) | {med([r['p50'] for r in rs])/1000:.1f} | {sum(r['errors'] for r in rs)} / {sum(r['unanswered'] for r in rs)} | {min(r['alive'] for r in rs)} |")
    g1=med([r['serverUsPerRt'] for r in rows if r['name']=='group-1worker']); g2=med([r['serverUsPerRt'] for r in rows if r['name']=='group-2workers'])
    P(f"\n2 Workers / 1 Worker, server CPU per round trip: **{g2/g1:.2f}x**\n")
# --- echo closed loop
P('### Echo closed loop, 400 connections, 128 B (client marked: our load generator on CPU 1; 4 interleaved pairs)\n')
P('| server | threads | server CPUs | ops/s (median) | server CPU µs/rt (median, range) | client CPU µs/rt | errors |')
P('|---|---|---|---|---|---|---|')
res={}
for t in (1,2):
    for i in range(1,5):
        for x in json.load(open(f'echo-cl-t{t}-{i}.json'))['results']:
            res.setdefault((x['variant'],t),[]).append(x)
for v in ['uring','c-uring']:
    for t in (1,2):
        xs=res[(v,t)]; us=[x['extra']['serverUsPerRoundTrip'] for x in xs]
        P(f"| {v} | {t} | {'0' if t==1 else '0,1'} | {med([x['opsPerSec'] for x in xs]):.0f} | {med(us):.1f} ({min(us):.1f}-{max(us):.1f}) | {med([x['extra']['clientUsPerRoundTrip'] for x in xs]):.1f} | {sum(x['errors'] for x in xs)} |")
for v in ['uring','c-uring']:
    a=med([x['extra']['serverUsPerRoundTrip'] for x in res[(v,1)]]); b=med([x['extra']['serverUsPerRoundTrip'] for x in res[(v,2)]])
    P(f"\n{v}: 2 threads / 1 thread, server CPU per round trip: **{b/a:.2f}x**")
print('\n'.join(out))
