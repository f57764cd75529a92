#!/bin/sh
# `grader export --to nbgrader-db`: the schema equals nbgrader's (facts recorded
# below from nbgrader/api.py and its alembic head), the data matches the gradebook,
# and a second export keeps what a marker entered in formgrader.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
GB=$ROOT/tests/fixtures/gradebook/ps1.json
DB=$E2E_TMP/gradebook.db

# Prints the schema facts of a SQLite file, sorted: columns (type, NOT NULL,
# primary key), column order, unique constraints, foreign keys.
cat >"$E2E_TMP/facts.py" <<'PYEOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
out = []
for (t,) in db.execute("select name from sqlite_master where type = 'table'"):
    cols = list(db.execute(f'pragma table_info("{t}")'))
    out.append(f"order {t}: " + ", ".join(c[1] for c in cols))
    for cid, name, typ, notnull, dflt, pk in cols:
        out.append(f"column {t}.{name} {typ}{' NOT NULL' if notnull else ''}{' PRIMARY KEY' if pk else ''}")
    for seq, name, unique, origin, partial in db.execute(f'pragma index_list("{t}")'):
        if unique and origin == 'u':
            cols = [r[2] for r in db.execute(f'pragma index_info("{name}")')]
            out.append(f"unique {t}({', '.join(cols)})")
    for row in db.execute(f'pragma foreign_key_list("{t}")'):
        out.append(f"foreign key {t}.{row[3]} -> {row[2]}.{row[4]}")
print("\n".join(sorted(out)))
PYEOF

# Facts of nbgrader's models (nbgrader/api.py, SQLAlchemy >= 1.4 on SQLite: String(n)
# -> VARCHAR(n), Text -> TEXT, DateTime and Interval -> DATETIME, Float -> FLOAT,
# Boolean -> BOOLEAN, Enum("code", "markdown") -> VARCHAR(8)). course.id is both
# primary key and unique=True: SQLite keeps one index for the two.
cat >"$E2E_TMP/want" <<'FACTS'
column alembic_version.version_num VARCHAR(32) NOT NULL
column assignment.course_id VARCHAR(128) NOT NULL
column assignment.duedate DATETIME
column assignment.id VARCHAR(32) NOT NULL PRIMARY KEY
column assignment.name VARCHAR(128) NOT NULL
column base_cell.id VARCHAR(32) NOT NULL PRIMARY KEY
column base_cell.name VARCHAR(128) NOT NULL
column base_cell.notebook_id VARCHAR(32) NOT NULL
column base_cell.type VARCHAR(50)
column comment.auto_comment TEXT
column comment.cell_id VARCHAR(32)
column comment.id VARCHAR(32) NOT NULL PRIMARY KEY
column comment.manual_comment TEXT
column comment.notebook_id VARCHAR(32)
column course.id VARCHAR(128) NOT NULL PRIMARY KEY
column grade.auto_score FLOAT
column grade.cell_id VARCHAR(32)
column grade.extra_credit FLOAT
column grade.id VARCHAR(32) NOT NULL PRIMARY KEY
column grade.manual_score FLOAT
column grade.needs_manual_grade BOOLEAN NOT NULL
column grade.notebook_id VARCHAR(32)
column grade_cells.cell_type VARCHAR(8) NOT NULL
column grade_cells.id VARCHAR(32) NOT NULL PRIMARY KEY
column grade_cells.max_score FLOAT NOT NULL
column notebook.assignment_id VARCHAR(32)
column notebook.id VARCHAR(32) NOT NULL PRIMARY KEY
column notebook.kernelspec VARCHAR(1024)
column notebook.name VARCHAR(128) NOT NULL
column solution_cells.id VARCHAR(32) NOT NULL PRIMARY KEY
column source_cell.cell_type VARCHAR(8) NOT NULL
column source_cell.checksum VARCHAR(128)
column source_cell.id VARCHAR(32) NOT NULL PRIMARY KEY
column source_cell.locked BOOLEAN NOT NULL
column source_cell.name VARCHAR(128) NOT NULL
column source_cell.notebook_id VARCHAR(32)
column source_cell.source TEXT
column student.email VARCHAR(128)
column student.first_name VARCHAR(128)
column student.id VARCHAR(128) NOT NULL PRIMARY KEY
column student.last_name VARCHAR(128)
column student.lms_user_id VARCHAR(128)
column submitted_assignment.assignment_id VARCHAR(32)
column submitted_assignment.extension DATETIME
column submitted_assignment.id VARCHAR(32) NOT NULL PRIMARY KEY
column submitted_assignment.student_id VARCHAR(128)
column submitted_assignment.timestamp DATETIME
column submitted_notebook.assignment_id VARCHAR(32)
column submitted_notebook.flagged BOOLEAN
column submitted_notebook.id VARCHAR(32) NOT NULL PRIMARY KEY
column submitted_notebook.late_submission_penalty FLOAT
column submitted_notebook.notebook_id VARCHAR(32)
column task_cells.cell_type VARCHAR(8) NOT NULL
column task_cells.id VARCHAR(32) NOT NULL PRIMARY KEY
column task_cells.max_score FLOAT NOT NULL
foreign key assignment.course_id -> course.id
foreign key base_cell.notebook_id -> notebook.id
foreign key comment.cell_id -> base_cell.id
foreign key comment.notebook_id -> submitted_notebook.id
foreign key grade.cell_id -> base_cell.id
foreign key grade.notebook_id -> submitted_notebook.id
foreign key grade_cells.id -> base_cell.id
foreign key notebook.assignment_id -> assignment.id
foreign key solution_cells.id -> base_cell.id
foreign key source_cell.notebook_id -> notebook.id
foreign key submitted_assignment.assignment_id -> assignment.id
foreign key submitted_assignment.student_id -> student.id
foreign key submitted_notebook.assignment_id -> submitted_assignment.id
foreign key submitted_notebook.notebook_id -> notebook.id
foreign key task_cells.id -> base_cell.id
order alembic_version: version_num
order assignment: id, name, duedate, course_id
order base_cell: id, name, notebook_id, type
order comment: id, notebook_id, cell_id, auto_comment, manual_comment
order course: id
order grade: id, notebook_id, cell_id, auto_score, manual_score, extra_credit, needs_manual_grade
order grade_cells: id, max_score, cell_type
order notebook: id, name, assignment_id, kernelspec
order solution_cells: id
order source_cell: id, name, cell_type, locked, source, checksum, notebook_id
order student: id, first_name, last_name, email, lms_user_id
order submitted_assignment: id, assignment_id, student_id, timestamp, extension
order submitted_notebook: id, assignment_id, notebook_id, flagged, late_submission_penalty
order task_cells: id, max_score, cell_type
unique assignment(name)
unique base_cell(name, notebook_id, type)
unique comment(cell_id, notebook_id)
unique grade(cell_id, notebook_id)
unique notebook(name, assignment_id)
unique source_cell(name, notebook_id)
unique submitted_assignment(assignment_id, student_id)
unique submitted_notebook(notebook_id, assignment_id)
FACTS

"$GRADER" export "$GB" --to nbgrader-db -o "$DB"; check "creating the database exits 0" test $? -eq 0
$PY "$E2E_TMP/facts.py" "$DB" >"$E2E_TMP/got"
check "schema equals nbgrader's" cmp -s "$E2E_TMP/got" "$E2E_TMP/want"
cmp -s "$E2E_TMP/got" "$E2E_TMP/want" || diff "$E2E_TMP/want" "$E2E_TMP/got"

# q SQL: one value (or rows joined by '|') from the database.
q() { $PY -c "import sqlite3,sys; print('\n'.join('|'.join('' if v is None else str(v) for v in r) for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2])))" "$DB" "$1"; }
# nbgrader's score of a submission: sum over grades of manual (else auto, else 0) plus extra credit.
SCORE="select sa.student_id, round(sum(case when g.manual_score is not null then g.manual_score + coalesce(g.extra_credit, 0) when g.auto_score is not null then g.auto_score + coalesce(g.extra_credit, 0) else 0 end), 6), (select sum(late_submission_penalty) from submitted_notebook where assignment_id = sa.id) from submitted_assignment sa join submitted_notebook sn on sn.assignment_id = sa.id join grade g on g.notebook_id = sn.id group by sa.id order by sa.student_id"

check "stamped with nbgrader's alembic head" test "$(q 'select version_num from alembic_version')" = e43177bfe90b
check "default course exists" test "$(q 'select id from course')" = default_course
check "ids are uuid4 hex" test "$(q "select count(*) from assignment where length(id) = 32 and id not glob '*[^0-9a-f]*' and substr(id, 13, 1) = '4'")" = 1
check "four students with names" test "$(q "select first_name || ' ' || last_name from student where id = 'dave'")" = "Đức Nguyễn"
check "carol (missing) has no submission, as in nbgrader" test "$(q 'select group_concat(student_id) from (select student_id from submitted_assignment order by student_id)')" = "alice,bob,dave"
check "scores as nbgrader computes them" test "$(q "$SCORE" | tr '\n' ' ')" = "alice|10.0|0.0 bob|2.5|1.0 dave|3.0|0.0 "
check "every cell kind is recorded" test "$(q "select type, count(*) from base_cell group by type order by type" | tr '\n' ' ')" = "GradeCell|4 SolutionCell|3 TaskCell|1 "
check "source cells carry checksums" test "$(q "select count(*) from source_cell where checksum is not null")" = 8
check "timestamps stored as SQLAlchemy does" test "$(q "select timestamp from submitted_assignment where student_id = 'alice'")" = "2026-10-29 21:14:03.250000"
check "extension stored as an Interval" test "$(q "select extension from submitted_assignment where student_id = 'dave'")" = "1970-01-02 00:00:00.000000"
check "a grade row per graded cell, a comment row per solution/task cell" test "$(q 'select (select count(*) from grade) || "/" || (select count(*) from comment)')" = "15/12"
check "alice's manual score from the gradebook" test "$(q "select g.manual_score from grade g join base_cell c on c.id = g.cell_id join submitted_notebook sn on sn.id = g.notebook_id join submitted_assignment sa on sa.id = sn.assignment_id where sa.student_id = 'alice' and c.name = 'explain'")" = 2.5

# A marker grades bob's essay and comments in formgrader, and flags his notebook.
BOB_EXPLAIN="from grade g join base_cell c on c.id = g.cell_id join submitted_notebook sn on sn.id = g.notebook_id join submitted_assignment sa on sa.id = sn.assignment_id where sa.student_id = 'bob' and c.name = 'explain'"
$PY - "$DB" <<'PYEOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
sel = """select {} from {} x join base_cell c on c.id = x.cell_id join submitted_notebook sn on sn.id = x.notebook_id
         join submitted_assignment sa on sa.id = sn.assignment_id where sa.student_id = 'bob' and c.name = 'explain'"""
gid = db.execute(sel.format("x.id", "grade")).fetchone()[0]
cid = db.execute(sel.format("x.id", "comment")).fetchone()[0]
db.execute("update grade set manual_score = 2.0, extra_credit = 0.25, needs_manual_grade = 0 where id = ?", (gid,))
db.execute("update comment set manual_comment = 'See me & bring <notes>' where id = ?", (cid,))
db.execute("update submitted_notebook set flagged = 1 where id = (select notebook_id from grade where id = ?)", (gid,))
db.commit()
PYEOF
before=$(q "select count(*) from grade")/$(q "select group_concat(id) from (select id from grade order by id)" | md5sum)
"$GRADER" export "$GB" --to nbgrader-db -o "$DB"; check "second export exits 0" test $? -eq 0
check "manual score kept" test "$(q "select g.manual_score || '/' || g.extra_credit || '/' || g.needs_manual_grade $BOB_EXPLAIN")" = "2.0/0.25/0"
check "manual comment kept" test "$(q "select x.manual_comment from comment x join base_cell c on c.id = x.cell_id join submitted_notebook sn on sn.id = x.notebook_id join submitted_assignment sa on sa.id = sn.assignment_id where sa.student_id = 'bob' and c.name = 'explain'")" = "See me & bring <notes>"
check "marker's flag kept" test "$(q "select sn.flagged $BOB_EXPLAIN")" = 1
check "no duplicate rows, same ids" test "$(q "select count(*) from grade")/$(q "select group_concat(id) from (select id from grade order by id)" | md5sum)" = "$before"
check "bob's new score as nbgrader computes it" test "$(q "$SCORE" | grep '^bob')" = "bob|4.75|1.0"
$PY "$E2E_TMP/facts.py" "$DB" >"$E2E_TMP/got"
check "schema unchanged by the update" cmp -s "$E2E_TMP/got" "$E2E_TMP/want"

# A database from another nbgrader version is refused, untouched.
$PY -c "import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); d.execute(\"update alembic_version set version_num = '282d30a0218e'\"); d.commit()" "$DB"
sum1=$(md5sum <"$DB")
"$GRADER" export "$GB" --to nbgrader-db -o "$DB" 2>"$E2E_TMP/err"; rc=$?
check "older revision exits 1" test $rc -eq 1
check "older revision is explained" grep -q "revision '282d30a0218e'.*nbgrader db upgrade" "$E2E_TMP/err"
check "older revision left untouched" test "$(md5sum <"$DB")" = "$sum1"
$PY -c "import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); d.execute('create table other (x)'); d.commit()" "$E2E_TMP/other.db"
"$GRADER" export "$GB" --to nbgrader-db -o "$E2E_TMP/other.db" 2>"$E2E_TMP/err"; rc=$?
check "a foreign database is refused" test $rc -eq 1
check "refusal names the missing table" grep -q "not an nbgrader gradebook: no table 'course'" "$E2E_TMP/err"
"$GRADER" export "$GB" --to nbgrader-db 2>/dev/null; check "nbgrader-db without -o exits 2" test $? -eq 2
finish
