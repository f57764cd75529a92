#!/bin/sh
# Cells run as an IPython kernel runs them: one nbgrader notebook per kernel
# behaviour (tests/e2e/kernel_fidelity.py), graded by `grader grade` and, when
# ../shared/nbgrader is there, by the real `nbgrader autograde` on the same
# submission; every test cell must score what the real kernel gives, except
# the deliberate differences listed there (and in the README's engine part),
# and fail with the exception the real kernel raises.
# Also: the caller's locale does not matter, and grading a batch in two
# orders gives identical gradebooks (nothing leaks from one notebook to the
# next in a worker).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nb_lib.sh"
T=$E2E_TMP
GRADER=$(cd "$(dirname "$GRADER")" && pwd)/$(basename "$GRADER")
FID=$ROOT/tests/e2e/kernel_fidelity.py
PY=/usr/bin/python3
weaker=
"$GRADER" doctor >/dev/null 2>&1 || weaker=--allow-weaker

$PY "$FID" write "$T/source/ps"
$PY "$FID" expected >"$T/expected.json"
# the fidelity notebooks fail on purpose (an IndentationError, a MemoryError,
# stderr in a test, as under nbgrader): the rubric is written unproven
(cd "$T/source/ps" && "$GRADER" rubric import ./*.ipynb --assignment ps --memory 1024 \
	--data data.csv --data helper.py --no-validate -o "$T/rubric.json") 2>"$T/import.err"
check "rubric import of the fidelity notebooks" test -s "$T/rubric.json"
"$GRADER" rubric release "$T/rubric.json" -o "$T/release" >/dev/null 2>&1
check "released" test -f "$T/release/utf8.ipynb"

# one student handing in the released notebooks; crlf.ipynb saved on Windows
S=$T/ours/submitted/s1/ps
mkdir -p "$S"
cp "$T/release/"* "$S/"
$PY "$FID" submit "$S"
$PY "$FID" crlf "$S/crlf.ipynb"
check "the crlf notebook has CRLF sources" grep -q '\\r\\n' "$S/crlf.ipynb"
echo "2026-10-30 10:00:00.000000 UTC" >"$S/timestamp.txt"

# a caller with an ASCII locale: the box is UTF-8 all the same
LC_ALL=C LANG=C "$GRADER" grade --rubric "$T/rubric.json" --submissions "$T/ours/submitted" \
	-o "$T/ours/gb.json" -q $weaker 2>"$T/grade.err"
check "grade exits 0" test $? -eq 0

scores() { # GRADEBOOK -> {grade_id: score}
	$PY - "$1" <<'PY'
import json, sys
gb = json.load(open(sys.argv[1]))
sub = [s for s in gb['submissions'] if s['student_id'] == 's1'][0]
print(json.dumps({g['grade_id']: (g['auto_score'] or 0) for nb in sub['notebooks']
                  for g in nb['grades']}))
PY
}
scores "$T/ours/gb.json" >"$T/ours.json"
# one check per behaviour: our score is the real kernel's (or the documented difference)
for gid in $($PY -c "import json,sys; print(' '.join(sorted(json.load(open(sys.argv[1])))))" \
	"$T/expected.json"); do
	check "ours: $gid" $PY -c "
import json, sys
exp, got = json.load(open(sys.argv[1]))[sys.argv[3]], json.load(open(sys.argv[2])).get(sys.argv[3])
sys.exit(0 if got == exp[0] else 'expected %s, got %s' % (exp[0], got))" \
		"$T/expected.json" "$T/ours.json" "$gid"
done
check "crlf: no modified_locked_cell flag" $PY -c "
import json, sys
sub = [s for s in json.load(open(sys.argv[1]))['submissions'] if s['student_id'] == 's1'][0]
sys.exit('modified_locked_cell' in sub['flags'])" "$T/ours/gb.json"
check "memory: the notebook went on after its MemoryError" $PY -c "
import json, sys
sub = [s for s in json.load(open(sys.argv[1]))['submissions'] if s['student_id'] == 's1'][0]
nb = [n for n in sub['notebooks'] if n['name'] == 'memory'][0]
sys.exit(nb['status'] != 'graded')" "$T/ours/gb.json"

# nothing leaks between notebooks a worker runs: the same notebooks in two
# orders through one zygote give the same cells (recursion needs IPython's
# limit, whether or not IPython was loaded for an earlier notebook)
N=$T/order
mkdir -p "$N"
cp "$S"/* "$N/"
"$GRADER" nb run --json $weaker "$N/prompts.ipynb" "$N/recursion.ipynb" "$N/warnings.ipynb" \
	"$N/argv.ipynb" >"$T/o1.json" 2>/dev/null
"$GRADER" nb run --json $weaker "$N/recursion.ipynb" "$N/argv.ipynb" "$N/warnings.ipynb" \
	"$N/prompts.ipynb" >"$T/o2.json" 2>/dev/null
check "nb run in two orders: same cells" $PY -c "
import json, sys
def by(p):
    return {n['notebook']: [(c['status'], c['ename'], c['stderr'], c['stdout'])
                            for c in n['cells']] for n in json.load(open(p))['notebooks']}
a, b = by(sys.argv[1]), by(sys.argv[2])
sys.exit(a != b or len(a) != 4)" "$T/o1.json" "$T/o2.json"
# and through grade -j 1: students in two orders, identical gradebooks
for order in 1 2; do
	B=$T/batch$order
	for st in a b; do
		if [ "$order$st" = 1a ] || [ "$order$st" = 2b ]; then nb=prompts; else nb=recursion; fi
		mkdir -p "$B/submitted/$st/ps"
		cp "$S/$nb.ipynb" "$S/data.csv" "$S/helper.py" "$S/timestamp.txt" "$B/submitted/$st/ps/"
	done
	"$GRADER" grade --rubric "$T/rubric.json" --submissions "$B/submitted" -j 1 \
		-o "$B/gb.json" -q $weaker 2>/dev/null
done
check "grade -j 1 in two orders: identical grades" $PY -c "
import json, sys
def by(p, who):
    subs = {s['student_id']: s for s in json.load(open(p))['submissions']}
    return {nb: [(n['name'], n['status'], n['score'], [(g['grade_id'], g['auto_score'],
                  g['status']) for g in n['grades']]) for n in subs[st]['notebooks']]
            for st, nb in who.items()}
a = by(sys.argv[1], {'a': 'prompts', 'b': 'recursion'})
b = by(sys.argv[2], {'a': 'recursion', 'b': 'prompts'})
sys.exit(a != b)" "$T/batch1/gb.json" "$T/batch2/gb.json"

# the real nbgrader on the same submission
. "$(dirname "$0")/nbgrader.sh"
nbg_need "same scores as the real nbgrader"
C=$T/course
mkdir -p "$C/source" "$C/submitted/s1"
cp -r "$T/source/ps" "$C/source/ps"
nbg_config "$C" "Execute.timeout = 60"
cd "$C" || exit 1
nbg -m nbgrader generate_assignment ps --create --force >"$T/gen.log" 2>&1
check "nbgrader generate_assignment" test $? -eq 0
nbg -m nbgrader db student add s1 >>"$T/gen.log" 2>&1
cp -r "$S" "$C/submitted/s1/ps"
# a HOME that exists: IPython makes a temporary folder for every kernel whose
# HOME is missing, and never removes it
mkdir -p "$T/home"
HOME=$T/home nbg -m nbgrader autograde ps --force >"$T/autograde.log" 2>&1
check "nbgrader autograde" test $? -eq 0
nbg - "$C/gradebook.db" >"$T/nbgrader.json" <<'PY'
import json, sys
from nbgrader.api import Gradebook
with Gradebook('sqlite:///' + sys.argv[1]) as gb:
    sub = gb.find_submission('ps', 's1')
    print(json.dumps({g.name: g.score for nb in sub.notebooks for g in nb.grades}))
PY
for gid in $($PY -c "import json,sys; print(' '.join(sorted(json.load(open(sys.argv[1])))))" \
	"$T/expected.json"); do
	check "nbgrader: $gid" $PY -c "
import json, sys
exp, got = json.load(open(sys.argv[1]))[sys.argv[3]], json.load(open(sys.argv[2])).get(sys.argv[3])
sys.exit(0 if got == exp[1] else 'nbgrader gave %s where we expect %s' % (got, exp[1]))" \
		"$T/expected.json" "$T/nbgrader.json" "$gid"
done
# and the same error in each test cell: the exception's name a student sees
# (but where we differ on purpose)
$PY - "$T/ours/gb.json" "$C/autograded/s1/ps" "$T/expected.json" >"$T/enames.json" <<'PY'
import glob, json, os, sys
differ = {g for g, (a, b) in json.load(open(sys.argv[3])).items() if a != b}
sub = [s for s in json.load(open(sys.argv[1]))['submissions'] if s['student_id'] == 's1'][0]
ours = {}
for nb in sub['notebooks']:
    for g in nb['grades']:
        tb = ((g.get('output') or {}).get('traceback') or '').strip()
        ours[g['grade_id']] = tb.split('\n')[-1].split(':')[0] if tb else None
theirs = {}
for p in glob.glob(os.path.join(sys.argv[2], '*.ipynb')):
    for c in json.load(open(p, encoding='utf-8'))['cells']:
        md = c['metadata'].get('nbgrader', {})
        if md.get('grade') and c['cell_type'] == 'code':
            err = [o['ename'] for o in c.get('outputs', []) if o['output_type'] == 'error']
            theirs[md['grade_id']] = err[0] if err else None
print(json.dumps({g: [ours.get(g), theirs.get(g)] for g in theirs if g not in differ}))
PY
for gid in $($PY -c "import json,sys; print(' '.join(sorted(json.load(open(sys.argv[1])))))" \
	"$T/enames.json"); do
	check "same error as nbgrader: $gid" $PY -c "
import json, sys
ours, theirs = json.load(open(sys.argv[1]))[sys.argv[2]]
sys.exit(0 if ours == theirs else 'we raise %s where nbgrader raises %s' % (ours, theirs))" \
		"$T/enames.json" "$gid"
done
finish
