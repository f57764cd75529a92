"""usage: make_slow.py SUBMITTED N SECONDS
Add N students to an nbgrader submitted/ folder, copies of its first
student's ps1 whose first solution cell sleeps SECONDS first: a course whose
grading lasts long enough to be stopped in the middle."""
import json
import os
import shutil
import sys

sub, n, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
first = sorted(os.listdir(sub))[0]
for i in range(n):
    dest = os.path.join(sub, f"slow{i:02d}")
    shutil.copytree(os.path.join(sub, first), dest)
    path = os.path.join(dest, "ps1", "ps1.ipynb")
    nb = json.load(open(path))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and cell.get("metadata", {}).get(
                "nbgrader", {}).get("solution"):
            src = "".join(cell["source"])
            cell["source"] = f"import time\ntime.sleep({secs})\n" + src
            break
    json.dump(nb, open(path, "w"))
