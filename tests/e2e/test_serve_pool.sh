#!/bin/sh
# grader serve's grading workers: two workers, each starting one zygote and
# reusing it for every job; pushes of one student never graded at once; a
# worker killed with kill -9 mid-job is replaced and its job runs again,
# exactly once; the gradebook lists the whole roster (a student who never
# pushed as missing) and exports.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
T=$E2E_TMP
need_root "grader serve's workers (the sandbox needs root)"
trap 'stop_server KILL; rm -rf "$T"' EXIT
DB=$T/state/db/grader.sqlite

serve_course "$T" alice bob carol dave
i=0; while [ $i -lt 600 ] && [ "$(grep -c 'zygote warm' "$T/serve.log")" -lt 2 ]; do
	sleep 0.1; i=$((i + 1))
done
check "each of the two workers warms one zygote" test "$(grep -c 'zygote warm' "$T/serve.log")" = 2

# six pushes at once: three students, alice three times
n=0
for s in alice bob carol alice alice bob; do
	n=$((n + 1))
	c=$(push_nb "$T" $s bob "2026-10-29T1$n:00:00Z")
	github_body "$T/p.json" "course/ps1-$s" refs/heads/main "$c"
	deliver github "$T/p.json" "pool-$n" >/dev/null
done
i=0; while [ $i -lt 1200 ] && [ "$(sqlite3 "$DB" "select count(*) from jobs where state in ('queued','running')")" != 0 ]; do
	sleep 0.1; i=$((i + 1))
done
check "every push graded or superseded" test "$(sqlite3 "$DB" "select count(*) from jobs where state in ('done','superseded')")" = 6
check "the newest push of each student is graded" test "$(sqlite3 "$DB" "select count(*) from jobs j where state='done' and id=(select max(id) from jobs k where k.student=j.student)")" = 3
# no two jobs of one student ran at the same time
check "one student's jobs never overlap" test "$(sqlite3 "$DB" "select count(*) from jobs a join jobs b on a.student=b.student and a.id<b.id where a.state='done' and b.state='done' and a.started<b.finished and b.started<a.finished")" = 0
check "the jobs ran on the warm zygotes" sh -c "grep -q ': done in ' '$T/serve.log' && ! grep -q 'zygote started for job' '$T/serve.log'"
check "still two zygotes" test "$(grep -c 'zygote warm' "$T/serve.log")" = 2
check "one notebook, one score, whichever worker graded it" test "$(sqlite3 "$DB" "select count(distinct score) from jobs where state='done'")" = 1

# a worker killed in the middle of a job (dave's notebook loops to its time limit)
c=$(push_nb "$T" carol dave 2026-10-29T18:00:00Z)
github_body "$T/p.json" course/ps1-carol refs/heads/main "$c"
deliver github "$T/p.json" pool-kill >/dev/null
job=$(json_get "$T/resp" '["job"]')
i=0; while [ $i -lt 300 ] && [ -z "$(sqlite3 "$DB" "select runner from jobs where id=$job and state='running'")" ]; do
	sleep 0.1; i=$((i + 1))
done
runner=$(sqlite3 "$DB" "select runner from jobs where id=$job and state='running'")
check "the job runs on a worker" test -n "$runner"
[ -n "$runner" ] && kill -KILL "$runner"
check "the job is graded after all" test "$(wait_job "$job")" = done
check "the dead worker was seen" grep -q "worker [0-9]* died by signal .*1 job(s) queued again" "$T/serve.log"
i=0; while [ $i -lt 600 ] && [ "$(grep -c 'zygote warm' "$T/serve.log")" -lt 3 ]; do
	sleep 0.1; i=$((i + 1))
done
check "a new worker warmed a zygote" test "$(grep -c 'zygote warm' "$T/serve.log")" = 3
check "the job finished exactly once" test "$(grep -c "job $job: .*: done in" "$T/serve.log")" = 1
check "ran twice (attempts)" test "$(sqlite3 "$DB" "select attempts from jobs where id=$job")" = 2

# the gradebook file is written from the journal by the grading side: a read brings it up to date
check "gradebook over the API: 200" test "$(api /api/v1/assignments/ps1/gradebook)" = 200
check "gradebook lists the whole roster, dave missing" /usr/bin/python3 -c "
import json,sys; g=json.load(open('$T/state/gradebooks/ps1.json'))
st={s['student_id']: s['status'] for s in g['submissions']}
sys.exit(0 if sorted(st) == ['alice','bob','carol','dave'] and st['dave'] == 'missing' else 1)"
check "grader export reads it" "$GRADER" export "$T/state/gradebooks/ps1.json" --to csv -o "$T/grades.csv"
stop_server TERM
check "SIGTERM: clean stop" grep -q 'stopping: queued jobs stay queued' "$T/serve.log"
check "no sanitizer report from the service" sh -c "! grep -q -e 'Sanitizer' -e 'runtime error' '$T/serve.log'"
finish
