#!/bin/sh
# The course's callback survives a crash: a job finishes while the receiver
# is down, its call stays pending in the state database, the service is
# killed with kill -9 and started again, and the receiver, now up, gets
# exactly one delivery with a valid signature. A call row the grading side
# did not write (as a compromised HTTP side could) is never sent.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
T=$E2E_TMP
need_root "grader serve (the sandbox needs root)"
trap 'stop_server KILL; stop_receiver; rm -rf "$T"' EXIT
DB=$T/state/db/grader.sqlite

make_course "$T" alice bob carol || { fail "course setup"; finish; }
RPORT=$(free_port)
export GRADER_CALLBACK_SECRET=cb-secret-2
/usr/bin/python3 - "$T/course.json" "$RPORT" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c['callback'] = {'url': 'http://127.0.0.1:%s/hook' % sys.argv[2], 'secret': {'env': 'GRADER_CALLBACK_SECRET'}}
json.dump(c, open(sys.argv[1], 'w'), indent=1)
PY
start_server "$T" || { fail "server starts"; cat "$T/serve.log"; finish; }
c1=$(push_nb "$T" alice alice 2026-10-29T10:00:00Z)
github_body "$T/p.json" course/ps1-alice refs/heads/main "$c1"
deliver github "$T/p.json" cb-1 >/dev/null
job=$(json_get "$T/resp" '["job"]')
check "graded while the receiver is down" test "$(wait_job "$job")" = done
i=0; while [ $i -lt 100 ] && ! grep -q "job $job: callback not delivered (try 1" "$T/serve.log"; do
	sleep 0.1; i=$((i + 1))
done
check "the first try failed and was logged" grep -q "job $job: callback not delivered (try 1, again in" "$T/serve.log"
check "the call is pending in the database" test "$(sqlite3 "$DB" "select state from calls where job=$job")" = pending
# a row the grading side did not write: what a compromised HTTP side might insert
sqlite3 "$DB" "insert into calls(job, kind, body, mac, next_try) values($job, 'callback', '{\"job\":$job,\"state\":\"done\",\"score\":99}', 'forged', 0)"
stop_server KILL
check "still pending after kill -9" test "$(sqlite3 "$DB" "select count(*) from calls where job=$job and state='pending'")" = 2

# the receiver comes up; the service starts again
receiver "$RPORT" "$T/got.jsonl" 204
start_server "$T" || { fail "server restarts"; cat "$T/serve.log"; finish; }
# the retry comes after its backoff (a few seconds)
i=0; while [ $i -lt 300 ] && [ "$(sqlite3 "$DB" "select count(*) from calls where job=$job and state='pending'")" != 0 ]; do
	sleep 0.1; i=$((i + 1))
done
sleep 2 # a second delivery, if there were one, would have come by now
check "the receiver got exactly one delivery" test "$(grep -c . "$T/got.jsonl" 2>/dev/null)" = 1
check "its signature is valid and it is the job's" /usr/bin/python3 -c "
import hashlib,hmac,json,sys; x=[json.loads(l) for l in open('$T/got.jsonl')][0]; b=json.loads(x['body'])
want='sha256='+hmac.new(b'cb-secret-2', x['body'].encode(), hashlib.sha256).hexdigest()
sys.exit(not (x['sig']==want and b['job']==$job and b['state']=='done' and b.get('score') != 99 and x['id']))"
check "the call is marked sent" test "$(sqlite3 "$DB" "select state||':'||attempts from calls where job=$job and mac!='forged'")" = sent:2
check "the forged row was refused, never sent" test "$(sqlite3 "$DB" "select state from calls where mac='forged'")" = failed
check "the refusal is logged" grep -q "callback [0-9]* refused: not the grading side's" "$T/serve.log"
check "the key is root's alone" test "$(stat -c %a:%U "$T/state/calls.key")" = 600:root
stop_server TERM
check "no sanitizer report from the service" sh -c "! grep -q -e 'Sanitizer' -e 'runtime error' '$T/serve.log'"
finish
