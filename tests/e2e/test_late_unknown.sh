#!/bin/sh
# Submission times as real courses give them. A Canvas download made the way
# Canvas makes it (every entry stamped with the download time, after the
# deadline): nobody is late but the student Canvas flagged _LATE, and grade
# names every student without a known time and applies --late-unknown. An
# unreadable timestamp.txt is loud and flagged. timestamp.txt written like
# nbgrader's user guide (a tz database zone name) exports as nbgrader does.
. "$(dirname "$0")/lib.sh"
ex="$ROOT/rubrics/examples"
T=$E2E_TMP
PY=/usr/bin/python3
"$GRADER" rubric release "$ex/ps1.json" -o "$T/release" >/dev/null
$PY "$ex/make_submissions.py" "$T/release/ps1.ipynb" "$T/demo"

# --- a Canvas bulk download: rubyzip stamps every entry with the time of the download
$PY - "$T/demo" "$T/canvas.zip" <<'PYEOF'
import sys, time, zipfile
demo, out = sys.argv[1:]
now = time.localtime()[:6]
entries = [('alice', 'alicealice_1001_2001_ps1.ipynb'), ('bob', 'bobbob_1002_2002_ps1.ipynb'),
           ('carol', 'carolcarol_1003_2003_ps1.ipynb'), ('ivan', 'ivanivan_LATE_1004_2004_ps1.ipynb')]
with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
    for student, name in entries:
        z.writestr(zipfile.ZipInfo(name, now), open('%s/%s/ps1/ps1.ipynb' % (demo, student)).read())
PYEOF
printf 'student_id,lms_id\nalice,1001\nbob,1002\ncarol,1003\nivan,1004\n' >"$T/roster.csv"
"$GRADER" fetch archive "$T/canvas.zip" --roster "$T/roster.csv" --assignment ps1 \
	--dest "$T/sub" --deadline 2026-10-30T10:00:00Z --manifest "$T/m.csv" >"$T/out" 2>"$T/err"
check "canvas fetch exits 0" test $? -eq 0
late() { json_get "$T/sub/$1/ps1/.grader-provenance.json" '["late"]'; }
check "alice not late (entry time = download time)" test "$(late alice)" = False
check "bob not late" test "$(late bob)" = False
check "carol not late" test "$(late carol)" = False
check "ivan late: Canvas's flag" test "$(late ivan)" = True
check "timestamp.txt records no time" test ! -s "$T/sub/alice/ps1/timestamp.txt"
check "manifest: no invented timestamp" grep -q '^alice,ps1,ok,no,,ps1.ipynb,' "$T/m.csv"

# field GRADEBOOK STUDENT EXPR
field() { $PY -c "
import json, sys
gb = json.load(open(sys.argv[1]))
s = [s for s in gb['submissions'] if s['student_id'] == sys.argv[2]][0]
v = $3
print(json.dumps(v) if isinstance(v, (list, dict)) else v)" "$1" "$2"; }
expect() { got=$(field "$1" "$2" "$3"); if [ "$got" = "$4" ]; then pass "$(basename "$1"): $2: $3 = $4"; else fail "$(basename "$1"): $2: $3 = $4" "got $got"; fi; }

"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" -o "$T/gb.json" -j 2 2>"$T/log"
check "grade exits 0" test $? -eq 0
expect "$T/gb.json" alice "s['late_submission_penalty']" 0.0
expect "$T/gb.json" alice "s['score']" 13.0
expect "$T/gb.json" alice "'time_unknown' in s['flags']" True
expect "$T/gb.json" alice "'late_unknown' in s['flags']" False
expect "$T/gb.json" ivan "s['late_submission_penalty']" 0.0
expect "$T/gb.json" ivan "'late_unknown' in s['flags']" True
check "grade names ivan: late, time unknown, flagged" grep -q "^grader grade: student 'ivan': submission time unknown: Canvas stamps every entry .*; marked late by the LMS; graded without a late penalty, flagged for review (--late-unknown flag)" "$T/log"
check "grade names alice: time unknown, not late" grep -q "^grader grade: student 'alice': submission time unknown: .*no late penalty (the LMS did not mark it late)" "$T/log"
check "a line for each of the four" test "$(grep -c "^grader grade: student '.*': submission time unknown" "$T/log")" = 4

"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" -o "$T/gb0.json" --late-unknown zero -q 2>"$T/log0"
expect "$T/gb0.json" ivan "s['late_submission_penalty']" 13.0
expect "$T/gb0.json" ivan "s['score']" 0.0
expect "$T/gb0.json" alice "s['score']" 13.0
check "quiet still names ivan" grep -q "student 'ivan': .*(--late-unknown zero)" "$T/log0"
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" -o "$T/gb0.json" --late-unknown none -q 2>"$T/log1"
expect "$T/gb0.json" ivan "s['score']" 13.0
expect "$T/gb0.json" ivan "'late_unknown' in s['flags']" False
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" -o "$T/gb0.json" --late-unknown late 2>"$T/log2"
check "--late-unknown: bad value is a usage error" test $? -eq 2

# --- an unreadable timestamp.txt: loud, flagged, not silently on time
mkdir -p "$T/bad/bob/ps1" && cp "$T/demo/bob/ps1/ps1.ipynb" "$T/bad/bob/ps1/"
echo "last Tuesday" >"$T/bad/bob/ps1/timestamp.txt"
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/bad" -o "$T/gbbad.json" -q 2>"$T/logbad"
expect "$T/gbbad.json" bob "s['status']" graded
expect "$T/gbbad.json" bob "'bad_timestamp' in s['flags']" True
expect "$T/gbbad.json" bob "'late_unknown' in s['flags']" True
check "bad timestamp: a line naming the student and the text" grep -q "^grader grade: student 'bob': invalid time 'last Tuesday'" "$T/logbad"
"$GRADER" export "$T/gbbad.json" --to markdown -o "$T/bad.md" 2>/dev/null
check "bad timestamp: markdown export notes it" grep -qF 'bad\_timestamp' "$T/bad.md"
"$GRADER" export "$T/gbbad.json" --to gradescope --student bob -o "$T/bad-gs.json" 2>/dev/null
check "bad timestamp: gradescope output notes it" \
	sh -c "$PY -c \"import json,sys; print(json.load(open(sys.argv[1]))['output'])\" '$T/bad-gs.json' | grep -q \"invalid time 'last Tuesday'\""
"$GRADER" export "$T/gbbad.json" --to junit -o "$T/bad.xml" 2>/dev/null
check "bad timestamp: junit property notes it" grep -q "<property name=\"time_note\" value=\"invalid time 'last Tuesday'" "$T/bad.xml"
"$GRADER" export "$T/gb.json" --to junit -o "$T/canvas.xml" 2>/dev/null
check "canvas: junit notes the unknown time" grep -q '<property name="time_note" value="submission time unknown: Canvas stamps' "$T/canvas.xml"

# --- a bare date in timestamp.txt: its midnight in UTC, as nbgrader's parse_utc reads it
mkdir -p "$T/date/bob/ps1" && cp "$T/demo/bob/ps1/ps1.ipynb" "$T/date/bob/ps1/"
echo "2026-10-30" >"$T/date/bob/ps1/timestamp.txt"
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/date" -o "$T/gbdate.json" -q 2>"$T/logdate"
expect "$T/gbdate.json" bob "s['timestamp'].startswith('2026-10-30T00:00:00')" True
expect "$T/gbdate.json" bob "'bad_timestamp' in s['flags']" False

# --- an nbgrader tree whose timestamp.txt is unreadable, or empty: no time is made up
$PY - "$T/nbts.tar" <<'PYEOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], 'w') as t:
    for name, data in (('tess/ps1/ps1.ipynb', b'{}'), ('tess/ps1/timestamp.txt', b'soon\n'),
                       ('uma/ps1/ps1.ipynb', b'{}'), ('uma/ps1/timestamp.txt', b'')):
        ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = 1790000000
        t.addfile(ti, io.BytesIO(data))
PYEOF
"$GRADER" fetch archive "$T/nbts.tar" --layout nbgrader --assignment ps1 --dest "$T/nbts" \
	--manifest "$T/nbts.csv" >/dev/null 2>"$T/errts"
check "archive timestamp.txt unreadable: a line" grep -q "^fetch: student 'tess': 'nbts.tar!tess/ps1/timestamp.txt': invalid time 'soon'.*; the submission time is unknown" "$T/errts"
check "... no time made up" test -f "$T/nbts/tess/ps1/timestamp.txt" -a ! -s "$T/nbts/tess/ps1/timestamp.txt"
check "... provenance says why" grep -q "timestamp.txt is empty or unreadable" "$T/nbts/tess/ps1/.grader-provenance.json"
check "... listed in the manifest" grep -q "^tess,ps1,skipped,.*unreadable timestamp.txt: invalid time 'soon'" "$T/nbts.csv"
check "archive timestamp.txt empty: no time, quietly" test ! -s "$T/nbts/uma/ps1/timestamp.txt" -a -z "$(grep uma "$T/errts")"

# --- Blackboard writes attempt times in the server's local time, without a zone
$PY - "$T/bb.zip" <<'PYEOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    z.writestr('PS1_bob_attempt_2026-10-30-09-30-00_ps1.ipynb', '{}')
PYEOF
"$GRADER" fetch archive "$T/bb.zip" --assignment ps1 --dest "$T/bb" --deadline 2026-10-30T14:00:00Z >/dev/null 2>&1
check "blackboard: no zone given, read as UTC" test "$(cat "$T/bb/bob/ps1/timestamp.txt")" = "2026-10-30 09:30:00.000000 UTC"
rm -rf "$T/bb"
"$GRADER" fetch archive "$T/bb.zip" --assignment ps1 --dest "$T/bb" --deadline 2026-10-30T14:00:00Z \
	--lms-timezone America/Chicago >/dev/null 2>&1
check "blackboard: --lms-timezone (CDT)" test "$(cat "$T/bb/bob/ps1/timestamp.txt")" = "2026-10-30 14:30:00.000000 UTC"
check "blackboard: late in that zone" test "$(json_get "$T/bb/bob/ps1/.grader-provenance.json" '["late"]')" = True
"$GRADER" fetch archive "$T/bb.zip" --assignment ps1 --dest "$T/bb" --lms-timezone Mars/Olympus >/dev/null 2>"$T/errz"
check "--lms-timezone: unknown zone is a usage error" test $? -eq 2
check "--lms-timezone: says why" grep -q "unknown time zone 'Mars/Olympus'" "$T/errz"

# --- timestamp.txt as nbgrader's user guide writes it (a tz database zone)
mkdir -p "$T/guide/hacker/ps1" "$T/guide/bitdiddle/ps1"
cp "$T/demo/alice/ps1/ps1.ipynb" "$T/guide/hacker/ps1/"
cp "$T/demo/bob/ps1/ps1.ipynb" "$T/guide/bitdiddle/ps1/"
echo "2015-02-01 09:28:58.749302 America/Los_Angeles" >"$T/guide/hacker/ps1/timestamp.txt"
echo "2026-10-30 10:30:00 Europe/London" >"$T/guide/bitdiddle/ps1/timestamp.txt" # GMT again: 30 min late
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/guide" -o "$T/gbg.json" -q 2>"$T/logg"
expect "$T/gbg.json" hacker "s['timestamp']" "2015-02-01T17:28:58.749302Z"
expect "$T/gbg.json" hacker "s['flags']" "[]"
expect "$T/gbg.json" bitdiddle "s['late_seconds']" 1800.0
"$GRADER" export "$T/gbg.json" --to csv -o "$T/grades.csv" 2>"$T/errcsv"
check "csv: the user guide's time in UTC, as nbgrader export writes it" grep -q '^ps1,2026-10-30 10:00:00,2015-02-01 17:28:58.749302,hacker,' "$T/grades.csv"
. "$(dirname "$0")/nbgrader.sh"
if [ -d "$NBG/nbgrader" ]; then
	want=$(PYTHONPATH=$NBG:$NBG/stubs $PY -c "
from nbgrader.utils import parse_utc
print(parse_utc(open('$T/guide/hacker/ps1/timestamp.txt').read().strip()))")
	check "nbgrader's parse_utc agrees" grep -q ",$want,hacker," "$T/grades.csv"
	# the figures docs/scoring.md gives for the zones nbgrader reads differently
	PYTHONPATH=$NBG:$NBG/stubs $PY - >"$T/nbg" 2>&1 <<'PYEOF'
from nbgrader.utils import parse_utc
for text, want in [("2026-10-30 10:00:00.000000 PST", "2026-10-30 10:00:00"),
                   ("2026-10-30 10:00:00.000000 CEST", "2026-10-30 10:00:00"),
                   ("2026-10-30 10:00:00.000000 -0800", "2026-10-30 10:13:20"),
                   ("2026-10-30 10:00:00.000000 +0100", "2026-10-30 09:58:20"),
                   ("2026-10-30 10:00:00 Mars/Olympus", "2026-10-30 10:00:00"),
                   ("2026-03-29 01:30:00 Europe/London", "2026-03-29 00:30:00"),
                   ("2026-10-25 01:30:00 Europe/London", "2026-10-25 00:30:00")]:
    got = str(parse_utc(text))
    print(("same" if got == want else "DIFFERENT"), text, got)
PYEOF
	check "nbgrader's figures in docs/scoring.md still hold" sh -c "! grep -q DIFFERENT '$T/nbg' && test \$(grep -c ^same '$T/nbg') = 7"
else
	skip "nbgrader's parse_utc agrees" "no ../shared/nbgrader beside the checkout"
fi
finish
