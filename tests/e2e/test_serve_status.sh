#!/bin/sh
# grader serve's commit statuses go only where the grading side meant them:
# the status URL is made at send time from the job's repository and commit,
# which the HTTP side's user can rewrite, so the call's MAC covers them. A
# valid call row copied and its job re-pointed (at another API path, or at
# another student's repository), as a compromised HTTP side could, is
# refused and never sent with the forge token.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
T=$E2E_TMP
need_root "grader serve (the sandbox and --user need root)"
trap 'stop_server KILL; stop_receiver; rm -rf "$T"' EXIT
DB=$T/state/db/grader.sqlite

make_course "$T" alice bob || { fail "course setup"; finish; }
RPORT=$(free_port)
export GRADER_FORGE_TOKEN=forge-token-SECRET
/usr/bin/python3 - "$T/course.json" "$RPORT" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c['assignments'][0]['status'] = {'forge': 'github', 'api': 'http://127.0.0.1:%s/api' % sys.argv[2],
                                 'token': {'env': 'GRADER_FORGE_TOKEN'}}
json.dump(c, open(sys.argv[1], 'w'), indent=1)
PY
receiver "$RPORT" "$T/got.jsonl"
start_server "$T" || { fail "server starts"; cat "$T/serve.log"; finish; }
c1=$(push_nb "$T" alice alice 2026-10-29T10:00:00Z)
github_body "$T/p.json" course/ps1-alice refs/heads/main "$c1"
deliver github "$T/p.json" st-1 >/dev/null
job=$(json_get "$T/resp" '["job"]')
check "alice's push graded" test "$(wait_job "$job")" = done
i=0; while [ $i -lt 100 ] && ! grep -q statuses "$T/got.jsonl" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
check "her status sent to her repository and commit" grep -q "\"path\": \"/api/repos/course/ps1-alice/statuses/$c1\"" "$T/got.jsonl"

# as the HTTP side's user: copy the sent call, re-point the job
forge() { # forge REPOSITORY: one copied call row, the job's repository rewritten
	su -s /bin/sh nobody -c "sqlite3 '$DB' \"INSERT INTO calls(job, kind, body, mac, next_try)
		SELECT job, kind, body, mac, 0 FROM calls WHERE job=$job AND kind='status' LIMIT 1;
		UPDATE jobs SET repository='$1' WHERE id=$job;\""
}
n0=$(grep -c . "$T/got.jsonl")
forge '../../orgs/course/hooks#'
forge 'course/ps1-bob'
i=0; while [ $i -lt 150 ] && [ "$(sqlite3 "$DB" "select count(*) from calls where job=$job and state='pending'")" != 0 ]; do
	sleep 0.1; i=$((i + 1))
done
sleep 1
check "the forged calls were refused" test "$(sqlite3 "$DB" "select count(*) from calls where job=$job and state='failed' and error='not the grading side''s'")" = 2
check "nothing more was sent with the forge token" test "$(grep -c . "$T/got.jsonl")" = "$n0"
check "never to another path of the API" sh -c "! grep -q -e orgs -e ps1-bob '$T/got.jsonl'"
stop_server TERM
check "no sanitizer report from the service" sh -c "! grep -q -e 'Sanitizer' -e 'runtime error' '$T/serve.log'"
finish
