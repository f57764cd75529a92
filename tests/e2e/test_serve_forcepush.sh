#!/bin/sh
# grader serve and a force push back to an older commit: alice pushes A, then
# B (both graded), then resets to A and force-pushes (the branch's tip is A
# again). The forge's delivery of that push (a new delivery id) is queued and
# graded: A becomes her result, her folder and her grade in the gradebook. A
# replay of B's delivery under a new id afterwards is queued and fails (B is
# no longer on the branch) and does not replace A; the force push's own
# delivery sent again is acknowledged, not queued. Replays of old commits
# that arrive while a newer push waits do not cost it its grading (it is taken
# first; past per_student they are refused, not it), a delivery out of order
# that is taken first gives its place back, and after an upload a replay of
# the newest push is acknowledged, not graded over the upload. And B, C, then
# a force push back to B while the student's own slow upload holds them: the
# tip B is graded.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
T=$E2E_TMP
need_root "grader serve (the sandbox and --user need root)"
workers() { ps -o pid=,user= --ppid "$SRV_PID" | awk '$2 == "root" {print $1}'; }
trap '[ -n "$SRV_PID" ] && for p in $(workers); do kill -CONT "$p"; done; stop_server KILL; rm -rf "$T"' EXIT

serve_course "$T" alice
result() { api /api/v1/results/ps1/alice >/dev/null; json_get "$T/resp" "$1"; }
gb_score() {
	api /api/v1/assignments/ps1/gradebook >/dev/null
	/usr/bin/python3 -c "
import json,sys
for s in json.load(open(sys.argv[1]))['submissions']:
    if s['student_id']=='alice': print(s['score'])" "$T/resp"
}
# body FILE AFTER BEFORE: a GitHub push body of a forced push from BEFORE to AFTER
body() {
	cat >"$1" <<JSON
{"ref": "refs/heads/main", "before": "$3", "after": "$2", "forced": true, "deleted": false,
 "repository": {"full_name": "course/ps1-alice", "clone_url": "https://example.org/course/ps1-alice.git"},
 "pusher": {"name": "alice"}, "head_commit": {"id": "$2", "timestamp": "2026-10-29T10:00:00Z"}}
JSON
}
tip() { git -C "$T/remote/alice.git" rev-parse main; }

ca=$(push_nb "$T" alice alice 2026-10-29T10:00:00Z)
body "$T/a.json" "$ca" 0000000000000000000000000000000000000000
check "push A: 202" test "$(deliver github "$T/a.json" f1)" = 202
ja=$(json_get "$T/resp" '["job"]')
check "push A: graded" test "$(wait_job "$ja")" = done
sa=$(json_get "$T/resp" '["submission"]["score"]')
cb=$(push_nb "$T" alice bob 2026-10-29T11:00:00Z)
body "$T/b.json" "$cb" "$ca"
check "push B: 202" test "$(deliver github "$T/b.json" f2)" = 202
check "push B: graded" test "$(wait_job "$(json_get "$T/resp" '["job"]')")" = done
sb=$(json_get "$T/resp" '["submission"]["score"]')
check "A and B score differently ($sa, $sb: the checks below tell them apart)" test "$sa" != "$sb"
check "the result is B's" test "$(result '["commit"]')" = "$cb"

# back to A, force-pushed: the branch's tip is A again
(cd "$T/work/alice" && git reset -q --hard "$ca" && git push -q -f origin HEAD:main 2>/dev/null)
check "the branch's tip is A" test "$(tip)" = "$ca"
body "$T/back.json" "$ca" "$cb"
check "the force push back to A: 202 (queued, not ignored)" test "$(deliver github "$T/back.json" f3)" = 202
jback=$(json_get "$T/resp" '["job"]')
check "the force push back to A: graded" test "$(wait_job "$jback")" = done
check "the force push back: A's score ($sa)" test "$(json_get "$T/resp" '["submission"]["score"]')" = "$sa"
check "the result is A, from the force push's job" test "$(result '["id"]')" = "$jback"
check "the result's commit is A" test "$(result '["commit"]')" = "$ca"
check "the gradebook agrees: A's score ($sa)" test "$(gb_score)" = "$sa"
check "alice's folder holds A" grep -q "\"commit\": \"$ca\"" "$T/state/submitted/alice/ps1/.grader-provenance.json"

# B's delivery replayed under a new id: B is not the tip, so B never comes back
check "B replayed under a new id: 202" test "$(deliver github "$T/b.json" f2-replayed)" = 202
check "B replayed: not graded (B is not on the branch any more)" test "$(wait_job "$(json_get "$T/resp" '["job"]')")" = failed
check "B replayed: said why" grep -q "is not on 'main'" "$T/resp"
check "B replayed: the result is still the force push's" test "$(result '["id"]')" = "$jback"
check "B replayed: the gradebook still has A ($sa)" test "$(gb_score)" = "$sa"
check "B replayed: alice's folder still holds A" grep -q "\"commit\": \"$ca\"" "$T/state/submitted/alice/ps1/.grader-provenance.json"
n0=$(jobs_count "$T")
check "the force push's delivery again, under a new id: 200" test "$(deliver github "$T/back.json" f3-again)" = 200
check "... and not queued" test "$(jobs_count "$T")" = "$n0"

# replays of old commits while a newer push C waits (the workers stopped): C
# is graded first, and the replays, past per_student, take no one's place
i=0; while [ $i -lt 300 ] && [ "$(grep -c 'zygote warm' "$T/serve.log")" -lt 2 ]; do sleep 0.1; i=$((i + 1)); done
w=$(workers)
check "the workers found" test -n "$w"
for p in $w; do kill -STOP "$p"; done
cc=$(push_nb "$T" alice bob 2026-10-29T12:00:00Z)
body "$T/c.json" "$cc" "$ca"
check "push C (workers stopped): 202" test "$(deliver github "$T/c.json" f4)" = 202
jc=$(json_get "$T/resp" '["job"]')
check "B replayed while C waits: 202" test "$(deliver github "$T/b.json" f2-replayed-2)" = 202
jr=$(json_get "$T/resp" '["job"]')
codes=
for k in 1 2 3 4; do
	f=$T/a.json; [ $((k % 2)) = 0 ] && f=$T/b.json
	codes="$codes $(deliver github "$f" "flood-$k")"
done
check "replays of A and B by turns: queued up to per_student, then 429 ($codes)" test "$codes" = " 202 202 202 429"
check "C still waits" test "$(sqlite3 "$T/state/db/grader.sqlite" "select state from jobs where id=$jc")" = queued
for p in $w; do kill -CONT "$p"; done
check "C: graded" test "$(wait_job "$jc")" = done
check "the replay of B: not graded" test "$(wait_job "$jr")" = failed
check "the result is C" test "$(result '["id"]')" = "$jc"
check "the result's commit is C, the tip" test "$(result '["commit"]')" = "$(tip)"
i=0; while [ $i -lt 100 ] && [ "$(sqlite3 "$T/state/db/grader.sqlite" "select count(*) from jobs where state in ('queued','running')")" != 0 ]; do sleep 0.2; i=$((i + 1)); done
check "the replays all finished, none done" test "$(sqlite3 "$T/state/db/grader.sqlite" "select count(*) from jobs where id>$jr and state='done'")" = 0
check "the result is still C" test "$(result '["id"]')" = "$jc"
# A's first delivery replayed: A is on the branch, but C came after it
check "A's first delivery replayed under a new id: 202" test "$(deliver github "$T/a.json" f1-replayed)" = 202
check "A replayed: superseded (the branch moved past A)" test "$(wait_job "$(json_get "$T/resp" '["job"]')")" = superseded
check "A replayed: the result is still C" test "$(result '["id"]')" = "$jc"

# out of order while the workers are stopped: V and W pushed, W's delivery
# first, then V's (newer in the queue, older on the branch): V is taken
# first and proves stale, and W, which its take superseded, waits again
for p in $w; do kill -STOP "$p"; done
cv=$(push_nb "$T" alice alice 2026-10-29T13:00:00Z)
cw=$(push_nb "$T" alice bob 2026-10-29T14:00:00Z)
body "$T/w.json" "$cw" "$cv"
check "W's delivery (workers stopped): 202" test "$(deliver github "$T/w.json" f5)" = 202
jw=$(json_get "$T/resp" '["job"]')
body "$T/v.json" "$cv" "$cc"
check "V's delivery after it: 202" test "$(deliver github "$T/v.json" f6)" = 202
jv=$(json_get "$T/resp" '["job"]')
for p in $w; do kill -CONT "$p"; done
check "V: superseded (the branch moved past V)" test "$(wait_job "$jv")" = superseded
check "W: graded all the same" test "$(wait_job "$jw")" = done
check "the result is W, the tip" test "$(result '["commit"]')" = "$(tip)"
check "W is the tip" test "$cw" = "$(tip)"

# an upload after the pushes: a replay of the newest push does not replace it
code=$($CURL -o "$T/resp" -w '%{http_code}' -H "Authorization: Bearer alice-token-0123456789" \
	-F assignment=ps1 -F "file=@$T/gen/alice/ps1/ps1.ipynb" "$URL/api/v1/submissions")
check "alice's upload: 202" test "$code" = 202
ju=$(json_get "$T/resp" '["job"]')
check "alice's upload: graded" test "$(wait_job "$ju")" = done
check "W's delivery replayed under a new id after the upload: 200" test "$(deliver github "$T/w.json" f5-again)" = 200
sleep 1
check "the result is still the upload" test "$(result '["id"]')" = "$ju"
# B, then C, then a force push back to B, all while alice's own slow upload
# runs (her jobs wait for it): C, taken first, is no longer on the branch,
# and the tip B is what is graded
/usr/bin/python3 - "$T/gen/alice/ps1/ps1.ipynb" "$T/slow.ipynb" <<'PY'
import json, sys
nb = json.load(open(sys.argv[1]))
for cell in nb["cells"]:
    if cell["cell_type"] == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
        cell["source"] = "import time\ntime.sleep(8)\n" + "".join(cell["source"])
        break
json.dump(nb, open(sys.argv[2], "w"))
PY
code=$($CURL -o "$T/resp" -w '%{http_code}' -H "Authorization: Bearer alice-token-0123456789" \
	-F assignment=ps1 -F "file=@$T/slow.ipynb;filename=ps1.ipynb" "$URL/api/v1/submissions")
check "alice's slow upload: 202" test "$code" = 202
jslow=$(json_get "$T/resp" '["job"]')
i=0; while [ $i -lt 100 ] && [ "$(sqlite3 "$T/state/db/grader.sqlite" "select state from jobs where id=$jslow")" != running ]; do sleep 0.1; i=$((i + 1)); done
check "the slow upload runs" test "$(sqlite3 "$T/state/db/grader.sqlite" "select state from jobs where id=$jslow")" = running
c2b=$(push_nb "$T" alice carol 2026-10-29T15:00:00Z)
body "$T/2b.json" "$c2b" "$cw"
check "G2: push B while the upload runs: 202" test "$(deliver github "$T/2b.json" g1)" = 202
c2c=$(push_nb "$T" alice bob 2026-10-29T16:00:00Z)
body "$T/2c.json" "$c2c" "$c2b"
check "G2: push C: 202" test "$(deliver github "$T/2c.json" g2)" = 202
j2c=$(json_get "$T/resp" '["job"]')
(cd "$T/work/alice" && git reset -q --hard "$c2b" && git push -q -f origin HEAD:main 2>/dev/null)
body "$T/2back.json" "$c2b" "$c2c"
check "G2: the force push back to B: 202 (queued, not ignored)" test "$(deliver github "$T/2back.json" g3)" = 202
j2back=$(json_get "$T/resp" '["job"]')
check "G2: the jobs still wait for the upload" test "$(sqlite3 "$T/state/db/grader.sqlite" "select state from jobs where id=$jslow")" = running
check "G2: the slow upload: graded" test "$(wait_job "$jslow" 60)" = done
check "G2: C: not graded (not on the branch)" test "$(wait_job "$j2c")" = failed
check "G2: the force push back: graded" test "$(wait_job "$j2back")" = done
i=0; while [ $i -lt 100 ] && [ "$(sqlite3 "$T/state/db/grader.sqlite" "select count(*) from jobs where state in ('queued','running')")" != 0 ]; do sleep 0.2; i=$((i + 1)); done
check "G2: the tip B is alice's result" test "$(result '["commit"]')" = "$c2b"
check "G2: B is the tip" test "$c2b" = "$(tip)"
check "G2: the gradebook has B's score" test "$(gb_score)" = "$(result '["score"]')"
stop_server TERM
check "no sanitizer report from the service" sh -c "! grep -q -e 'Sanitizer' -e 'runtime error' '$T/serve.log'"
finish
