#!/bin/sh
# grader serve: a real server on 127.0.0.1 (HTTP side as 'nobody'), real bare
# repositories pushed with git, webhooks delivered with curl exactly as
# GitHub, GitLab and Gitea send them; scores compared with `grader grade` on
# the same commit; every bad delivery answered with a 4xx and nothing queued;
# `kill -9` with jobs queued and one running, then every job done exactly once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
T=$E2E_TMP
need_root "serve (the sandbox and --user need root)"
trap 'stop_server KILL; stop_receiver; rm -rf "$T"' EXIT

make_course "$T" alice bob carol || { fail "course setup"; finish; }
# a stand-in for the forge's statuses API and the course's callback URL, on loopback
FPORT=$(free_port)
receiver "$FPORT" "$T/calls.jsonl"
export GRADER_FORGE_TOKEN=forge-tok GRADER_CALLBACK_SECRET=cb-secret
/usr/bin/python3 - "$T/course.json" "$FPORT" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c['assignments'][0]['status'] = {'forge': 'github', 'api': 'http://127.0.0.1:%s' % sys.argv[2],
                                 'token': {'env': 'GRADER_FORGE_TOKEN'}}
c['callback'] = {'url': 'http://127.0.0.1:%s/hook' % sys.argv[2], 'secret': {'env': 'GRADER_CALLBACK_SECRET'}}
json.dump(c, open(sys.argv[1], 'w'), indent=1)
PY

# ---- the config -----------------------------------------------------------
check "check-config accepts the course" "$GRADER" serve --config "$T/course.json" --check-config
sed -e 's/"queue"/"qeueu"/' -e 's/GRADER_ADMIN_TOKEN/NO_SUCH_VAR_X/' \
	-e 's#"rubric": "[^"]*"#"rubric": "nope.json"#' "$T/course.json" >"$T/bad.json"
"$GRADER" serve --config "$T/bad.json" --check-config 2>"$T/bad.err"; rc=$?
cat "$T/bad.err"
check "check-config: exit 1 on problems" test $rc -eq 1
check "check-config: unknown key named" grep -q "config: unknown key 'qeueu'" "$T/bad.err"
check "check-config: unset variable named, no secret printed" \
	sh -c "grep -q \"admin_token: environment variable 'NO_SUCH_VAR_X' is not set\" '$T/bad.err' && ! grep -q s3cret '$T/bad.err'"
check "check-config: missing rubric named" grep -q "assignments\[0\].rubric: .*nope.json" "$T/bad.err"
check "check-config: one line per problem" test "$(wc -l <"$T/bad.err")" -eq 3
check "refuses to run the HTTP side as root" sh -c "! '$GRADER' serve --config '$T/course.json' 2>/dev/null"

start_server "$T" || { fail "server starts"; cat "$T/serve.log"; finish; }
pass "server starts"
check "HTTP side runs as nobody" sh -c "ps -o user= --ppid $SRV_PID | grep -qx nobody"
# students' work and grades are no other local account's
check "state folder: passed through only (0711)" test "$(stat -c %a "$T/state")" = 711
check "submitted: root's alone (0700); gradebooks: read by the HTTP side's group (0750)" test "$(stat -c '%a %U %G' "$T/state/submitted" "$T/state/gradebooks" | tr '\n' ' ')" = "700 root root 750 root $(id -gn nobody) "
check "the database's folder and file: the HTTP side's alone" test "$(stat -c '%a %U' "$T/state/db" "$T/state/db/grader.sqlite" | tr '\n' ' ')" = "700 nobody 600 nobody "
check "another local account reads no submission or gradebook" sh -c "! su -s /bin/sh daemon -c 'ls \"$T/state/submitted\" || ls \"$T/state/gradebooks\" || cat \"$T/state/db/grader.sqlite\"' 2>/dev/null"

# ---- a GitHub push is graded like `grader grade` grades that commit ----------
c1=$(push_nb "$T" alice alice 2026-10-29T10:00:00Z)
github_body "$T/p1.json" course/ps1-alice refs/heads/main "$c1"
code=$(deliver github "$T/p1.json" gh-1)
check "github push: 202" test "$code" = 202
job1=$(json_get "$T/resp" '["job"]')
check "github push: job done" test "$(wait_job "$job1")" = done
cp "$T/resp" "$T/job1.json"
check "job records the commit" test "$(json_get "$T/job1.json" '["commit"]')" = "$c1"
mkdir -p "$T/ref/alice/ps1" && git -C "$T/work/alice" archive "$c1" | tar -x -C "$T/ref/alice/ps1"
"$GRADER" grade --rubric "$ROOT/rubrics/examples/ps1.json" --submissions "$T/ref" \
	-o "$T/ref.json" -j 1 >/dev/null 2>&1
want=$(json_get "$T/ref.json" '["submissions"][0]["raw_score"]')
got=$(json_get "$T/job1.json" '["submission"]["raw_score"]')
check "same raw score as grader grade ($got = $want)" test -n "$want" -a "$got" = "$want"
check "late by receive time, not the commit date" /usr/bin/python3 -c "
import json,sys; s=json.load(open('$T/job1.json'))['submission']
sys.exit(not (s['late_seconds'] > 86400*20 and s['timestamp'] > '2026-11'))"

# ---- commit status and the course's callback --------------------------------------
i=0; while [ $i -lt 50 ] && [ "$(grep -c . "$T/calls.jsonl" 2>/dev/null)" -lt 2 ]; do sleep 0.1; i=$((i + 1)); done
check "commit status set on the forge" /usr/bin/python3 -c "
import json,sys; c=[json.loads(l) for l in open('$T/calls.jsonl')]
s=[x for x in c if x['path']=='/repos/course/ps1-alice/statuses/$c1']
b=json.loads(s[0]['body']) if s else {}
sys.exit(not (s and s[0]['auth']=='Bearer forge-tok' and b['state']=='success' and b['context']=='grader'))"
check "callback signed with the course's secret" /usr/bin/python3 -c "
import hashlib,hmac,json,sys; c=[json.loads(l) for l in open('$T/calls.jsonl') if '\"/hook\"' in l]
x=c[0]; b=json.loads(x['body'])
want='sha256='+hmac.new(b'cb-secret', x['body'].encode(), hashlib.sha256).hexdigest()
sys.exit(not (x['sig']==want and b['job']==$job1 and b['state']=='done' and 'score' in b))"

# ---- bad deliveries: a 4xx each, nothing queued --------------------------------
n0=$(jobs_count "$T")
check "replayed delivery: 409" test "$(deliver github "$T/p1.json" gh-1)" = 409
check "no signature: 401" test "$(deliver github "$T/p1.json" gh-2 '')" = 401
check "wrong signature: 401" test "$(deliver github "$T/p1.json" gh-3 wrong)" = 401
check "gitlab wrong token: 401" test "$(deliver gitlab "$T/p1.json" gl-x wrong)" = 401
check "gitea wrong signature: 401" test "$(deliver gitea "$T/p1.json" gt-x wrong)" = 401
head -c 1100000 /dev/zero | tr '\0' ' ' >"$T/big.json"
check "body over 1 MiB: 413" test "$(deliver github "$T/big.json" gh-4)" = 413
head -c 60 "$T/p1.json" >"$T/trunc.json"
check "truncated JSON: 400" test "$(deliver github "$T/trunc.json" gh-5)" = 400
check "truncated JSON: error says so" grep -q 'malformed JSON' "$T/resp"
github_body "$T/unk.json" course/ps9-alice refs/heads/main "$c1"
check "unknown repository: 404" test "$(deliver github "$T/unk.json" gh-6)" = 404
github_body "$T/nos.json" course/ps1-mallory refs/heads/main "$c1"
check "student not in the roster: 404" test "$(deliver github "$T/nos.json" gh-7)" = 404
github_body "$T/del.json" course/ps1-alice refs/heads/main 0000000000000000000000000000000000000000
check "push deleting the branch: 422" test "$(deliver github "$T/del.json" gh-8)" = 422
github_body "$T/dev.json" course/ps1-alice refs/heads/dev "$c1"
check "push to another branch: acknowledged" test "$(deliver github "$T/dev.json" gh-9)" = 202
check "push to another branch: ignored" grep -q '"ignored"' "$T/resp"
check "ping: 200" test "$(deliver github "$T/p1.json" gh-10 "$GRADER_WEBHOOK_SECRET" ping)" = 200
check "results without a token: 401" test "$(api /api/v1/results/ps1/alice '')" = 401
check "results with a wrong token: 401" test "$(api /api/v1/results/ps1/alice wrong)" = 401
check "unknown job: 404" test "$(api /api/v1/jobs/999999)" = 404
check "unknown assignment: 404" test "$(api /api/v1/results/ps9/alice)" = 404
check "nothing queued by bad deliveries" test "$(jobs_count "$T")" = "$n0"
check "no secret in the log" sh -c "! grep -q -e s3cret -e admin-tok '$T/serve.log'"
check "one log line per request" grep -q 'POST /hooks/github 401' "$T/serve.log"

# ---- GitLab and Gitea ------------------------------------------------------------
c2=$(push_nb "$T" bob bob 2026-10-29T11:00:00Z)
gitlab_body "$T/p2.json" course/ps1-bob refs/heads/main "$c2"
check "gitlab push: 202" test "$(deliver gitlab "$T/p2.json" gl-1)" = 202
job2=$(json_get "$T/resp" '["job"]')
c3=$(push_nb "$T" carol carol 2026-10-29T12:00:00Z)
github_body "$T/p3.json" course/ps1-carol refs/heads/main "$c3"
check "gitea push: 202" test "$(deliver gitea "$T/p3.json" gt-1)" = 202
job3=$(json_get "$T/resp" '["job"]')
check "gitlab job done" test "$(wait_job "$job2")" = done
cp "$T/resp" "$T/job2.json"
check "gitea job done" test "$(wait_job "$job3")" = done
check "results: 200" test "$(api /api/v1/results/ps1/bob)" = 200
check "results: the student's newest" test "$(json_get "$T/resp" '["commit"]')" = "$c2"
check "gradebook over the API" test "$(api /api/v1/assignments/ps1/gradebook)" = 200
cp "$T/resp" "$T/gb-api.json"
check "gradebook is grader's own" cmp -s "$T/gb-api.json" "$T/state/gradebooks/ps1.json"
"$GRADER" export "$T/state/gradebooks/ps1.json" --to csv -o "$T/grades.csv" 2>"$T/export.err"
check "export over the API: csv" test "$(api '/api/v1/assignments/ps1/export?to=csv')" = 200
check "export over the API: same csv as grader export" cmp -s "$T/resp" "$T/grades.csv"
check "export over the API: nbgrader-db" sh -c "test \"\$($CURL -o '$T/gb.db' -w '%{http_code}' -H 'Authorization: Bearer $GRADER_ADMIN_TOKEN' 'http://127.0.0.1:$SRV_PORT/api/v1/assignments/ps1/export?to=nbgrader-db')\" = 200 && sqlite3 '$T/gb.db' 'select count(*) from submitted_assignment' | grep -qx 3"
check "export over the API: unknown format 400" test "$(api '/api/v1/assignments/ps1/export?to=pdf')" = 400
cat "$T/export.err"
check "grader export reads it unchanged" grep -q ',bob,' "$T/grades.csv"

# ---- student tokens: their own results only, hidden tests' output withheld ------
ALICE=alice-token-0123456789 BOB=bob-token-0123456789abc
check "student token: own result" test "$(api /api/v1/results/ps1/alice "$ALICE")" = 200
check "student view: hidden tests' output withheld" /usr/bin/python3 -c "
import json,sys; s=json.load(open('$T/resp'))['submission']
g=[g for n in s['notebooks'] for g in n['grades'] if g.get('hidden_tests')]
sys.exit(not g or any('output' in x for x in g))"
check "student view: a hidden cell's exception by name only, and why the rest is withheld" /usr/bin/python3 -c "
import json,sys; s=json.load(open('$T/resp'))['submission']
g=[g for n in s['notebooks'] for g in n['grades'] if g.get('hidden_tests')]
sys.exit(not g or not all('hidden tests' in x['withheld'] and ':' not in x.get('error', '') for x in g))"
check "student view: the cells after a hidden test's withheld too, the ones before kept" /usr/bin/python3 -c "
import json,sys; s=json.load(open('$T/resp'))['submission']
g=[g for n in s['notebooks'] for g in n['grades']]
h=[i for i,x in enumerate(g) if x.get('hidden_tests')][0]
after=[x for x in g[h+1:] if not x.get('hidden_tests') and x.get('status') not in ('manual',)]
before=[x for x in g[:h] if 'output' in x]
sys.exit(not after or not before or not all('ran after' in x.get('withheld', '') and 'output' not in x for x in after))"
check "student view: no time on a withheld cell (student code chooses it), kept on the others" /usr/bin/python3 -c "
import json,sys; s=json.load(open('$T/resp'))['submission']
g=[g for n in s['notebooks'] for g in n['grades']]
w=[x for x in g if 'withheld' in x]; shown=[x for x in g if 'withheld' not in x and 'time' in x]
sys.exit(not w or not shown or any('time' in x for x in w))"
check "another student's result: 403" test "$(api /api/v1/results/ps1/alice "$BOB")" = 403
check "another student's job: 403" test "$(api "/api/v1/jobs/$job2" "$ALICE")" = 403
check "gradebook with a student token: 403" test "$(api /api/v1/assignments/ps1/gradebook "$ALICE")" = 403

# ---- uploads and grader submit -----------------------------------------------------
URL=http://127.0.0.1:$SRV_PORT
n0=$(jobs_count "$T")
up() { # up TOKEN FIELD...: POST a form to /api/v1/submissions, print the status
	tok=$1; shift
	$CURL -o "$T/resp" -w '%{http_code}' -H "Authorization: Bearer $tok" "$@" "$URL/api/v1/submissions"
}
check "upload without a token: 401" test "$(up none -F assignment=ps1 -F "file=@$T/gen/bob/ps1/ps1.ipynb")" = 401
check "upload to an unknown assignment: 404" test "$(up "$BOB" -F assignment=ps9 -F "file=@$T/gen/bob/ps1/ps1.ipynb")" = 404
(cd "$T/gen/bob/ps1" && tar czf "$T/work.tar.gz" ps1.ipynb)
check "upload of a tar archive: 415" test "$(up "$BOB" -F assignment=ps1 -F "file=@$T/work.tar.gz")" = 415
check "upload for another student: 403" test "$(up "$BOB" -F assignment=ps1 -F student=alice -F "file=@$T/gen/bob/ps1/ps1.ipynb")" = 403
check "upload without a file: 400" test "$(up "$BOB" -F assignment=ps1)" = 400
check "refused uploads queue nothing" test "$(jobs_count "$T")" = "$n0"
GRADER_TOKEN=$BOB "$GRADER" submit --server "$URL" --assignment ps1 "$T/gen/bob/ps1/ps1.ipynb" \
	>"$T/submit.out" 2>"$T/submit.err"; rc=$?
cat "$T/submit.out" "$T/submit.err"
check "grader submit: graded" test $rc -eq 0
check "grader submit: per-question table" grep -q '^test_squares ' "$T/submit.out"
want=$(json_get "$T/job2.json" '["submission"]["score"]')
check "grader submit: same score as bob's push ($want)" grep -q "^score $want of" "$T/submit.out"
GRADER_TOKEN=$BOB "$GRADER" submit --server "$URL" --assignment ps9 "$T/gen/bob/ps1/ps1.ipynb" \
	>/dev/null 2>"$T/submit.err"; rc=$?
check "grader submit: refusal explained" sh -c "test $rc -eq 1 && grep -q 'refused (404)' '$T/submit.err'"

# ---- /metrics and the instructor's page ----------------------------------------------
$CURL -o "$T/metrics" "$URL/metrics"
check "metrics: queue depth" grep -q '^grader_queue_depth 0$' "$T/metrics"
check "metrics: jobs by outcome" grep -q '^grader_jobs{state="done"} 4$' "$T/metrics"
check "metrics: push-to-result histogram" grep -q '^grader_push_to_result_seconds_count 4$' "$T/metrics"
check "metrics: grading histogram buckets" grep -q '^grader_grading_seconds_bucket{le="+Inf"} 4$' "$T/metrics"
code=$($CURL -o /dev/null -w '%{http_code}' -D "$T/hdr" "$URL/")
check "page without the token: 401 asking for it" sh -c "test $code = 401 && grep -qi '^WWW-Authenticate: Basic' '$T/hdr'"
code=$($CURL -o "$T/page.html" -w '%{http_code}' -u "instructor:$GRADER_ADMIN_TOKEN" "$URL/")
check "page with the token: 200" test "$code" = 200
check "page lists the recent jobs" grep -q 'Recent jobs' "$T/page.html"
check "page shows no student code" sh -c "! grep -q -e 'def squares' -e 'return' '$T/page.html'"

# ---- kill -9 with jobs queued and one running: each job runs exactly once -----------
# dave's notebook loops until the cell's time limit: each job runs for seconds
ids=
for s in alice bob carol; do
	c=$(push_nb "$T" $s dave 2026-10-29T13:00:00Z)
	github_body "$T/k.json" "course/ps1-$s" refs/heads/main "$c"
	deliver github "$T/k.json" "kill-$s" >/dev/null
	ids="$ids $(json_get "$T/resp" '["job"]')"
done
i=0
while [ $i -lt 300 ] && [ "$(sqlite3 "$T/state/db/grader.sqlite" "select count(*) from jobs where state='running'")" = 0 ]; do
	sleep 0.1; i=$((i + 1))
done
stop_server KILL
running=$(sqlite3 "$T/state/db/grader.sqlite" "select count(*) from jobs where state='running'")
queued=$(sqlite3 "$T/state/db/grader.sqlite" "select count(*) from jobs where state='queued'")
check "killed with jobs running and the rest queued ($running, $queued)" test "$running" -ge 1 -a "$queued" -ge 1
start_server "$T" || fail "server restarts"
for id in $ids; do
	check "job $id done after the restart" test "$(wait_job "$id")" = done
done
check "restart requeued the running job" grep -q 'left running by an earlier run queued again' "$T/serve.log"
for id in $ids; do
	check "job $id finished exactly once" test "$(grep -c "job $id: .*: done in" "$T/serve.log")" = 1
done
# the gradebook file is written from the journal by the grading side: a read brings it up to date
check "gradebook over the API: 200" test "$(api /api/v1/assignments/ps1/gradebook)" = 200
check "gradebook holds each student once" /usr/bin/python3 -c "
import json,sys; g=json.load(open('$T/state/gradebooks/ps1.json'))
ids=[s['student_id'] for s in g['submissions']]; sys.exit(sorted(ids)!=['alice','bob','carol'])"

# ---- a repository that disappears: that job fails with the reason, the next one runs ----
c=$(push_nb "$T" carol carol 2026-10-29T14:00:00Z)
mv "$T/remote/carol.git" "$T/remote/carol.gone"
github_body "$T/g.json" course/ps1-carol refs/heads/main "$c"
deliver github "$T/g.json" gone-1 >/dev/null
jg=$(json_get "$T/resp" '["job"]')
check "vanished repository: job failed" test "$(wait_job "$jg")" = failed
check "vanished repository: the reason" grep -q 'cannot fetch' "$T/resp"
i=0; while [ $i -lt 50 ] && ! grep -q "statuses/$c" "$T/calls.jsonl"; do sleep 0.1; i=$((i + 1)); done
check "vanished repository: commit status error" grep -q "statuses/$c\".*state.*error" "$T/calls.jsonl"
mv "$T/remote/carol.gone" "$T/remote/carol.git"
# the same commit in another push (its body the same would be a replay)
sed 's/"pusher": {"name": "student"}/"pusher": {"name": "carol"}/' "$T/g.json" >"$T/g2.json"
deliver github "$T/g2.json" gone-2 >/dev/null
check "the service goes on" test "$(wait_job "$(json_get "$T/resp" '["job"]')")" = done

# ---- SIGHUP reloads the config; a broken one is refused and the old one kept ----------
sed 's#"course/ps1-{student}"#"course2/ps1-{student}"#' "$T/course.json" >"$T/new.json"
cp "$T/course.json" "$T/old.json" && cp "$T/new.json" "$T/course.json"
ready=$(grep -c 'HTTP side ready' "$T/serve.log")
kill -HUP "$SRV_PID"
i=0; while [ $i -lt 100 ] && [ "$(grep -c 'HTTP side ready' "$T/serve.log")" = "$ready" ]; do
	sleep 0.1; i=$((i + 1))
done
check "SIGHUP: reloaded" grep -q "config '.*course.json' reloaded" "$T/serve.log"
# new commits: a commit graded already is acknowledged, not queued again
c1=$(push_nb "$T" alice alice 2026-10-29T15:00:00Z)
github_body "$T/h.json" course2/ps1-alice refs/heads/main "$c1"
check "SIGHUP: the new config is used" test "$(deliver github "$T/h.json" hup-1)" = 202
echo '{"broken": ' >"$T/course.json"
kill -HUP "$SRV_PID"
i=0; while [ $i -lt 100 ] && ! grep -q 'reload refused' "$T/serve.log"; do sleep 0.1; i=$((i + 1)); done
check "SIGHUP: a broken config is refused" grep -q 'reload refused, keeping the running config' "$T/serve.log"
c2=$(push_nb "$T" bob bob 2026-10-29T15:00:00Z)
github_body "$T/h.json" course2/ps1-bob refs/heads/main "$c2"
check "SIGHUP: the running config kept" test "$(deliver github "$T/h.json" hup-2)" = 202
cp "$T/old.json" "$T/course.json"

stop_server TERM
check "SIGTERM: clean stop" grep -q 'stopping: queued jobs stay queued' "$T/serve.log"
check "no sanitizer report from the service" sh -c "! grep -q -e 'Sanitizer' -e 'runtime error' '$T/serve.log'"
finish
