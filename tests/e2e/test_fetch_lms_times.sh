#!/bin/sh
# LMS times that decide lateness, fetched and graded end to end. A Moodle
# download (ZipStream writes each entry's MS-DOS date and time, no zone, in
# the site's zone) with entries on both sides of America/New_York's DST
# changes, in the repeated hour of November and the skipped hour of March,
# a student's own zip with old file times inside, online text (stamped with
# the download's time), and an entry with a UTC
# extended timestamp (zip on Linux); read with --lms-timezone on a machine
# whose own zone is another one. Deadline 2026-11-01T06:00:00Z.
. "$(dirname "$0")/lib.sh"
ex="$ROOT/rubrics/examples"
T=$E2E_TMP
PY=/usr/bin/python3
"$GRADER" rubric release "$ex/ps1.json" -o "$T/release" >/dev/null
$PY "$ex/make_submissions.py" "$T/release/ps1.ipynb" "$T/demo" >/dev/null
# the same rubric (beside its data file), due at the deadline: 01:00 EST, the
# second 01:00 of that night
cp -r "$ex/ps1" "$T/ps1"
$PY -c "
import json, sys
r = json.load(open(sys.argv[1])); r['duedate'] = '2026-11-01T06:00:00Z'
json.dump(r, open(sys.argv[2], 'w'))" "$ex/ps1.json" "$T/ps1.json"

$PY - "$T/demo/alice/ps1/ps1.ipynb" "$T" <<'PYEOF'
import io, struct, sys, zipfile
nb, out = open(sys.argv[1], 'rb').read(), sys.argv[2]

def entry(name, t, extra=b''):
    z = zipfile.ZipInfo(name, t)
    z.create_system = 3
    z.extra = extra
    return z

inner = io.BytesIO()
with zipfile.ZipFile(inner, 'w') as z:
    # the student's own clock, a month before
    z.writestr(entry('project/ps1.ipynb', (2026, 10, 1, 9, 0, 0)), nb)
# Info-ZIP's extended timestamp: flags mtime|atime, both UTC (05:00Z); its
# DOS time is the local time of the machine that zipped (here 14:00 Tokyo)
ut = struct.pack('<HHBII', 0x5455, 9, 3, 1793509200, 1793509200)
with zipfile.ZipFile(out + '/moodle.zip', 'w') as z:
    for name, pid, t in [('Ann Early', 12401, (2026, 11, 1, 0, 30, 0)),   # EDT: 04:30Z
                         ('Bea Twice', 12402, (2026, 11, 1, 1, 30, 0)),   # twice: 05:30Z, 06:30Z
                         ('Cy After', 12403, (2026, 11, 1, 2, 30, 0)),    # EST: 07:30Z
                         ('Di Spring', 12404, (2026, 3, 8, 2, 30, 0))]:   # skipped hour
        z.writestr(entry('%s_%d_assignsubmission_file_/ps1.ipynb' % (name, pid), t), nb)
    z.writestr(entry('Ed Nested_12405_assignsubmission_file_/project.zip',
                     (2026, 11, 1, 2, 30, 0)), inner.getvalue())
    z.writestr(entry('Flo Unix_12406_assignsubmission_file_/ps1.ipynb',
                     (2026, 11, 1, 14, 0, 0), ut), nb)
    # the online text is a string Moodle zips with the time of the download
    z.writestr(entry('Ann Early_12401_assignsubmission_onlinetext_/onlinetext.html',
                     (2026, 11, 5, 9, 0, 0)), '<p>see the notebook</p>')
with zipfile.ZipFile(out + '/text.zip', 'w') as z:
    z.writestr(entry('Gia Text_12407_assignsubmission_onlinetext_/onlinetext.html',
                     (2026, 11, 5, 9, 0, 0)), '<p>my answer</p>')
PYEOF
cat >"$T/roster.csv" <<'EOF'
student_id,first_name,last_name,lms_id
ann,Ann,Early,12401
bea,Bea,Twice,12402
cy,Cy,After,12403
di,Di,Spring,12404
ed,Ed,Nested,12405
flo,Flo,Unix,12406
EOF

TZ=Asia/Tokyo "$GRADER" fetch archive "$T/moodle.zip" --assignment ps1 --dest "$T/sub" \
	--roster "$T/roster.csv" --lms-timezone America/New_York --deadline 2026-11-01T06:00:00Z \
	--manifest "$T/m.csv" >"$T/out" 2>"$T/err"
check "moodle: exit 0" test $? -eq 0
ts() { cat "$T/sub/$1/ps1/timestamp.txt"; }
check "00:30 is EDT (the online text's download time left out)" \
	test "$(ts ann)" = "2026-11-01 04:30:00.000000 UTC"
check "01:30 happens twice: the first, EDT" test "$(ts bea)" = "2026-11-01 05:30:00.000000 UTC"
check "02:30 is EST" test "$(ts cy)" = "2026-11-01 07:30:00.000000 UTC"
check "02:30 in March's skipped hour: the offset after (EDT)" \
	test "$(ts di)" = "2026-03-08 06:30:00.000000 UTC"
check "a student's own zip: Moodle's time of it, not the files' inside" \
	test "$(ts ed)" = "2026-11-01 07:30:00.000000 UTC"
check "a UTC extended timestamp is taken as it is" test "$(ts flo)" = "2026-11-01 05:00:00.000000 UTC"
check "the repeated hour: a warning naming the student and both instants" \
	grep -q "^fetch: student 'bea': warning: the archive entry time is in the hour that happens twice in America/New_York (clocks go back): read as the first, 2026-11-01T05:30:00Z, not 2026-11-01T06:30:00Z" "$T/err"
check "no warning for the others" test "$(grep -c warning "$T/err")" = 1
for s in ann bea di flo; do
	check "$s on time" grep -q "^$s,ps1,ok,no," "$T/m.csv"
done
for s in cy ed; do
	check "$s late" grep -q "^$s,ps1,ok,yes," "$T/m.csv"
done
check "the host's own zone plays no part" sh -c "
TZ=Europe/Berlin '$GRADER' fetch archive '$T/moodle.zip' --assignment ps1 --dest '$T/sub2' \
	--roster '$T/roster.csv' --lms-timezone America/New_York >/dev/null 2>&1 &&
diff -r -x .grader-provenance.json '$T/sub' '$T/sub2'"
# online text alone: the time is unknown, and why
"$GRADER" fetch archive "$T/text.zip" --assignment ps1 --dest "$T/text" --lms-timezone America/New_York \
	>/dev/null 2>&1
check "online text alone: no time (the download's is not the student's)" \
	test ! -s "$T/text/12407/ps1/timestamp.txt"
check "online text alone: the provenance says why" \
	grep -q '"timestamp_note": "Moodle stamps the online text with the time the download was made' \
	"$T/text/12407/ps1/.grader-provenance.json"
# without --lms-timezone a DOS time is this machine's local time, as before
TZ=UTC "$GRADER" fetch archive "$T/moodle.zip" --assignment ps1 --dest "$T/utc" \
	--roster "$T/roster.csv" >/dev/null 2>&1
check "no --lms-timezone: read in this machine's zone (UTC)" \
	test "$(cat "$T/utc/ann/ps1/timestamp.txt")" = "2026-11-01 00:30:00.000000 UTC"

# --- graded against the due date: only the two late ones lose points
"$GRADER" grade --rubric "$T/ps1.json" --submissions "$T/sub" -o "$T/gb.json" -q 2>"$T/grade.err"
check "grade exits 0" test $? -eq 0
"$GRADER" grade --rubric "$T/ps1.json" --submissions "$T/demo" -o "$T/demo.json" -q 2>/dev/null
check "graded: on time keeps alice's score, late ones lose points" $PY -c "
import json, sys
want = [s for s in json.load(open(sys.argv[2]))['submissions'] if s['student_id'] == 'alice'][0]['score']
got = {s['student_id']: (s['status'], s['score']) for s in json.load(open(sys.argv[1]))['submissions']}
late = ('cy', 'ed')
bad = [k for k, (st, sc) in got.items()
       if st != 'graded' or (sc >= want if k in late else sc != want)]
sys.exit(bad or len(got) != 6)" "$T/gb.json" "$T/demo.json"
# --- a notebook renamed by the student's browser: the message says which and what to do
mkdir -p "$T/ren/gus/ps1"
cp "$T/demo/alice/ps1/ps1.ipynb" "$T/ren/gus/ps1/ps1 (1).ipynb"
"$GRADER" grade --rubric "$T/ps1.json" --submissions "$T/ren" -o "$T/ren.json" -q 2>/dev/null
check "renamed notebook: the message names the file and the fix" gb_sub "$T/ren.json" gus \
	"s['notebooks'][0]['message'] == \"no 'ps1.ipynb' in the submission (it has 'ps1 (1).ipynb'; rename it to 'ps1.ipynb' to grade it)\""
finish
