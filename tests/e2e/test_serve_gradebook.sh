#!/bin/sh
# grader serve's gradebook file: written by the grading side from the journal
# (not inside a student's job), brought up to date when the API reads it,
# caught up after `kill -9` and at SIGTERM, listing the roster's students who
# never pushed as missing; `grader export` reads it unchanged. A request
# waiting for it holds its own connection thread: webhooks are answered
# meanwhile.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
T=$E2E_TMP
need_root "grader serve's gradebook (the sandbox needs root)"
trap 'stop_server KILL; [ -n "${LOCK_PID:-}" ] && kill "$LOCK_PID" 2>/dev/null; rm -rf "$T"' EXIT
DB=$T/state/db/grader.sqlite
GB=$T/state/gradebooks/ps1.json

serve_course "$T" alice bob carol dave

# gb_row FILE STUDENT: "status score" of the student's row in gradebook FILE
gb_row() {
	/usr/bin/python3 -c "
import json,sys
try: g=json.load(open(sys.argv[1]))
except Exception: sys.exit(0)
for s in g['submissions']:
    if s['student_id']==sys.argv[2]: print(s['status'], s['score'])" "$1" "$2"
}
# job_score ID: the job's score as the API gives it
job_score() { api "/api/v1/jobs/$1" >/dev/null; json_get "$T/resp" '["submission"]["score"]'; }
# push_wait STUDENT SCENARIO DELIVERY: push, deliver, wait; prints the job id
push_wait() {
	c=$(push_nb "$T" "$1" "$2" 2026-10-29T10:00:00Z)
	github_body "$T/p.json" "course/ps1-$1" refs/heads/main "$c"
	deliver github "$T/p.json" "$3" >/dev/null
	j=$(json_get "$T/resp" '["job"]')
	[ "$(wait_job "$j")" = done ] && echo "$j"
}

# ---- a job's result does not wait for the gradebook; a read brings it up to date ----
ja=$(push_wait alice alice gb-1)
check "alice's push graded" test -n "$ja"
check "the job itself writes no gradebook" sh -c "! grep -q 'job $ja: .*gradebook' '$T/serve.log'"
check "gradebook over the API: 200" test "$(api /api/v1/assignments/ps1/gradebook)" = 200
cp "$T/resp" "$T/gb1.json"
sa=$(job_score "$ja")
check "the API's gradebook holds alice's result" test "$(gb_row "$T/gb1.json" alice)" = "graded $sa"
check "roster students who never pushed: missing" test "$(gb_row "$T/gb1.json" dave | cut -d' ' -f1)" = missing
check "the gradebook file is what the API sent" cmp -s "$T/gb1.json" "$GB"
check "the grading side wrote it" grep -q 'gradebook ps1: written in' "$T/serve.log"
"$GRADER" export "$GB" --to csv -o "$T/grades.csv" 2>"$T/export.err"
check "export over the API: 200" test "$(api '/api/v1/assignments/ps1/export?to=csv')" = 200
check "export over the API: the same csv as grader export" cmp -s "$T/resp" "$T/grades.csv"

# ---- a request waiting for the gradebook does not hold up webhooks ------------------
# the test holds the lock the grading side takes to write the gradebook, and
# restarts the service, which writes it when it starts (a job finished since)
/usr/bin/python3 -c '
import fcntl, os, sys, time
f = open(sys.argv[1], "a"); fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close(); time.sleep(60)' "$GB.lock" "$T/locked" &
LOCK_PID=$!
i=0; while [ $i -lt 100 ] && [ ! -e "$T/locked" ]; do sleep 0.1; i=$((i + 1)); done
check "the test holds the gradebook's lock" test -e "$T/locked"
stop_server KILL
start_server "$T" || fail "server restarts"
$CURL -o "$T/gb-wait.json" -w '%{http_code}' -H "Authorization: Bearer $GRADER_ADMIN_TOKEN" \
	"http://127.0.0.1:$SRV_PORT/api/v1/assignments/ps1/gradebook" >"$T/gb-wait.code" &
GET_PID=$!
i=0; while [ $i -lt 100 ] && ! sqlite3 "$DB" "select 1 from gradebooks where wanted>written" | grep -q 1; do
	sleep 0.1; i=$((i + 1))
done
check "the gradebook request waits for the file" sh -c "sqlite3 '$DB' 'select 1 from gradebooks where wanted>written' | grep -q 1 && kill -0 $GET_PID"
c=$(push_nb "$T" bob bob 2026-10-29T10:00:00Z)
github_body "$T/p.json" course/ps1-bob refs/heads/main "$c"
check "a webhook is answered meanwhile: 202" test "$(deliver github "$T/p.json" gb-2)" = 202
jb=$(json_get "$T/resp" '["job"]')
check "health is answered meanwhile" test "$(api /healthz)" = 200
check "the gradebook request was still waiting" kill -0 "$GET_PID"
kill "$LOCK_PID" 2>/dev/null
wait "$LOCK_PID" 2>/dev/null
LOCK_PID=
wait "$GET_PID"
check "then the gradebook is sent: 200" test "$(cat "$T/gb-wait.code")" = 200
check "bob's push graded" test "$(wait_job "$jb")" = done

# ---- kill -9 after a job is done: the gradebook catches up after the restart -------
jc=$(push_wait carol carol gb-3)
check "carol's push graded" test -n "$jc"
sc=$(job_score "$jc")
sb=$(job_score "$jb")
stop_server KILL
start_server "$T" || fail "server restarts"
i=0; while [ $i -lt 300 ] && [ "$(gb_row "$GB" carol)" != "graded $sc" ]; do sleep 0.1; i=$((i + 1)); done
check "after kill -9 the file catches up without a read (carol)" test "$(gb_row "$GB" carol)" = "graded $sc"
check "after kill -9 the file catches up without a read (bob)" test "$(gb_row "$GB" bob)" = "graded $sb"

# ---- a request row from the future (the HTTP side may write that table) -----------
# the grading side answers it once, rather than writing the gradebook in a loop
sqlite3 "$DB" "update gradebooks set wanted=wanted+1e9 where assignment='ps1'"
i=0; while [ $i -lt 100 ] && ! grep -q 'a request from the future ignored' "$T/serve.log"; do
	sleep 0.1; i=$((i + 1))
done
sleep 1 # a writer looping on it would have logged again by now
check "a request from the future is answered once" test "$(grep -c 'a request from the future ignored' "$T/serve.log")" = 1

# ---- SIGTERM: the file holds every job done ----------------------------------------
ja2=$(push_wait alice bob gb-4)
check "alice's second push graded" test -n "$ja2"
sa2=$(job_score "$ja2")
stop_server TERM
check "SIGTERM: clean stop" grep -q 'stopping: queued jobs stay queued' "$T/serve.log"
check "SIGTERM: the file holds the last result" test "$(gb_row "$GB" alice)" = "graded $sa2"
check "SIGTERM: every student once" /usr/bin/python3 -c "
import json,sys; g=json.load(open('$GB'))
ids=[s['student_id'] for s in g['submissions']]; sys.exit(sorted(ids)!=['alice','bob','carol','dave'])"
check "grader export reads it" "$GRADER" export "$GB" --to csv -o "$T/grades2.csv"
check "no sanitizer report from the service" sh -c "! grep -q -e 'Sanitizer' -e 'runtime error' '$T/serve.log'"
finish
