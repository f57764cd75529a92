"""usage: gb_same.py A.json B.json
Whether two gradebooks are the same: every header field, the students (by id),
and every submission cell by cell, but for the cells' run times. Prints
"equal N submissions M cells" (exit 0) or "differ: WHAT, ..." (exit 1)."""
import json
import sys


def strip(v):
    # a cell's run time differs from run to run; everything else must not
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k != "time"}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v


a, b = (json.load(open(p)) for p in sys.argv[1:3])
diffs = [k for k in sorted(set(a) | set(b))
         if k not in ("students", "submissions") and a.get(k) != b.get(k)]
sa = {s["id"]: s for s in a["students"]}
sb = {s["id"]: s for s in b["students"]}
if len(sa) != len(a["students"]) or len(sb) != len(b["students"]):
    diffs.append("a student twice")
if sa != sb:
    diffs.append("students")
ua = {(s["assignment"], s["student_id"]): strip(s) for s in a["submissions"]}
ub = {(s["assignment"], s["student_id"]): strip(s) for s in b["submissions"]}
if len(ua) != len(a["submissions"]) or len(ub) != len(b["submissions"]):
    diffs.append("a submission twice")
if ua.keys() != ub.keys():
    diffs.append("submission keys")
cells = 0
for k in ua:
    if k in ub and ua[k] != ub[k]:
        diffs.append("submission %s" % k[1])
    cells += sum(len(nb["grades"]) for nb in ua[k]["notebooks"])
print("equal %d submissions %d cells" % (len(ua), cells) if not diffs else "differ: " + ", ".join(diffs))
sys.exit(1 if diffs else 0)
