#!/bin/sh
# Research exports on the real demo course: --to items (one row per student
# and question) and --pseudonymise on every format, pseudonyms checked
# against Python's own HMAC-SHA256, and no name, email or free text left.
. "$(dirname "$0")/lib.sh"
T=$E2E_TMP
PY=/usr/bin/python3
sh "$ROOT/rubrics/examples/demo.sh" "$GRADER" "$T/demo" >"$T/demo.out" 2>&1
check "demo graded" test $? -eq 0
# Personal data the exports must drop: names, emails and a student's words in an output.
$PY - "$T/demo/gradebook.json" "$T/gb1.json" "$T/gb2.json" <<'PYEOF'
import json, sys
gb = json.load(open(sys.argv[1]))
for s in gb["students"]:
    s.update(first_name="First" + s["id"], last_name="Last" + s["id"], email=s["id"] + "@uni.example",
             lms_user_id="lms-" + s["id"])
for sub in gb["submissions"]:
    g = sub["notebooks"][0]["grades"][0]
    g["output"]["stdout"] = "my name is Secret" + sub["student_id"]
json.dump(gb, open(sys.argv[2], "w"))
a = gb["assignments"][0]; a["name"] = "ps2"
for sub in gb["submissions"]:
    sub["assignment"] = "ps2"
json.dump(gb, open(sys.argv[3], "w"))
PYEOF

"$GRADER" export "$T/gb1.json" --to items -o "$T/items.csv"
check "items: written" test -s "$T/items.csv"
check "items: one row per student and question, matching the gradebook" $PY - "$T/gb1.json" "$T/items.csv" <<'PYEOF'
import csv, json, sys
gb = json.load(open(sys.argv[1])); rows = list(csv.DictReader(open(sys.argv[2])))
qs = [(nb["name"], c) for nb in gb["assignments"][0]["notebooks"] for c in nb["cells"] if c["grade"] or c["task"]]
assert len(rows) == len(gb["students"]) * len(qs), len(rows)
assert list(rows[0]) == ["assignment", "student_id", "notebook", "question", "score", "max_score", "status", "time"]
by = {(r["student_id"], r["question"]): r for r in rows}
for s in gb["submissions"]:
    for g in s["notebooks"][0]["grades"]:
        r = by[(s["student_id"], g["grade_id"])]
        want = (g["manual_score"] if g["manual_score"] is not None else (g["auto_score"] or 0.0)) + (g["extra_credit"] or 0.0)
        assert float(r["score"]) == want, (r, g)
        assert float(r["max_score"]) == g["max_score"]
        if g["time"] is not None:
            assert abs(float(r["time"]) - g["time"]) < 1e-6
assert by[("bob", "test_fizzbuzz")]["status"] == "partial"
assert by[("carol", "test_squares")]["status"] == "failed"
assert by[("alice", "palindrome_spaces")]["status"] == "needs_manual_grade"
PYEOF

head -c 32 /dev/urandom >"$T/key"
head -c 32 /dev/urandom >"$T/key2"
for fmt in csv items junit markdown; do
	"$GRADER" export "$T/gb1.json" --to $fmt --pseudonymise "$T/key" -o "$T/p.$fmt"
	check "pseudonymised $fmt written" test -s "$T/p.$fmt"
done
"$GRADER" export "$T/gb1.json" --to gradescope --pseudonymise "$T/key" -o "$T/p.gs"
"$GRADER" export "$T/gb1.json" --to nbgrader-db --pseudonymise "$T/key" -o "$T/p.db"
sqlite3 "$T/p.db" .dump >"$T/p.db.sql"
find "$T/p.gs" -type f -exec cat {} + >"$T/p.gs.all"
ls "$T/p.gs" >>"$T/p.gs.all"
check "no id, name, email or student text in any pseudonymised export" $PY - "$T/gb1.json" \
	"$T/p.csv" "$T/p.items" "$T/p.junit" "$T/p.markdown" "$T/p.gs.all" "$T/p.db.sql" <<'PYEOF'
import json, re, sys
gb = json.load(open(sys.argv[1]))
for f in sys.argv[2:]:
    t = open(f, errors="replace").read()
    for s in gb["students"]:
        for v in (s["first_name"], s["last_name"], s["email"], s["lms_user_id"], "Secret" + s["id"]):
            assert v not in t, (f, v)
        assert not re.search(r"\b%s\b" % re.escape(s["id"]), t), (f, s["id"])
    assert "/submitted/" not in t, f  # paths of the work
PYEOF
check "pseudonyms are HMAC-SHA256(key, id) truncated, as Python computes them" $PY - "$T/key" "$T/p.items" <<'PYEOF'
import csv, hashlib, hmac, sys
key = open(sys.argv[1], "rb").read()
want = {hmac.new(key, s.encode(), hashlib.sha256).hexdigest()[:16] for s in
        ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan")}
got = {r["student_id"] for r in csv.DictReader(open(sys.argv[2]))}
assert got == want, (got, want)
PYEOF
"$GRADER" export "$T/gb2.json" --to items --pseudonymise "$T/key" -o "$T/p2.items"
"$GRADER" export "$T/gb2.json" --to items --pseudonymise "$T/key2" -o "$T/q2.items"
ids() { cut -d, -f2 "$1" | sort -u; }
check "same key, same pseudonyms across assignments" test "$(ids "$T/p.items")" = "$(ids "$T/p2.items")"
check "another key, other pseudonyms" test -z "$(ids "$T/p.items" | grep -v student_id | grep -Fx "$(ids "$T/q2.items" | grep -v student_id)")"
check "scores survive pseudonymisation" test "$(cut -d, -f3- "$T/p.items" | sort | md5sum)" = \
	"$(cut -d, -f3- "$T/items.csv" | sort | md5sum)"
printf short >"$T/short"
"$GRADER" export "$T/gb1.json" --to csv --pseudonymise "$T/short" >/dev/null 2>"$T/err"
check "a short key is refused" test $? -eq 1
check "... naming the file" grep -q "key file '.*short' is too short" "$T/err"
"$GRADER" export "$T/gb1.json" --to csv --pseudonymise "$T/none" >/dev/null 2>"$T/err"
check "a missing key file is refused naming it" grep -q "none" "$T/err"
finish
