#!/bin/sh
# Every exporter on the real demo course, graded by the real grader.
. "$(dirname "$0")/lib.sh"
T=$E2E_TMP
sh "$ROOT/rubrics/examples/demo.sh" "$GRADER" "$T/demo" >"$T/demo.out" 2>&1
check "make demo's script runs" test $? -eq 0
check "demo prints a per-student table" grep -q '^| ivan |' "$T/demo.out"
GB=$T/demo/gradebook.json

# csv: nbgrader export's columns and numbers
"$GRADER" export "$GB" --to csv -o "$T/g.csv"
check "csv header is nbgrader's" test "$(head -n 1 "$T/g.csv")" = \
	"assignment,duedate,timestamp,student_id,last_name,first_name,email,raw_score,late_submission_penalty,score,max_score"
check "csv row of a late student" grep -qx 'ps1,2026-10-30 10:00:00,2026-11-01 12:00:00,ivan,,,,13.0,3.9,9.1,18.0' "$T/g.csv"
check "csv row of a malformed submission" grep -qx 'ps1,2026-10-30 10:00:00,2026-10-30 04:00:00,heidi,,,,0.0,0.0,0.0,18.0' "$T/g.csv"
check "csv has one row per student" test "$(wc -l <"$T/g.csv")" -eq 10
"$GRADER" export "$GB" --to csv --per-cell -o "$T/p.csv"
check "per-cell csv: bob's partial credit" /usr/bin/python3 -c "
import csv, sys
rows = {r['student_id']: r for r in csv.DictReader(open(sys.argv[1]))}
assert rows['bob']['ps1/test_fizzbuzz'] == '3.0', rows['bob']
assert rows['bob']['ps1/test_is_palindrome'] == '0.0'" "$T/p.csv"

# junit: one testcase per graded cell, failures carry the traceback
"$GRADER" export "$GB" --to junit -o "$T/j.xml"
check "junit: well-formed, failures where the demo fails" /usr/bin/python3 -c "
import xml.etree.ElementTree as E, sys
r = E.parse(sys.argv[1]).getroot()
suites = {s.get('name').split('/')[1]: s for s in r.iter('testsuite')}
assert len(suites) == 9, suites.keys()
carol = {c.get('name'): c for c in suites['carol'].iter('testcase')}
f = carol['test_squares'].find('failure')
assert f is not None and 'NameError' in (f.text or ''), f
assert suites['alice'].get('failures') == '0'" "$T/j.xml"

check "junit: no skipped on <testsuites> (the common JUnit XSD), kept per suite" /usr/bin/python3 -c "
import xml.etree.ElementTree as E, sys
r = E.parse(sys.argv[1]).getroot()
assert 'skipped' not in r.attrib, r.attrib
assert all('skipped' in s.attrib for s in r.iter('testsuite'))" "$T/j.xml"
check "junit: an unreadable notebook's reason in every error message" /usr/bin/python3 -c "
import xml.etree.ElementTree as E, sys
r = E.parse(sys.argv[1]).getroot()
heidi = [s for s in r.iter('testsuite') if s.get('name') == 'ps1/heidi/ps1'][0]
errs = [e for c in heidi.iter('testcase') for e in c.findall('error')]
assert errs and all('not valid JSON' in e.get('message') for e in errs), [e.get('message') for e in errs]
" "$T/j.xml"

# gradescope: one results.json per student
"$GRADER" export "$GB" --to gradescope -o "$T/gs"
check "gradescope: a results.json per student" test "$(ls "$T/gs" | wc -l)" -eq 9
check "gradescope: scores and hidden-test visibility" /usr/bin/python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
t = {x['name'].split('/')[-1]: x for x in r['tests']}
assert abs(r['score'] - 9.1) < 1e-9, r['score']
assert t['test_is_palindrome']['visibility'] == 'after_published', t['test_is_palindrome']
assert t['test_squares']['status'] == 'passed'" "$T/gs/ivan/results.json"

check "gradescope: an errored submission says why, overall and per test" /usr/bin/python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
assert 'not graded' in r['output'] and 'not valid JSON' in r['output'], r['output']
assert all('not valid JSON' in t['output'] for t in r['tests'] if 'status' in t), r['tests']
" "$T/gs/heidi/results.json"
check "gradescope: a cell waiting for a marker is pending, without a status" /usr/bin/python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
t = {x['name'].split('/')[-1]: x for x in r['tests']}
for manual in ('palindrome_spaces', 'fizzbuzz_own_test'):
    assert 'status' not in t[manual], t[manual]
    assert t[manual]['output'].startswith('pending'), t[manual]
assert t['test_squares']['status'] == 'passed'" "$T/gs/alice/results.json"

# markdown
"$GRADER" export "$GB" --to markdown -o "$T/m.md"
check "markdown: per-question and per-student tables" sh -c "grep -q '^| ps1/test\\\\_fizzbuzz | 4 |' '$T/m.md' && grep -q '^| frank |' '$T/m.md'"

# nbgrader-db: scores as nbgrader computes them; a marker's work survives re-export
DB=$T/gradebook.db
"$GRADER" export "$GB" --to nbgrader-db -o "$DB"
check "nbgrader-db created" test -s "$DB"
score() { sqlite3 "$DB" "select sum(coalesce(g.manual_score, g.auto_score, 0) + coalesce(g.extra_credit, 0))
	from grade g join submitted_notebook n on g.notebook_id = n.id
	join submitted_assignment s on n.assignment_id = s.id where s.student_id = '$1'"; }
check "db: alice's autograded score" test "$(score alice)" = 13.0
check "db: frank's partial credit" test "$(score frank)" = 12.0
check "db: an unreadable notebook is flagged, its reason in the answer comments" test \
	"$(sqlite3 "$DB" "select n.flagged, count(*) from comment c join submitted_notebook n on c.notebook_id = n.id
	join submitted_assignment s on n.assignment_id = s.id where s.student_id = 'heidi'
	and c.auto_comment like 'not graded: cannot read %not valid JSON%' group by n.flagged")" = "1|7"
check "db: a graded notebook is not flagged for it" test \
	"$(sqlite3 "$DB" "select n.flagged from submitted_notebook n join submitted_assignment s
	on n.assignment_id = s.id where s.student_id = 'alice'")" = 0
check "db: alembic head stamped" test "$(sqlite3 "$DB" 'select version_num from alembic_version')" = e43177bfe90b
sqlite3 "$DB" "update grade set manual_score = 3 where id = (select g.id from grade g
	join base_cell c on g.cell_id = c.id join submitted_notebook n on g.notebook_id = n.id
	join submitted_assignment s on n.assignment_id = s.id
	where s.student_id = 'alice' and c.name = 'palindrome_spaces')"
"$GRADER" export "$GB" --to nbgrader-db -o "$DB"
check "db: second export exits 0" test $? -eq 0
check "db: a marker's manual score is kept" test "$(score alice)" = 16.0
finish
