#!/bin/sh
# grader serve grades a push as one student's job: the roster's students who
# never pushed are graded (as missing) only by the gradebook writer, when it
# writes the gradebook, never inside a student's job. With the writer held
# still (SIGSTOP) a push of one student in a roster of 50 is graded and done
# with one journal line, that student's; once the writer runs again the
# gradebook lists the other 49 as missing. A restart compacts the journal to
# the last result of each student, atomically, and the gradebook is the same.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
T=$E2E_TMP
need_root "grader serve (the sandbox needs root)"
WRITER=
trap '[ -n "$WRITER" ] && kill -CONT "$WRITER" 2>/dev/null; stop_server KILL; rm -rf "$T"' EXIT
J=$T/state/gradebooks/ps1.json.journal
GB=$T/state/gradebooks/ps1.json

make_course "$T" alice || { fail "course setup"; finish; }
i=1
while [ $i -lt 50 ]; do
	printf 's%02d,S%02d,T,s%02d@example.org\n' $i $i $i >>"$T/roster.csv"
	i=$((i + 1))
done
check "a roster of 50" test "$(tail -n +2 "$T/roster.csv" | wc -l)" = 50
start_server "$T" || { fail "server starts"; cat "$T/serve.log"; finish; }

# the gradebook writer: the grading side's root child that is not a worker
i=0
while [ $i -lt 600 ] && [ "$(grep -c 'zygote warm' "$T/serve.log")" -lt 2 ]; do
	sleep 0.1; i=$((i + 1))
done
for p in $(ps -o pid= --ppid "$SRV_PID"); do
	[ "$(ps -o user= -p "$p" | tr -d ' ')" = root ] || continue
	grep -q "\[$p\] worker [0-9]*: ps1: zygote warm" "$T/serve.log" && continue
	WRITER=$p
done
check "the gradebook writer is found" test -n "$WRITER"
[ -n "$WRITER" ] && kill -STOP "$WRITER"

c=$(push_nb "$T" alice alice 2026-10-29T10:00:00Z)
github_body "$T/p.json" course/ps1-alice refs/heads/main "$c"
check "alice's push: 202" test "$(deliver github "$T/p.json" roster-1)" = 202
ja=$(json_get "$T/resp" '["job"]')
check "alice's job done with the writer stopped" test "$(wait_job "$ja")" = done
check "one job graded, its phases logged" test "$(grep -c "job $ja: ps1 alice .*: done in .*(fetch .*, zygote .*, grade .*, store .*)" "$T/serve.log")" = 1
check "no other job ran" test "$(grep -c ': done in ' "$T/serve.log")" = 1
check "the journal holds one line" test "$(wc -l <"$J")" = 1
check "that line is alice's, graded" /usr/bin/python3 -c "
import json,sys
e=[json.loads(l) for l in open('$J')]
sys.exit(not (len(e)==1 and e[0]['student_id']=='alice' and e[0]['submission']['status']=='graded'))"
check "no gradebook file yet: the job wrote none" test ! -e "$GB"

[ -n "$WRITER" ] && kill -CONT "$WRITER"
WRITER=
check "gradebook over the API: 200" test "$(api /api/v1/assignments/ps1/gradebook)" = 200
check "the gradebook lists 50 students: alice graded, 49 missing" /usr/bin/python3 -c "
import json,sys
g=json.load(open('$T/resp'))
st=dict((s['student_id'],s['status']) for s in g['submissions'])
miss=[k for k,v in st.items() if v=='missing']
sys.exit(not (len(st)==50 and st['alice']=='graded' and len(miss)==49 and 'alice' not in miss))"
check "the 49 were journaled by the gradebook write, as missing" /usr/bin/python3 -c "
import json,sys
e=[json.loads(l) for l in open('$J')]
rest=[x for x in e[1:]]
sys.exit(not (e[0]['student_id']=='alice' and len(rest)==49 and all(x['submission']['status']=='missing' for x in rest)))"
check "still one job done" test "$(grep -c ': done in ' "$T/serve.log")" = 1

# ---- a restart compacts the journal: the last result of each student ---------------
c=$(push_nb "$T" alice bob 2026-10-29T10:00:00Z)
github_body "$T/p.json" course/ps1-alice refs/heads/main "$c"
check "alice's second push: 202" test "$(deliver github "$T/p.json" roster-2)" = 202
ja2=$(json_get "$T/resp" '["job"]')
check "alice's second job done" test "$(wait_job "$ja2")" = done
api "/api/v1/jobs/$ja2" >/dev/null
sa2=$(json_get "$T/resp" '["submission"]["score"]')
check "the journal holds both of alice's results" test "$(grep -c '"student_id":"alice"' "$J")" = 2
stop_server TERM
# what a kill -9 in the middle of a compaction leaves: the old journal and a part-written copy
printf '{"torn' >"$J.compact"
start_server "$T" || fail "server restarts"
check "the restart compacts the journal" grep -q 'journal ps1: compacted to 50 of 51 line(s)' "$T/serve.log"
check "one line a student, alice's the second result" /usr/bin/python3 -c "
import json,sys
e=[json.loads(l) for l in open('$J')]
ids=[x['student_id'] for x in e]
a=[x for x in e if x['student_id']=='alice']
sys.exit(not (len(e)==50 and len(set(ids))==50 and a[0]['submission']['score']==float('$sa2')))"
check "the journal stays root's alone" test "$(stat -c %a "$J")" = 600
check "no copy left beside it" test ! -e "$J.compact"
check "gradebook after the restart: 200" test "$(api /api/v1/assignments/ps1/gradebook)" = 200
check "alice's second result, 49 missing" /usr/bin/python3 -c "
import json,sys
g=json.load(open('$T/resp'))
st=dict((s['student_id'],(s['status'],s['score'])) for s in g['submissions'])
sys.exit(not (len(st)==50 and st['alice']==('graded',float('$sa2')) and sum(v[0]=='missing' for v in st.values())==49))"
check "nothing graded again by the write after the compaction" test "$(grep -c ': done in ' "$T/serve.log")" = 2
check "grader export reads it" "$GRADER" export "$GB" --to csv -o "$T/grades.csv"
stop_server TERM
check "no sanitizer report from the service" sh -c "! grep -q -e 'Sanitizer' -e 'runtime error' '$T/serve.log'"
finish
