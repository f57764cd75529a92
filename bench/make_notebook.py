"""Write an nbgrader source notebook for the benchmarks: bench/make_notebook.py KIND OUT.ipynb

KIND tiny: one answer and one test cell, no import (the 10 000-submission run);
KIND sci:  numpy, pandas and matplotlib imported at the top, three answers and
           three tests using them (the preload comparison).
"""
import json
import sys


def cell(source, grade_id=None, solution=False, grade=False, points=None, locked=False):
    meta = {}
    if grade_id:
        nbg = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
               "solution": solution, "task": False}
        if points is not None:
            nbg["points"] = points
        meta["nbgrader"] = nbg
    return {"cell_type": "code", "execution_count": None, "metadata": meta, "outputs": [],
            "source": source}


def tiny():
    return [
        cell("def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION",
             "add", solution=True),
        cell("assert add(1, 2) == 3", "test_add", grade=True, points=1, locked=True),
    ]


def sci():
    return [
        cell("import numpy as np\nimport pandas as pd\nimport matplotlib.pyplot as plt",
             "setup", locked=True),
        cell("def column_means(df):\n    ### BEGIN SOLUTION\n    return df.mean().to_dict()\n"
             "    ### END SOLUTION", "means", solution=True),
        cell("df = pd.DataFrame({'a': np.arange(4.0), 'b': np.ones(4)})\n"
             "assert column_means(df) == {'a': 1.5, 'b': 1.0}", "test_means", grade=True,
             points=2, locked=True),
        cell("def norms(m):\n    ### BEGIN SOLUTION\n    return np.linalg.norm(m, axis=1)\n"
             "    ### END SOLUTION", "norms", solution=True),
        cell("assert np.allclose(norms(np.array([[3.0, 4.0], [6.0, 8.0]])), [5.0, 10.0])",
             "test_norms", grade=True, points=2, locked=True),
        cell("def plot(values):\n    ### BEGIN SOLUTION\n    fig, ax = plt.subplots()\n"
             "    ax.plot(values)\n    return fig\n    ### END SOLUTION", "plot", solution=True),
        cell("fig = plot([1, 2, 3])\nassert len(fig.axes[0].lines) == 1\nplt.close(fig)",
             "test_plot", grade=True, points=1, locked=True),
    ]


nb = {"cells": {"tiny": tiny, "sci": sci}[sys.argv[1]](),
      "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                  "name": "python3"}, "language_info": {"name": "python"}},
      "nbformat": 4, "nbformat_minor": 5}
with open(sys.argv[2], "w") as f:
    json.dump(nb, f, indent=1)
