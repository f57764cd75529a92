#!/bin/sh
# bench/serve.sh [GRADER] - a bounded load run of `grader serve` on 127.0.0.1:
# N students (default 100), P signed GitHub pushes (default 500) spread over
# about D seconds (default 60) on the demo notebook, then up to DRAIN seconds
# (default 300) for the queue to empty. Prints graded pushes per second,
# p50/p95/p99 of webhook response time and of push-to-result latency, the
# superseded count, and the RSS of both sides at start and end. No network
# beyond loopback; everything it makes is in one temporary folder. WORKERS
# (default: the number of CPUs) grading workers; the pushes start once each
# has its zygote warm. LONG=10000 then sends that many more signed pushes as
# fast as one client can (most are superseded) and prints the HTTP side's RSS
# every 1000 of them: the HTTP and queue side must stay flat. UPLOADS (default
# 1) zip uploads a second go on while the pushes come, unpacked by the HTTP
# side before each answer, so the webhook figures are measured beside them.
# SERVE_LOG=FILE keeps the service's log there. The load average is printed:
# the machine may be shared, and the figures depend on it.
set -eu
GRADER=${1:-${GRADER:-build/grader}}
GRADER=$(cd "$(dirname "$GRADER")" && pwd)/$(basename "$GRADER")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-100} P=${P:-500} D=${D:-60} DRAIN=${DRAIN:-300} WORKERS=${WORKERS:-$(nproc)}
LONG=${LONG:-0}
export WORKERS LONG
T=$(mktemp -d /tmp/grader-bench-serve.XXXXXX)
chmod 755 "$T"
PID=
SERVE_LOG=${SERVE_LOG:-}
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; [ -n "$SERVE_LOG" ] && cp "$T/serve.log" "$SERVE_LOG"; rm -rf "$T"' EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME=$T
git config --global user.name b && git config --global user.email b@example.org
git config --global init.defaultBranch main
export GRADER_WEBHOOK_SECRET=bench-secret GRADER_ADMIN_TOKEN=bench-admin

echo "building $N student repositories in $T ..." >&2
"$GRADER" rubric release "$ROOT/rubrics/examples/ps1.json" -o "$T/release" >/dev/null
/usr/bin/python3 "$ROOT/rubrics/examples/make_submissions.py" "$T/release/ps1.ipynb" "$T/gen"
# The load is drawn first, then each student's repository is given one new commit
# for each push it will get (a chain cycling through the five demo notebooks, made
# by git fast-import and kept under refs/bench/all), with main at the chain's first
# commit. A push then moves main one commit on, as the forge does, and delivers its
# webhook: every push is a new tip, as a student's are. The forge's own work is not
# on this machine in real use, so moving the ref is a file rename, not a git push.
/usr/bin/python3 - "$T" "$N" "$P" "$LONG" <<'PY'
import os, random, subprocess, sys
t, n, p, long_n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
kinds = ['alice', 'bob', 'carol', 'erin', 'frank']
random.seed(1)
students = ['s%03d' % i for i in range(n)]
plan = [random.choice(students) for _ in range(p)] + [students[i % n] for i in range(long_n)]
count = dict((s, 0) for s in students)
for s in plan:
    count[s] += 1
blobs = [open(os.path.join(t, 'gen', k, 'ps1', 'ps1.ipynb'), 'rb').read() for k in kinds]
chains = {}
for i, s in enumerate(students):
    bare = os.path.join(t, 'remote', s + '.git')
    subprocess.run(['git', 'init', '-q', '--bare', bare], check=True)
    out = []
    for k, b in enumerate(blobs):
        out.append(b'blob\nmark :%d\ndata %d\n%s\n' % (k + 1, len(b), b))
    for c in range(count[s] + 1):
        msg = b'%s %d' % (kinds[(i + c) % 5].encode(), c)
        out.append(b'commit refs/bench/all\nmark :%d\ncommitter b <b@example.org> %d +0000\n'
                   b'data %d\n%s\nM 100644 :%d ps1.ipynb\n' % (
                       100 + c, 1793268000 + c, len(msg), msg, (i + c) % 5 + 1))
    out.append(b'reset refs/heads/main\nfrom :100\n\n')
    marks = os.path.join(t, 'marks-' + s)
    subprocess.run(['git', '-C', bare, 'fast-import', '--quiet', '--export-marks=' + marks],
                   input=b''.join(out), check=True)
    sha = dict(l.split() for l in open(marks))
    chains[s] = [sha[':%d' % (100 + c)] for c in range(count[s] + 1)]
    os.unlink(marks)
with open(os.path.join(t, 'plan.txt'), 'w') as f:
    nxt = dict((s, 1) for s in students)
    for s in plan:
        f.write('%s %s\n' % (s, chains[s][nxt[s]]))
        nxt[s] += 1
PY
cat >"$T/course.json" <<JSON
{"state": "state",
 "webhooks": {"github": {"env": "GRADER_WEBHOOK_SECRET"}},
 "admin_token": {"env": "GRADER_ADMIN_TOKEN"},
 "queue": {"max": 100000, "per_student": 100000},
 "workers": $WORKERS,
 "assignments": [{"name": "ps1", "rubric": "$ROOT/rubrics/examples/ps1.json",
   "repository": "bench/ps1-{student}", "clone": "remote/{student}.git"}]}
JSON
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
user= weaker=
[ "$(id -u)" = 0 ] && user="--user nobody"
"$GRADER" doctor >/dev/null 2>&1 || weaker=--allow-weaker
"$GRADER" serve --config "$T/course.json" --listen "127.0.0.1:$PORT" $user $weaker 2>"$T/serve.log" &
PID=$!
/usr/bin/python3 - "$T" "$PORT" "$PID" "$P" "$D" "$DRAIN" <<'PY'
import hashlib, hmac, json, os, re, sqlite3, sys, time, urllib.request, urllib.error
t, port, pid, pushes, dur, drain = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
url = 'http://127.0.0.1:%d' % port
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
def get(path):
    return opener.open(urllib.request.Request(url + path, headers={'Authorization': 'Bearer bench-admin'}), timeout=10)
for _ in range(100):
    try:
        get('/healthz'); break
    except Exception:
        time.sleep(0.1)
def rss(p):
    try:
        for line in open('/proc/%d/status' % p):
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return float('nan')
def all_children(parent, grader_only=False):
    # the live children of parent (those running grader only, with grader_only)
    out = []
    for q in os.listdir('/proc'):
        if q.isdigit():
            try:
                st = open('/proc/%s/stat' % q).read()
            except OSError:
                continue
            if int(st.rsplit(')', 1)[1].split()[1]) == parent and (not grader_only or 'grader' in st):
                out.append(int(q))
    return out
def children(parent):
    return all_children(parent, grader_only=True)
def http_pid():
    # the HTTP side is the child running as the unprivileged user (or the first child)
    kids = children(pid)
    for k in kids:
        try:
            if os.stat('/proc/%d' % k).st_uid != 0:
                return k
        except OSError:
            pass
    return kids[0] if kids else None
TICK = float(os.sysconf('SC_CLK_TCK'))
def cpu_of(p, reaped=True):
    # seconds of CPU of p, and of its children it has reaped (reaped=True)
    try:
        f = open('/proc/%d/stat' % p).read().rsplit(')', 1)[1].split()
    except OSError:
        return 0.0
    return (int(f[11]) + int(f[12]) + ((int(f[13]) + int(f[14])) if reaped else 0)) / TICK
def tree_cpu(p):
    # CPU of p's whole live tree: a dead process counts in the one that reaped it
    return cpu_of(p) + sum(tree_cpu(k) for k in all_children(p))
def roles():
    # the grading side's children by what they logged: workers, the gradebook writer
    log = open(os.path.join(t, 'serve.log'), errors='replace').read()
    wk = set(int(m) for m in re.findall(r'\[(\d+)\] worker \d+: \S+: zygote warm', log))
    wr = set(int(m) for m in re.findall(r'\[(\d+)\] gradebook \S+: written', log))
    return wk, wr
def cpu_split():
    # CPU seconds so far: HTTP side, workers (with their zygotes and sandboxes), writer, the rest
    hp = http_pid()
    wk, wr = roles()
    out = {'http': 0.0, 'workers': 0.0, 'writer': 0.0}
    rest = cpu_of(pid, reaped=False)
    for k in all_children(pid):
        c = tree_cpu(k)
        if k == hp:
            out['http'] += c
        elif k in wk:
            out['workers'] += c
        elif k in wr:
            out['writer'] += c
        else:
            rest += c
    out['main'] = rest
    return out
def workers_rss():
    hp = http_pid()
    return sum(rss(k) for k in children(pid) if k != hp)
# the service is measured warm: each worker has started its zygote
t_warm = time.monotonic()
workers = int(os.environ.get('WORKERS', os.cpu_count() or 1))
while time.monotonic() - t_warm < 120:
    if open(os.path.join(t, 'serve.log'), errors='replace').read().count('zygote warm') >= workers:
        break
    time.sleep(0.2)
print('warm-up               %.1f s (%d workers start their zygotes)' % (time.monotonic() - t_warm, workers))
def loadavg():
    return ' '.join(open('/proc/loadavg').read().split()[:3])
load0 = loadavg()
cpu0 = cpu_split()
hp = http_pid()
rss0 = (rss(pid), rss(hp) if hp else float('nan'), workers_rss())
plan = [l.split() for l in open(os.path.join(t, 'plan.txt'))]
def push(student, sha, delivery):
    # the forge takes the push (main moves to sha), then sends its signed GitHub
    # webhook: (seconds until the answer was read, its body or None if refused)
    ref = os.path.join(t, 'remote', student + '.git', 'refs', 'heads', 'main')
    with open(ref + '.lock', 'w') as f:
        f.write(sha + '\n')
    os.rename(ref + '.lock', ref)
    body = json.dumps({'ref': 'refs/heads/main', 'after': sha,
                       'repository': {'full_name': 'bench/ps1-' + student}}).encode()
    sig = hmac.new(b'bench-secret', body, hashlib.sha256).hexdigest()
    req = urllib.request.Request(url + '/hooks/github', data=body, headers={
        'Content-Type': 'application/json', 'X-GitHub-Event': 'push',
        'X-GitHub-Delivery': delivery, 'X-Hub-Signature-256': 'sha256=' + sig})
    t0 = time.monotonic()
    try:
        answer = opener.open(req, timeout=10).read()
    except urllib.error.HTTPError as e:
        print('push %s refused: %d' % (delivery, e.code), file=sys.stderr)
        answer = None
    return time.monotonic() - t0, answer
lat, ids = [], []
# zip uploads (as grader submit sends them) at UPLOADS a second while the pushes come:
# each is unpacked by the HTTP side before its answer
import io, threading, zipfile
up_rate = float(os.environ.get('UPLOADS', '1'))
up_lat, up_stop = [], threading.Event()
zbuf = io.BytesIO()
with zipfile.ZipFile(zbuf, 'w', zipfile.ZIP_DEFLATED) as z:
    z.write(os.path.join(t, 'gen', 'bob', 'ps1', 'ps1.ipynb'), 'ps1/ps1.ipynb')
zdata = zbuf.getvalue()
def uploads():
    k = 0
    while up_rate > 0 and not up_stop.wait(1.0 / up_rate):
        s = plan[(k * 7) % len(plan)][0]
        b = 'bench-boundary-%d' % k
        parts = []
        for name, val in (('assignment', b'ps1'), ('student', s.encode())):
            parts.append(('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n' % (b, name)).encode() + val + b'\r\n')
        parts.append(('--%s\r\nContent-Disposition: form-data; name="file"; filename="ps1.zip"\r\n'
                      'Content-Type: application/zip\r\n\r\n' % b).encode() + zdata + b'\r\n')
        body = b''.join(parts) + ('--%s--\r\n' % b).encode()
        req = urllib.request.Request(url + '/api/v1/submissions', data=body, headers={
            'Authorization': 'Bearer bench-admin',
            'Content-Type': 'multipart/form-data; boundary=' + b})
        t1 = time.monotonic()
        try:
            opener.open(req, timeout=10).read()
        except urllib.error.HTTPError as e:
            print('upload %d refused: %d' % (k, e.code), file=sys.stderr)
        up_lat.append(time.monotonic() - t1)
        k += 1
up_thread = threading.Thread(target=uploads)
up_thread.start()
start = time.monotonic()
for i in range(pushes):
    due = start + i * dur / pushes
    now = time.monotonic()
    if due > now:
        time.sleep(due - now)
    s, sha = plan[i]
    took, answer = push(s, sha, 'bench-%d' % i)
    # a commit already queued or graded is acknowledged (200) and not queued
    if answer is not None and 'job' in json.loads(answer):
        ids.append(json.loads(answer)['job'])
    lat.append(took)
sent = time.monotonic() - start
load1 = loadavg()
up_stop.set()
up_thread.join()
db = sqlite3.connect(os.path.join(t, 'state', 'db', 'grader.sqlite'), timeout=30)
deadline = time.monotonic() + drain
while time.monotonic() < deadline:
    left = db.execute("select count(*) from jobs where state in ('queued','running')").fetchone()[0]
    if left == 0:
        break
    time.sleep(1)
rss1 = (rss(pid), rss(hp) if hp else float('nan'), workers_rss())
load2 = loadavg()
cpu1 = cpu_split()
rows = db.execute("select state, received, started, finished, kind from jobs").fetchall()
done = [r for r in rows if r[0] == 'done']
sup = sum(1 for r in rows if r[0] == 'superseded')
failed = sum(1 for r in rows if r[0] == 'failed')
left = sum(1 for r in rows if r[0] in ('queued', 'running'))
def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))] if v else float('nan')
p2r = [r[3] - r[1] for r in done if r[4] == 'push']
grade = [r[3] - r[2] for r in done]
span = (max(r[3] for r in done) - min(r[1] for r in done)) if done else float('nan')
print('load average (1 5 15) %s before the pushes, %s after them, %s after the drain (%d CPUs)'
      % (load0, load1, load2, os.cpu_count() or 1))
print('pushes sent           %d in %.1f s (%.1f/s), %d accepted' % (pushes, sent, pushes / sent, len(ids)))
print('webhook response      p50 %.1f ms  p95 %.1f ms  p99 %.1f ms' % tuple(1e3 * pct(lat, p) for p in (50, 95, 99)))
if up_lat:
    print('zip uploads           %d at %.1f/s meanwhile, response p50 %.1f ms  p99 %.1f ms'
          % (len(up_lat), up_rate, 1e3 * pct(up_lat, 50), 1e3 * pct(up_lat, 99)))
print('graded                %d (%.2f graded pushes/s sustained), %d superseded, %d failed, %d left after %.0f s drain' % (len(done), len(done) / span if done else 0, sup, failed, left, drain))
print('grading time          p50 %.2f s  p95 %.2f s' % (pct(grade, 50), pct(grade, 95)))
print('push to result        p50 %.2f s  p95 %.2f s  p99 %.2f s' % tuple(pct(p2r, p) for p in (50, 95, 99)))
print('RSS grading side      %.1f MB -> %.1f MB (its %d workers together: %.1f MB -> %.1f MB, zygotes not counted)' % (rss0[0], rss1[0], workers, rss0[2], rss1[2]))
print('RSS HTTP side         %.1f MB -> %.1f MB (ratio %.2f)' % (rss0[1], rss1[1], rss1[1] / rss0[1]))
cpu = dict((k, cpu1[k] - cpu0.get(k, 0.0)) for k in cpu1)
if done:
    print('CPU per graded job    %.3f s in all: workers %.3f (fetch, zygote children, store), gradebook writer %.3f, HTTP side %.3f, grading side loop %.3f'
          % (sum(cpu.values()) / len(done), cpu['workers'] / len(done), cpu['writer'] / len(done),
             cpu['http'] / len(done), cpu['main'] / len(done)))
    print('CPU over the run      %.1f s of %.1f s x %d CPUs (pushes sent to queue empty)'
          % (sum(cpu.values()), span, os.cpu_count() or 1))
print('superseded / accepted %.2f' % (sup / float(len(ids)) if ids else 0))
# where a job's time goes: the grading side logs each phase of every done job
phases = {k: [] for k in ('fetch', 'zygote', 'grade', 'store')}
for line in open(os.path.join(t, 'serve.log'), errors='replace'):
    m = re.search(r'done in [0-9.]+ s \(fetch ([0-9.]+), zygote ([0-9.]+), grade ([0-9.]+), '
                  r'store ([0-9.]+)\)', line)
    if m:
        for k, v in zip(phases, m.groups()):
            phases[k].append(float(v))
if phases['fetch']:
    print('job phases (p50/p95 s) ' + ', '.join('%s %.3f/%.3f' % (k, pct(v, 50), pct(v, 95))
                                          for k, v in phases.items()))
    print('zygote starts         %d (one per worker and rubric; the other jobs reuse one)'
          % sum(1 for v in phases['zygote'] if v > 0.05))
def journal_lines():
    try:
        return sum(1 for _ in open(os.path.join(t, 'state', 'gradebooks', 'ps1.json.journal'), 'rb'))
    except OSError:
        return 0
def gb_writes():
    out = []
    for line in open(os.path.join(t, 'serve.log'), errors='replace'):
        m = re.search(r'gradebook ps1: written in ([0-9.]+) s', line)
        if m:
            out.append(float(m.group(1)))
    return out
gbw = gb_writes()
if gbw:
    print('gradebook writes      %d (by the grading side, at most one a second), p50 %.2f s  p95 %.2f s  max %.2f s; journal %d lines'
          % (len(gbw), pct(gbw, 50), pct(gbw, 95), max(gbw), journal_lines()))
long_n = int(os.environ.get('LONG', '0'))
if long_n:
    hp = http_pid()
    seen, lat2, t0 = [rss(hp)], [], time.monotonic()
    for i in range(long_n):
        s, sha = plan[pushes + i]
        lat2.append(push(s, sha, 'long-%d' % i)[0])
        if (i + 1) % 1000 == 0:
            seen.append(rss(hp))
    el = time.monotonic() - t0
    n_jobs = db.execute('select count(*) from jobs').fetchone()[0]
    print('long run              %d pushes in %.0f s (%.0f/s), %d jobs in the database; webhook p50 %.1f ms p99 %.1f ms'
          % (long_n, el, long_n / el, n_jobs, 1e3 * pct(lat2, 50), 1e3 * pct(lat2, 99)))
    print('RSS HTTP side (MB)    ' + ' '.join('%.1f' % v for v in seen) + '  (every 1000 pushes; max %.1f)' % max(seen))
    print('RSS grading side      %.1f MB' % rss(pid))
    # the gradebook writer over the long run: its cost must follow the new results, not the journal
    deadline = time.monotonic() + drain
    while time.monotonic() < deadline:
        if db.execute("select count(*) from jobs where state in ('queued','running')").fetchone()[0] == 0:
            break
        time.sleep(1)
    w = gb_writes()[len(gbw):]
    if w:
        k = max(1, len(w) // 4)
        print('gradebook writes      %d during the long run: first %d p50 %.3f s, last %d p50 %.3f s; journal %d lines'
              % (len(w), k, pct(w[:k], 50), k, pct(w[-k:], 50), journal_lines()))
PY
