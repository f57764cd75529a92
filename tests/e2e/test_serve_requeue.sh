#!/bin/sh
# grader serve: the grading side's stamp on a job (when it first saw it,
# which bounds the job's received time) vouches for what the row held then.
# The HTTP side's user re-queues an old, stamped upload with other files (as
# a compromised HTTP side could, to submit after the deadline under an old
# on-time stamp): the row no longer matches its stamp, so the new files are
# judged by when the grading side took them, not by the old received time.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
T=$E2E_TMP
need_root "grader serve (the sandbox and --user need root)"
trap 'stop_server KILL; rm -rf "$T"' EXIT
DB=$T/state/db/grader.sqlite

make_course "$T" alice bob || { fail "course setup"; finish; }
start_server "$T" || { fail "server starts"; cat "$T/serve.log"; finish; }
code=$($CURL -o "$T/resp" -w '%{http_code}' -H "Authorization: Bearer bob-token-0123456789abc" \
	-F assignment=ps1 -F "file=@$T/gen/bob/ps1/ps1.ipynb" "http://127.0.0.1:$SRV_PORT/api/v1/submissions")
check "bob's upload: 202" test "$code" = 202
job=$(json_get "$T/resp" '["job"]')
check "bob's upload: graded" test "$(wait_job "$job")" = done
t0=$(json_get "$T/resp" '["submission"]["timestamp"]')
check "it was stamped by the grading side" test "$(sqlite3 "$DB" "select count(*) from seen where job=$job")" = 1
# the stamp's window is 60 s: the re-queue comes after it
sleep 62
su -s /bin/sh nobody -c "/usr/bin/python3 - '$DB' '$job' '$T/gen/carol/ps1/ps1.ipynb'" <<'PY' || fail "the row re-queued as nobody"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=30)
job = int(sys.argv[2])
c.execute("DELETE FROM files WHERE job=?", (job,))
c.execute("INSERT INTO files(job, name, data) VALUES(?, 'ps1.ipynb', ?)", (job, open(sys.argv[3], 'rb').read()))
c.execute("UPDATE jobs SET state='queued', started=NULL, finished=NULL, attempts=0 WHERE id=?", (job,))
c.commit()
PY
i=0; while [ $i -lt 600 ] && [ "$(sqlite3 "$DB" "select attempts from jobs where id=$job")" = 0 ]; do sleep 0.1; i=$((i + 1)); done
check "the re-queued job: graded again" test "$(wait_job "$job")" = done
t1=$(json_get "$T/resp" '["submission"]["timestamp"]')
check "the new files are not judged by the old stamp ($t0 -> $t1)" /usr/bin/python3 -c "
import datetime,sys; p=lambda s: datetime.datetime.fromisoformat(s.replace('Z','+00:00'))
sys.exit(not (p('$t1') - p('$t0')).total_seconds() > 60)"
check "logged as out of bounds" grep -q "job $job: received time .* out of bounds" "$T/serve.log"
stop_server TERM
check "no sanitizer report from the service" sh -c "! grep -q -e 'Sanitizer' -e 'runtime error' '$T/serve.log'"
finish
