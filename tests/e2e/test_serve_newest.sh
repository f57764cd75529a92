#!/bin/sh
# grader serve never refuses a student's newest push: with the workers busy
# (stopped here) and per_student jobs of carol waiting, her later pushes are
# accepted (202) and the waiting ones superseded, so the branch head is what
# is graded, not an older commit that held the slots.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
T=$E2E_TMP
need_root "grader serve (the sandbox and --user need root)"
workers() { ps -o pid=,user= --ppid "$SRV_PID" | awk '$2 == "root" {print $1}'; }
trap '[ -n "$SRV_PID" ] && for p in $(workers); do kill -CONT "$p"; done; stop_server KILL; rm -rf "$T"' EXIT

make_course "$T" alice carol || { fail "course setup"; finish; }
start_server "$T" || { fail "server starts"; cat "$T/serve.log"; finish; }
i=0; while [ $i -lt 300 ] && [ "$(grep -c 'zygote warm' "$T/serve.log")" -lt 2 ]; do sleep 0.1; i=$((i + 1)); done
w=$(workers)
check "the workers found" test -n "$w"
for p in $w; do kill -STOP "$p"; done
codes=
for k in 1 2 3 4 5 6 7; do
	c=$(push_nb "$T" carol carol "2026-10-29T1$k:00:00Z")
	github_body "$T/p.json" course/ps1-carol refs/heads/main "$c"
	codes="$codes $(deliver github "$T/p.json" "k$k")"
	job=$(json_get "$T/resp" '["job"]')
done
head=$(git -C "$T/remote/carol.git" rev-parse main)
check "seven pushes with per_student 5: all accepted ($codes)" test "$codes" = " 202 202 202 202 202 202 202"
check "at most per_student wait" test "$(sqlite3 "$T/state/db/grader.sqlite" "select count(*) from jobs where state='queued' and student='carol'")" -le 5
for p in $w; do kill -CONT "$p"; done
check "the newest push graded" test "$(wait_job "$job")" = done
check "the result is the branch head" test "$(json_get "$T/resp" '["commit"]')" = "$head"
check "the six older ones superseded" test "$(sqlite3 "$T/state/db/grader.sqlite" "select count(*) from jobs where state='superseded' and student='carol'")" = 6
stop_server TERM
check "no sanitizer report from the service" sh -c "! grep -q -e 'Sanitizer' -e 'runtime error' '$T/serve.log'"
finish
