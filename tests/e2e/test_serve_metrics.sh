#!/bin/sh
# grader serve's /metrics and /healthz, open to anyone, are made at most once
# a second and shared by every request meanwhile: a burst of unauthenticated
# requests over a table of many finished jobs costs a scan or two, not one
# each (their answers are one text: the request counter in it does not move),
# and the numbers stay right (a job finished shows within a second or so).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
T=$E2E_TMP
need_root "grader serve (--user needs root)"
trap 'stop_server KILL; rm -rf "$T"' EXIT

serve_course "$T" alice
stop_server TERM
# a term of finished jobs
/usr/bin/python3 - "$T/state/db/grader.sqlite" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executemany("INSERT INTO jobs(assignment, student, kind, received, state, started, finished, score) "
              "VALUES('ps1', 'alice', 'upload', ?, 'done', ?, ?, 1)",
              [(1.7e9 + i, 1.7e9 + i + 1, 1.7e9 + i + 2) for i in range(20000)])
c.commit()
PY
start_server "$T" || { fail "server restarts"; cat "$T/serve.log"; finish; }
URL=http://127.0.0.1:$SRV_PORT
i=0; pids=
while [ $i -lt 20 ]; do
	$CURL -o "$T/m.$i" "$URL/metrics" &
	pids="$pids $!"
	$CURL -o "$T/h.$i" "$URL/healthz" &
	pids="$pids $!"
	i=$((i + 1))
done
for p in $pids; do wait "$p"; done
check "every metrics answer has the jobs" sh -c "test \$(grep -l '^grader_jobs{state=\"done\"} 20000\$' '$T'/m.* | wc -l) = 20"
check "every health answer has the jobs" sh -c "test \$(grep -l '\"done\": *20000' '$T'/h.* | wc -l) = 20"
distinct=$(cat "$T"/m.* | grep '^grader_http_requests_total{code="2xx"}' | sort -u | wc -l)
check "20 metrics requests at once: a scan or two, not 20 ($distinct)" test "$distinct" -le 4
distinct=$(cat "$T"/h.* | sort -u | wc -l)
check "20 health requests at once: one answer or two ($distinct)" test "$distinct" -le 4
# still current: an upload graded shows
code=$($CURL -o "$T/resp" -w '%{http_code}' -H "Authorization: Bearer alice-token-0123456789" \
	-F assignment=ps1 -F "file=@$T/gen/alice/ps1/ps1.ipynb" "$URL/api/v1/submissions")
check "an upload: 202" test "$code" = 202
check "an upload: graded" test "$(wait_job "$(json_get "$T/resp" '["job"]')")" = done
i=0; while [ $i -lt 50 ] && ! $CURL "$URL/metrics" | grep -q '^grader_jobs{state="done"} 20001$'; do sleep 0.2; i=$((i + 1)); done
check "the metrics follow the jobs" sh -c "$CURL '$URL/metrics' | grep -q '^grader_jobs{state=\"done\"} 20001\$'"
check "the health follows the jobs" sh -c "$CURL '$URL/healthz' | grep -q '\"done\": *20001'"
stop_server TERM
check "no sanitizer report from the service" sh -c "! grep -q -e 'Sanitizer' -e 'runtime error' '$T/serve.log'"
finish
