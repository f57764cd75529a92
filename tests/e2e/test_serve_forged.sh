#!/bin/sh
# grader serve: the grading side (root) does not trust the job rows the
# unprivileged HTTP side writes. Rows forged straight into the state database
# as the HTTP side's user ('nobody') could write them: a student id climbing
# out of STATE/submitted onto a root-owned folder, an unknown kind, a commit
# that is not a commit id, a repository of another student, a student outside
# the roster, a file name the grading side keeps for itself. Each is refused
# (failed, with the check it failed) and nothing outside STATE/submitted is
# touched; a row backdating its received time is graded by the time the
# grading side saw it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
T=$E2E_TMP
need_root "grader serve (the sandbox and --user need root)"
trap 'stop_server KILL; rm -rf "$T"' EXIT

make_course "$T" alice bob carol dave erin frank || { fail "course setup"; finish; }
# a root-owned folder named like the assignment, which nobody cannot write
mkdir -p "$T/victim/ps1" && echo keep >"$T/victim/ps1/important"
ca=$(push_nb "$T" alice alice 2026-10-29T10:00:00Z)
start_server "$T" || { fail "server starts"; cat "$T/serve.log"; finish; }
check "the HTTP side's user cannot write the victim folder" \
	sh -c "! su -s /bin/sh nobody -c 'touch $T/victim/ps1/x' 2>/dev/null"

# the rows, written as the HTTP side's user could write them
su -s /bin/sh nobody -c "/usr/bin/python3 - '$T/state/db/grader.sqlite' '$ca'" <<'PY' >"$T/ids" ||
import sqlite3, sys, json
db, ca = sys.argv[1], sys.argv[2]
nb = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()
c = sqlite3.connect(db, timeout=30)
# one student each (of several waiting jobs of one student only the newest runs)
rows = [  # (label, student, kind, repository, commit, received, files)
    ('traversal', '../../victim', 'upload', None, None, None, [('ps1.ipynb', nb), ('owned-by-root.txt', b'x')]),
    ('kind', 'carol', 'evil', None, None, None, [('ps1.ipynb', nb)]),
    ('commit', 'dave', 'push', 'course/ps1-dave', 'HEAD~1', None, []),
    ('repository', 'erin', 'push', 'course/ps1-alice', ca, None, []),
    ('roster', 'mallory', 'upload', None, None, None, [('ps1.ipynb', nb)]),
    ('filename', 'frank', 'upload', None, None, None, [('ps1.ipynb', nb), ('timestamp.txt', b'2020-01-01 00:00:00\n')]),
    ('backdated', 'bob', 'upload', None, None, 1600000000.0, [('ps1.ipynb', nb)]),
]
for label, student, kind, repo, commit, received, files in rows:
    cur = c.execute("INSERT INTO jobs(assignment, student, kind, repository, commit_id, received) "
                    "VALUES('ps1', ?, ?, ?, ?, coalesce(?, (julianday('now')-2440587.5)*86400.0))",
                    (student, kind, repo, commit, received))
    for name, data in files:
        c.execute("INSERT INTO files(job, name, data) VALUES(?,?,?)", (cur.lastrowid, name, data))
    print(label, cur.lastrowid)
c.commit()
PY
	fail "forged rows written as nobody"
cat "$T/ids"
id_of() { awk -v l="$1" '$1 == l {print $2}' "$T/ids"; }
for l in traversal kind commit repository roster filename; do
	check "forged $l row: failed" test "$(wait_job "$(id_of $l)")" = failed
	cp "$T/resp" "$T/$l.json"
done
for l in traversal kind commit repository roster; do
	check "forged $l row: refused by the check" grep -q '"job refused: ' "$T/$l.json"
done
check "forged student id: refused as unsafe" grep -q 'student id is not a plain, safe name' "$T/traversal.json"
check "forged repository: not its student's" grep -q "repository is not its student's" "$T/repository.json"
check "forged file name: refused" grep -q 'unsafe file name in the upload' "$T/filename.json"
check "forged file name: failed at once, not retried as a host fault" test "$(json_get "$T/filename.json" '["attempts"]')" = 1
check "the victim folder is untouched" sh -c "test \"\$(cat '$T/victim/ps1/important')\" = keep && test \"\$(ls -A '$T/victim/ps1')\" = important && test \"\$(ls -A '$T/victim')\" = ps1"
check "nothing of the forged rows written anywhere" test -z "$(find "$T" -name owned-by-root.txt 2>/dev/null)"
check "no folder for the forged students" test ! -e "$T/state/submitted/mallory" -a ! -e "$T/state/submitted/victim"

b=$(id_of backdated)
check "backdated row: graded" test "$(wait_job "$b")" = done
check "backdated row: received when the grading side saw it, not in 2020" /usr/bin/python3 -c "
import json,sys; s=json.load(open('$T/resp'))['submission']; print(s['timestamp'])
sys.exit(not s['timestamp'] >= '2026-11')"
check "backdated row: logged as out of bounds" grep -q "job $b: received time 1600000000.000 out of bounds" "$T/serve.log"

# a real upload still goes through
code=$($CURL -o "$T/resp" -w '%{http_code}' -H "Authorization: Bearer bob-token-0123456789abc" \
	-F assignment=ps1 -F "file=@$T/gen/bob/ps1/ps1.ipynb" "http://127.0.0.1:$SRV_PORT/api/v1/submissions")
check "a real upload: 202" test "$code" = 202
check "a real upload: done" test "$(wait_job "$(json_get "$T/resp" '["job"]')")" = done
check "a real upload: on its own received time" /usr/bin/python3 -c "
import json,sys; j=json.load(open('$T/resp')); sys.exit(not j['submission']['timestamp'] >= '2026-11')"
stop_server TERM
check "no sanitizer report from the service" sh -c "! grep -q -e 'Sanitizer' -e 'runtime error' '$T/serve.log'"
finish
