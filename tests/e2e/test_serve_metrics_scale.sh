#!/bin/sh
# grader serve's /metrics over a term of jobs: its figures (jobs by state,
# the grading and push-to-result histograms) are kept by the database as jobs
# change, not counted by a scan of every job at each refill, and they stay
# true: a database of an earlier version is counted once when the service
# opens it, rows written while it runs (by the service or by hand) move them,
# and every bucket matches a scan of the table. A signed push during a
# /metrics poll loop is answered and graded.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
T=$E2E_TMP
need_root "grader serve (--user needs root)"
trap 'kill $POLL 2>/dev/null; stop_server KILL; rm -rf "$T"' EXIT
POLL=
DB=$T/state/db/grader.sqlite

make_course "$T" alice || { fail "course setup"; finish; }
start_server "$T" || { fail "server starts"; cat "$T/serve.log"; finish; }
stop_server TERM
# rows N FIRST: N finished jobs (done with varied times, some failed or superseded, a few
# done without a finish time), ids from FIRST
rows() {
	/usr/bin/python3 - "$DB" "$1" "$2" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
n, first = int(sys.argv[2]), int(sys.argv[3])
def row(i):
    rec = 1.7e9 + i
    st = rec + (i % 7) * 0.2
    fin = st + (i % 11) * 0.35
    state = 'failed' if i % 97 == 0 else 'superseded' if i % 89 == 0 else 'done'
    return (i, rec, state, st, None if i % 1009 == 0 else fin)
c.executemany("INSERT INTO jobs(id, assignment, student, kind, received, state, started, finished, score) "
              "VALUES(?, 'ps1', 'alice', 'upload', ?, ?, ?, ?, 1)", [row(i) for i in range(first, first + n)])
c.commit()
PY
}
# a database of an earlier version: the figures' tables and triggers not there yet
sqlite3 "$DB" "DROP TRIGGER job_stats_insert; DROP TRIGGER job_stats_delete; DROP TRIGGER job_stats_update;
	DROP TABLE job_counts; DROP TABLE job_hist; DROP TABLE job_sums;"
rows 100000 1
start_server "$T" || { fail "server restarts"; cat "$T/serve.log"; finish; }
URL=http://127.0.0.1:$SRV_PORT

# same: every figure of /metrics equals a scan of the jobs table (polled a few
# seconds, as an answer may be a second old); prints the first difference
same() {
	/usr/bin/python3 - "$DB" "$URL/metrics" <<'PY'
import re, sqlite3, sys, time, urllib.request
db, url = sys.argv[1], sys.argv[2]
le = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300]
def scan():
    c = sqlite3.connect(db)
    want = {}
    for st, n in c.execute("SELECT state, count(*) FROM jobs GROUP BY state"):
        want['grader_jobs{state="%s"}' % st] = n
    want['grader_queue_depth'] = want.get('grader_jobs{state="queued"}', 0)
    for name, expr in (('grader_grading_seconds', 'finished-started'),
                       ('grader_push_to_result_seconds', 'finished-received')):
        vals = [v or 0.0 for (v,) in c.execute(
            "SELECT %s FROM jobs WHERE state='done' AND finished IS NOT NULL" % expr)]
        for b in le:
            want['%s_bucket{le="%g"}' % (name, b)] = sum(1 for v in vals if v <= b)
        want['%s_count' % name] = len(vals)
        want['%s_sum' % name] = sum(vals)
    return want
diff = 'no answer'
for k in range(40):
    want = scan()
    got = {}
    for line in urllib.request.urlopen(url, timeout=20).read().decode().splitlines():
        m = re.match(r'^(\S+) (\S+)$', line)
        if m and not line.startswith('#'):
            got[m.group(1)] = float(m.group(2))
    diff = None
    for key, v in want.items():
        g = got.get(key)
        if g is None or abs(g - v) > 1e-6 * max(1.0, abs(v)):
            diff = '%s: %s, a scan says %s' % (key, g, v)
            break
    if not diff:
        print('same over %d jobs' % want['grader_jobs{state="done"}'])
        sys.exit(0)
    time.sleep(0.25)
print(diff)
sys.exit(1)
PY
}
check "an earlier database's 100 000 jobs counted once at the start: every figure true" same
# rows written by hand while the service runs move the figures
rows 2000 100001
check "rows written while it runs move the figures" same
sqlite3 "$DB" "DELETE FROM jobs WHERE id BETWEEN 100001 AND 100500;
	UPDATE jobs SET state='failed' WHERE id BETWEEN 100501 AND 100600;"
check "rows deleted or changed move them back" same
# the answer is the kept figures, not a scan: a counter changed by hand shows as it is
sqlite3 "$DB" "UPDATE job_counts SET n=n+1000000 WHERE state='superseded'"
i=0; while [ $i -lt 40 ] && ! $CURL "$URL/metrics" | grep -q '^grader_jobs{state="superseded"} 10[0-9]\{5\}$'; do sleep 0.25; i=$((i + 1)); done
check "/metrics reads the kept figures, it does not count the jobs" \
	sh -c "$CURL '$URL/metrics' | grep -q '^grader_jobs{state=\"superseded\"} 10[0-9]\{5\}\$'"
sqlite3 "$DB" "UPDATE job_counts SET n=n-1000000 WHERE state='superseded'"

# four clients poll /metrics and /healthz without pause; a signed push meanwhile
/usr/bin/python3 - "$URL" "$T/polls" <<'PY' &
import sys, threading, time, urllib.request
url, out = sys.argv[1], sys.argv[2]
n, stop = [0], time.time() + 60
def loop(path):
    while time.time() < stop:
        try:
            urllib.request.urlopen(url + path, timeout=20).read()
            n[0] += 1
        except OSError:
            pass
ts = [threading.Thread(target=loop, args=(p,)) for p in ('/metrics', '/metrics', '/metrics', '/healthz')]
for t in ts: t.start()
time.sleep(3)
open(out, 'w').write('%d\n' % n[0])
for t in ts: t.join()
PY
POLL=$!
i=0; while [ $i -lt 100 ] && [ ! -s "$T/polls" ]; do sleep 0.1; i=$((i + 1)); done
c1=$(push_nb "$T" alice alice 2026-10-29T10:00:00Z)
github_body "$T/p.json" course/ps1-alice refs/heads/main "$c1"
code=$(deliver github "$T/p.json" metrics-1)
check "a signed push while /metrics is polled ($(cat "$T/polls") answers in 3 s): 202" test "$code" = 202
job=$(json_get "$T/resp" '["job"]' 2>/dev/null)
check "... and graded" test "$(wait_job "$job")" = done
kill "$POLL" 2>/dev/null; wait "$POLL" 2>/dev/null; POLL=
check "the graded push is in the figures, still true" same
stop_server TERM
check "no sanitizer report from the service" sh -c "! grep -q -e 'Sanitizer' -e 'runtime error' '$T/serve.log'"
finish
