#!/bin/sh
# grader serve: an upload is received when its body is complete, not when its
# headers arrive. A student who opens an upload before the deadline and
# trickles it (a byte a second, which no idle timeout stops) until after the
# deadline is graded late; an upload that takes longer than the request limit
# is cut off and queues nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
T=$E2E_TMP
need_root "grader serve (the sandbox needs root)"
trap 'stop_server KILL; rm -rf "$T"' EXIT

make_course "$T" alice bob || { fail "course setup"; finish; }
cp -r "$ROOT/rubrics/examples/ps1" "$T/ps1" # the files the rubric names, beside its copy
# the rubric due 6 seconds from now; requests limited to 20 s in all
due=$(/usr/bin/python3 - "$ROOT/rubrics/examples/ps1.json" "$T/ps1.json" "$T/course.json" <<'PY'
import datetime, json, sys
r = json.load(open(sys.argv[1]))
due = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=6)
r['duedate'] = due.strftime('%Y-%m-%dT%H:%M:%SZ')
json.dump(r, open(sys.argv[2], 'w'), indent=1)
c = json.load(open(sys.argv[3]))
c['assignments'][0]['rubric'] = sys.argv[2]
c['limits'] = {'request_seconds': 20}
json.dump(c, open(sys.argv[3], 'w'), indent=1)
print(r['duedate'])
PY
)
start_server "$T" || { fail "server starts"; cat "$T/serve.log"; finish; }
BOB=bob-token-0123456789abc
NB=$T/gen/bob/ps1/ps1.ipynb

# opened now (before the deadline), finished 12 s later (after it)
code=$(trickle "$SRV_PORT" "$BOB" "$NB" 12)
check "trickled upload across the deadline: 202 ($code)" test "$code" = 202
job=$(json_get "$T/resp" '["job"]' 2>/dev/null)
check "trickled upload: graded" test "$(wait_job "$job")" = done
cp "$T/resp" "$T/job.json"
check "trickled upload: received after the deadline ($due)" /usr/bin/python3 -c "
import json,sys; s=json.load(open('$T/job.json'))['submission']; print(s['timestamp'], s['late_seconds'])
sys.exit(not (s['timestamp'][:19] >= '$due'[:19] and s['late_seconds'] > 0))"
check "trickled upload: the late penalty applied" /usr/bin/python3 -c "
import json,sys; s=json.load(open('$T/job.json'))['submission']; sys.exit(not s['late_submission_penalty'] > 0)"

# an upload that takes longer than the request limit is cut off, whatever the idle timer says
n0=$(jobs_count "$T")
code=$(trickle "$SRV_PORT" "$BOB" "$NB" 30)
check "upload past the request limit: no answer but a closed connection ($code)" test "$code" = 000
check "upload past the request limit: nothing queued" test "$(jobs_count "$T")" = "$n0"
check "upload past the request limit: logged as 408" grep -q 'POST /api/v1/submissions 408 .*(aborted)' "$T/serve.log"
stop_server TERM
check "no sanitizer report from the service" sh -c "! grep -q -e 'Sanitizer' -e 'runtime error' '$T/serve.log'"
finish
