#!/bin/sh
# grader serve: a job that fails leaves the student's folder as it was. A zip
# the grading side refuses after good entries (a row written as the HTTP
# side's user could write it, past the HTTP side's own check: a notebook and a
# data file, then an absolute path) is unpacked beside the student's folder
# and never put in place: bob's earlier push stays his folder, his result and
# his grade in the gradebook, and carol, who had nothing, still has nothing.
# The same zip without the refused entry does replace it (the check tells the
# two apart).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
T=$E2E_TMP
need_root "grader serve (the sandbox and --user need root)"
trap 'stop_server KILL; rm -rf "$T"' EXIT

serve_course "$T" alice bob carol
SUB=$T/state/submitted
result() { api /api/v1/results/ps1/bob >/dev/null; json_get "$T/resp" "$1"; }
# gb_score STUDENT: the student's score in the gradebook the API sends
gb_score() {
	api /api/v1/assignments/ps1/gradebook >/dev/null
	/usr/bin/python3 -c "
import json,sys
for s in json.load(open(sys.argv[1]))['submissions']:
    if s['student_id']==sys.argv[2]: print(s['status'], s['score'])" "$T/resp" "$1"
}
# tree DIR: every file under DIR with its hash
tree() { (cd "$1" && find . -type f | LC_ALL=C sort | xargs sha256sum); }

cb=$(push_nb "$T" bob bob 2026-10-29T10:00:00Z)
github_body "$T/b.json" course/ps1-bob refs/heads/main "$cb"
check "bob's push: 202" test "$(deliver github "$T/b.json" u1)" = 202
jb=$(json_get "$T/resp" '["job"]')
check "bob's push: graded" test "$(wait_job "$jb")" = done
sb=$(json_get "$T/resp" '["submission"]["score"]')
check "the gradebook has bob's push ($sb)" test "$(gb_score bob)" = "graded $sb"
tree "$SUB/bob/ps1" >"$T/before.txt"

# another notebook (alice's, scoring otherwise) and a data file, then an entry
# the grading side refuses: the HTTP side would have refused the zip, so the
# row is written as its user could write it
/usr/bin/python3 - "$T" "$T/gen/alice/ps1/ps1.ipynb" <<'PY'
import sys, zipfile
t, nb = sys.argv[1], open(sys.argv[2], 'rb').read()
with zipfile.ZipFile(t + '/bad.zip', 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('ps1/ps1.ipynb', nb)
    z.writestr('ps1/data.csv', '1,2\n')
    z.writestr(zipfile.ZipInfo('/tmp/absolute-entry.txt'), 'x\n')
with zipfile.ZipFile(t + '/good.zip', 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('ps1/ps1.ipynb', nb)
    z.writestr('ps1/data.csv', '1,2\n')
PY
chmod 0644 "$T/bad.zip"
forge() { # forge STUDENT: an upload row of bad.zip for STUDENT; prints its job id
	su -s /bin/sh nobody -c "/usr/bin/python3 - '$T/state/db/grader.sqlite' '$T/bad.zip' '$1'" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=30)
cur = c.execute("INSERT INTO jobs(assignment, student, kind, received) "
                "VALUES('ps1', ?, 'upload', (julianday('now')-2440587.5)*86400.0)", (sys.argv[3],))
c.execute("INSERT INTO files(job, name, data) VALUES(?, 'sub.zip', ?)",
          (cur.lastrowid, open(sys.argv[2], 'rb').read()))
c.commit()
print(cur.lastrowid)
PY
}
jz=$(forge bob)
check "the zip's row: failed" test "$(wait_job "$jz")" = failed
check "the zip's row: failed for the refused entry" grep -q "is refused: absolute path" "$T/resp"
tree "$SUB/bob/ps1" >"$T/after.txt"
check "bob's folder is what his push put there" cmp -s "$T/before.txt" "$T/after.txt"
check "bob's folder: no file of the zip" test ! -e "$SUB/bob/ps1/data.csv"
check "bob's folder: the push's provenance" grep -q '"kind": "git"' "$SUB/bob/ps1/.grader-provenance.json"
check "nothing of the zip left beside it" test "$(ls -A "$SUB/bob")" = ps1
check "bob's result: still his push" test "$(result '["id"]')" = "$jb"
check "bob's result: still his push's commit" test "$(result '["commit"]')" = "$cb"
check "the gradebook agrees: bob's push ($sb)" test "$(gb_score bob)" = "graded $sb"
check "the absolute entry written nowhere" test ! -e /tmp/absolute-entry.txt

jc=$(forge carol)
check "carol's zip row: failed" test "$(wait_job "$jc")" = failed
check "carol, who had nothing, has no folder" test ! -e "$SUB/carol/ps1"
check "carol: nothing left in her folder" test -z "$(ls -A "$SUB/carol" 2>/dev/null)"
check "carol: missing from the gradebook" test "$(gb_score carol | cut -d' ' -f1)" = missing

# the same zip without the refused entry: bob's folder and grade become the zip's
code=$($CURL -o "$T/resp" -w '%{http_code}' -H "Authorization: Bearer bob-token-0123456789abc" \
	-F assignment=ps1 -F "file=@$T/good.zip" "$URL/api/v1/submissions")
check "the good zip: 202" test "$code" = 202
jg=$(json_get "$T/resp" '["job"]')
check "the good zip: graded" test "$(wait_job "$jg")" = done
sg=$(json_get "$T/resp" '["submission"]["score"]')
check "the zip's notebook scores otherwise ($sg, $sb: the checks above tell them apart)" test "$sg" != "$sb"
check "the good zip: its files in bob's folder" test -f "$SUB/bob/ps1/data.csv"
check "the good zip: bob's result" test "$(result '["id"]')" = "$jg"
check "the good zip: the gradebook agrees ($sg)" test "$(gb_score bob)" = "graded $sg"
check "nothing left beside bob's folder" test "$(ls -A "$SUB/bob")" = ps1
stop_server TERM
check "no sanitizer report from the service" sh -c "! grep -q -e 'Sanitizer' -e 'runtime error' '$T/serve.log'"
finish
