"""Write nbgrader's autograded/ folder by hand, for the feedback tests.

usage: make_autograded.py GRADEBOOK.json SUBMITTED_DIR AUTOGRADED_DIR

As nbgrader's autograde leaves it: each submitted notebook with its test
cells restored from the instructor's source (hidden tests included), the
outputs the grader captured for each graded cell (stream and error outputs,
execution counts), and the student's timestamp.txt. Test material only.
"""
import json
import os
import shutil
import sys

gb = json.load(open(sys.argv[1]))
submitted, out = sys.argv[2], sys.argv[3]
cells = {}
for a in gb["assignments"]:
    for nb in a["notebooks"]:
        for c in nb["cells"]:
            cells[(a["name"], nb["name"], c["name"])] = c

for s in gb["submissions"]:
    if s["status"] != "graded":
        continue
    for r in s["notebooks"]:
        src = os.path.join(submitted, s["student_id"], s["assignment"], r["name"] + ".ipynb")
        dst_dir = os.path.join(out, s["student_id"], s["assignment"])
        nb = json.load(open(src))
        grades = {g["grade_id"]: g for g in r["grades"]}
        count = 0
        for cell in nb["cells"]:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            gid = meta.get("grade_id")
            c = cells.get((s["assignment"], r["name"], gid))
            if c and c["grade"] and not c["solution"] and c["source"] is not None:
                cell["source"] = c["source"]
            if cell["cell_type"] != "code":
                continue
            count += 1
            cell["execution_count"] = count
            outputs = cell.get("outputs") or []
            g = grades.get(gid)
            if g:
                o = g["output"]
                for name in ("stdout", "stderr"):
                    if o[name]:
                        outputs.append({"output_type": "stream", "name": name, "text": o[name]})
                if o["traceback"]:
                    last = o["traceback"].rstrip("\n").split("\n")[-1]
                    ename, _, evalue = last.partition(": ")
                    outputs.append({"output_type": "error", "ename": ename, "evalue": evalue,
                                    "traceback": o["traceback"].rstrip("\n").split("\n")})
            cell["outputs"] = outputs
        os.makedirs(dst_dir, exist_ok=True)
        json.dump(nb, open(os.path.join(dst_dir, r["name"] + ".ipynb"), "w"), indent=1)
        ts = os.path.join(submitted, s["student_id"], s["assignment"], "timestamp.txt")
        if os.path.exists(ts):
            shutil.copy(ts, dst_dir)
