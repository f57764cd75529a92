#!/bin/sh
# `grader export` to csv, junit, gradescope and markdown on the fixture gradebook,
# plus its errors and exit codes.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
GB=$ROOT/tests/fixtures/gradebook/ps1.json
T=$E2E_TMP

# --- csv: nbgrader's columns, order, number and date formatting, RFC 4180 quoting
"$GRADER" export "$GB" --to csv -o "$T/grades.csv"; check "csv exits 0" test $? -eq 0
cat >"$T/want.csv" <<'CSV'
assignment,duedate,timestamp,student_id,last_name,first_name,email,raw_score,late_submission_penalty,score,max_score
ps1,2026-10-30 10:00:00,2026-10-29 21:14:03.250000,alice,Liddell,Alice,alice@example.edu,10.0,0.0,10.0,10.0
ps1,2026-10-30 10:00:00,2026-10-31 07:30:00,dave,Nguyễn,Đức,dave@example.edu,3.0,0.0,3.0,10.0
ps1,2026-10-30 10:00:00,2026-10-30 12:00:00,bob,"O'Brien, Jr.",Robert,bob@example.edu,2.5,1.0,1.5,10.0
ps1,2026-10-30 10:00:00,,carol,Zhang,Carol,,0.0,0.0,0.0,10.0
CSV
check "csv equals nbgrader's text" cmp -s "$T/grades.csv" "$T/want.csv"
"$GRADER" export --to csv "$GB" >"$T/stdout.csv"
check "csv to stdout when -o is absent" cmp -s "$T/stdout.csv" "$T/want.csv"
"$GRADER" export "$GB" --to csv --per-cell -o - >"$T/cells.csv"
check "per-cell csv parses with 16 columns" $PY -c "
import csv,sys
rows=list(csv.reader(open(sys.argv[1], newline='')))
assert len(rows)==5 and all(len(r)==16 for r in rows), rows
assert rows[0][11:]==['problem1/test_squares','problem1/test_squares_hidden','problem1/test_fib','problem2/explain','problem2/plot_task']
bob=[r for r in rows if r[3]=='bob'][0]
assert bob[4]==\"O'Brien, Jr.\" and bob[11:]==['2.0','0.5','0.0','0.0','0.0'], bob
" "$T/cells.csv"

# --- junit: well-formed XML 1.0 despite '<', '&' and control characters in tracebacks
"$GRADER" export "$GB" --to junit -o "$T/junit.xml"; check "junit exits 0" test $? -eq 0
check "junit is well-formed and counts add up" $PY -c "
import xml.etree.ElementTree as ET,sys
root=ET.parse(sys.argv[1]).getroot()
assert root.tag=='testsuites'
suites=root.findall('testsuite')
assert len(suites)==8, len(suites)
assert int(root.get('tests'))==sum(int(s.get('tests')) for s in suites)==20
for s in suites:
    cases=s.findall('testcase')
    assert int(s.get('tests'))==len(cases)
    assert int(s.get('failures'))==sum(1 for c in cases if c.find('failure') is not None)
    float(s.get('time'))
bob=[s for s in suites if s.get('name')=='ps1/bob/problem1'][0]
fib=[c for c in bob.findall('testcase') if c.get('name')=='test_fib'][0]
assert '<function fib' in fib.find('failure').text and '&' in fib.find('failure').text
" "$T/junit.xml"

# --- gradescope: one results.json per student in a folder, or one file
"$GRADER" export "$GB" --to gradescope -o "$T/gs"; check "gradescope folder exits 0" test $? -eq 0
check "gradescope writes one results.json per student" test -f "$T/gs/alice/results.json" -a -f "$T/gs/bob/results.json" -a -f "$T/gs/carol/results.json" -a -f "$T/gs/dave/results.json"
check "gradescope results are valid" $PY -c "
import json,sys
for s,score in (('alice',10.0),('bob',1.5),('carol',0.0),('dave',3.0)):
    r=json.load(open(sys.argv[1]+'/'+s+'/results.json'))
    assert r['score']==score, (s, r['score'])
    assert isinstance(r['execution_time'],(int,float))
    assert len(r['tests'])==5
    for t in r['tests']:
        # a cell waiting for a marker is pending: no status (Gradescope would paint it red)
        pending = 'manual' in t['output']
        assert pending == t['output'].startswith('pending: '), t
        assert ('status' in t) != pending, t
        assert t['score']>=0
        if not pending:
            assert t['status'] in ('passed','failed')
            assert (t['status']=='passed')==(t['score']>=t['max_score'])
        assert t['visibility']==('after_published' if t['name'].endswith('_hidden') else 'visible')
        assert set(t)>={'name','number','score','max_score','output','visibility'}
" "$T/gs"
"$GRADER" export "$GB" --to gradescope --student bob -o "$T/bob.json"
check "gradescope one student to a file" test "$(json_get "$T/bob.json" '["tests"][2]["status"]')" = failed
check "gradescope one student to stdout" sh -c "'$GRADER' export '$GB' --to gradescope --student dave | $PY -c 'import json,sys; assert json.load(sys.stdin)[\"score\"]==3.0'"
"$GRADER" export "$GB" --to gradescope >/dev/null 2>"$T/err"; rc=$?
check "gradescope of 4 students to stdout is a usage error" test $rc -eq 2
check "gradescope tells to use a folder" grep -q 'need a folder' "$T/err"

# --- markdown
"$GRADER" export "$GB" --to markdown >"$T/summary.md"; check "markdown exits 0" test $? -eq 0
check "markdown has the per-question table" grep -q '^| question | max | mean | median | full marks | zero |$' "$T/summary.md"
check "markdown has the per-student table" grep -q '^| bob | Robert O.Brien, Jr. | graded, 2h late | 2.5 | 1 | 1.5 | 10 |' "$T/summary.md"

# --- errors: one line naming the file and the field; exit codes
"$GRADER" export "$T/none.json" --to csv 2>"$T/err"; rc=$?
check "missing gradebook exits 1" test $rc -eq 1
check "missing gradebook is named" grep -q "none.json" "$T/err"
$PY -c "
import json,sys
d=json.load(open(sys.argv[1])); d['submissions'][1]['notebooks'][0]['grades'][2]['auto_score']='zero'
json.dump(d,open(sys.argv[2],'w'))" "$GB" "$T/bad.json"
"$GRADER" export "$T/bad.json" --to csv >"$T/out" 2>"$T/err"; rc=$?
check "invalid gradebook exits 1" test $rc -eq 1
check "invalid gradebook error is one line" test "$(wc -l <"$T/err")" -eq 1
check "error names file and field" grep -q "bad.json': submissions\[1\].notebooks\[0\].grades\[2\].auto_score: expected a number" "$T/err"
check "nothing on stdout after an error" test ! -s "$T/out"
# a gradebook cut short is refused whole (exports read it as a stream), nothing written
head -c $(($(wc -c <"$GB") * 2 / 3)) "$GB" >"$T/cut.json"
"$GRADER" export "$T/cut.json" --to csv -o "$T/cut.csv" 2>"$T/err"; rc=$?
check "truncated gradebook exits 1" test $rc -eq 1
check "truncated gradebook error is one line" test "$(wc -l <"$T/err")" -eq 1
check "truncated gradebook error names the file and where it ends" \
	grep -q "cut.json': line [0-9]*: the file ends inside \(the \)*submissions" "$T/err"
check "truncated gradebook writes nothing" test ! -e "$T/cut.csv"
"$GRADER" export "$GB" --to xlsx 2>"$T/err"; rc=$?
check "unknown format exits 2" test $rc -eq 2
check "unknown format is named" grep -q "unknown format 'xlsx'" "$T/err"
"$GRADER" export "$GB" 2>/dev/null; check "missing --to exits 2" test $? -eq 2
"$GRADER" export "$GB" --to csv --student nobody 2>/dev/null; check "unknown student exits 2" test $? -eq 2
"$GRADER" export --help >"$T/help"; check "help exits 0" test $? -eq 0
for flag in --to -o --assignment --student --per-cell --course-id nbgrader-db gradescope junit markdown; do
	check "help mentions $flag" grep -q -- "$flag" "$T/help"
done

# --- the JSON Schema of docs/ accepts the fixture (python3-jsonschema, when installed)
if $PY -c 'import jsonschema' 2>/dev/null; then
	check "JSON Schema accepts the fixture" $PY -c "
import json,sys,jsonschema
s=json.load(open(sys.argv[1])); jsonschema.Draft202012Validator.check_schema(s)
jsonschema.validate(json.load(open(sys.argv[2])), s)" "$ROOT/docs/gradebook.schema.json" "$GB"
else
	skip "JSON Schema accepts the fixture" "python3-jsonschema not installed"
fi
finish
