/*
 * batch_preload.c - which modules a rubric should preload: the ones its
 * instructor notebooks import that the system's Python provides.
 *
 * The code cells of the rubric are parsed (never run) by Python's own `ast`
 * inside the sandbox, in an empty box, so a file of the course folder can
 * never pass for a system module; the names found are then imported together
 * in a zygote, exactly as grading will preload them, and a name that cannot be
 * imported there is dropped with its reason.
 *
 * What an import in a cell then still pays is added, as an instructor's
 * hand-written --preload would: the parents of a dotted name (before it),
 * the backend matplotlib uses under the sandbox (MPLBACKEND=Agg, loaded on
 * the first figure), pandas' DataFrame text rendering, and pandas' plotting
 * glue when both are there. Each is a submodule of a package already found
 * to be the system's, and none changes what the student's import returns.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch_int.h"
#include "grader/batch.h"
#include "grader/kernel.h"
#include "grader/rubric.h"

/*
 * The one cell the detector runs. _SRC is the JSON array of the cells'
 * sources, hex-encoded so that no source text can end the literal.
 */
static const char DETECT_PY[] =
    "import ast, importlib.util, json, os, site, sys, sysconfig\n"
    "_SRC = json.loads(bytes.fromhex(_HEX).decode())\n"
    "def _roots():\n"
    "    p = sysconfig.get_paths()\n"
    "    r = [p[k] for k in ('stdlib', 'platstdlib', 'purelib', 'platlib') if k in p]\n"
    "    r += site.getsitepackages()\n"
    "    return tuple(os.path.realpath(x) + os.sep for x in r)\n"
    "def _clean(src):\n"
    "    keep, found = [], []\n"
    "    for line in src.splitlines():\n"
    "        s = line.strip()\n"
    "        if s.startswith('%matplotlib') or s.startswith('%pylab'):\n"
    "            found.append('matplotlib')\n"
    "        if s.startswith(('%', '!')) or s.endswith('?'):\n"
    "            line = ''\n"
    "        keep.append(line)\n"
    "    return '\\n'.join(keep), found\n"
    "def _top(body, out):\n"
    "    for n in body:\n"
    "        if isinstance(n, ast.Import):\n"
    "            out += [a.name for a in n.names]\n"
    "        elif isinstance(n, ast.ImportFrom) and not n.level and n.module:\n"
    "            out.append(n.module)\n"
    "        elif isinstance(n, (ast.If, ast.Try, ast.With, ast.For, ast.While)):\n"
    "            for f in ('body', 'orelse', 'finalbody'):\n"
    "                _top(getattr(n, f, []), out)\n"
    "            for h in getattr(n, 'handlers', []):\n"
    "                _top(h.body, out)\n"
    "def _system(name, roots):\n"
    "    if name in sys.builtin_module_names:\n"
    "        return None\n"
    "    try:\n"
    "        spec = importlib.util.find_spec(name)\n"
    "    except Exception as e:\n"
    "        return 'cannot be found: %s' % type(e).__name__\n"
    "    if spec is None:\n"
    "        return 'not installed'\n"
    "    where = spec.origin if spec.has_location else None\n"
    "    if where is None and spec.submodule_search_locations:\n"
    "        where = list(spec.submodule_search_locations)[0]\n"
    "    if where is None or os.path.realpath(where).startswith(roots):\n"
    "        return None\n"
    "    return 'not from the system Python (%s)' % where\n"
    "_WITH = {'matplotlib': ('matplotlib.backends.backend_agg',),\n"
    "         'pandas': ('pandas.io.formats.string',)}\n"
    "_BOTH = {('pandas', 'matplotlib'): ('pandas.plotting._matplotlib',)}\n"
    "def _cheap(names):\n"
    "    out = []\n"
    "    for n in names:\n"
    "        parts = n.split('.')\n"
    "        for i in range(1, len(parts) + 1):\n"
    "            p = '.'.join(parts[:i])\n"
    "            if p not in out:\n"
    "                out.append(p)\n"
    "    tops = set(n.split('.')[0] for n in out)\n"
    "    extra = [m for t in sorted(tops) for m in _WITH.get(t, ())]\n"
    "    extra += [m for k, v in _BOTH.items() if tops.issuperset(k) for m in v]\n"
    "    return out + [m for m in extra if m not in out]\n"
    "def _detect():\n"
    "    names, why, roots = [], {}, _roots()\n"
    "    for src in _SRC:\n"
    "        text, found = _clean(src)\n"
    "        try:\n"
    "            _top(ast.parse(text).body, found)\n"
    "        except SyntaxError:\n"
    "            pass\n"
    "        for n in found:\n"
    "            if n not in names and n not in why:\n"
    "                w = _system(n.split('.')[0], roots)\n"
    "                if w:\n"
    "                    why[n] = w\n"
    "                else:\n"
    "                    names.append(n)\n"
    "    print(json.dumps({'modules': _cheap(names), 'skipped': why}))\n"
    "_detect()\n";

/* The code cells of every notebook of `r`, as one JSON array, hex-encoded. */
static char *sources_hex(const struct rubric *r)
{
	json_t *a = json_array();
	char *text = NULL, *hex = NULL;

	for (size_t n = 0; a && n < r->nnotebooks; n++)
		for (size_t c = 0; c < r->notebooks[n].ncells; c++) {
			const struct rubric_cell *cell = &r->notebooks[n].cells[c];

			if (cell->type == NB_CELL_CODE && cell->source &&
			    json_array_append_new(a, json_string(cell->source)) < 0)
				goto done;
		}
	text = a ? json_dumps(a, JSON_COMPACT) : NULL;
	if (!text)
		goto done;
	hex = malloc(strlen(text) * 2 + 1);
	if (hex) {
		size_t i;

		for (i = 0; text[i]; i++)
			sprintf(hex + 2 * i, "%02x", (unsigned char)text[i]);
		hex[2 * i] = '\0';
	}
done:
	free(text);
	json_decref(a);
	return hex;
}

/* Run the detector in a sandboxed child; *found is the JSON it printed. */
static int detect(json_t **found, const struct rubric *r, const struct batch_preload_opts *o,
		  struct gr_err *err)
{
	struct kernel_opts ko;
	struct kernel_result *res = NULL;
	kernel *k = NULL;
	char box[] = "/tmp/grader-preload.XXXXXX", *hex = sources_hex(r), *src = NULL;
	const char *srcs[1];
	json_error_t jerr;
	int rc = 0, made = 0;

	if (!hex || asprintf(&src, "_HEX = '%s'\n%s", hex, DETECT_PY) < 0) {
		src = NULL;
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	if (!mkdtemp(box)) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot make a folder in /tmp");
		goto done;
	}
	made = 1;
	kernel_opts_init(&ko);
	ko.slot = o->slot;
	/* nothing of the notebooks runs here: their text is only parsed */
	ko.allow_weaker = 1;
	ko.ipython = 0;
	ko.timeout_cell = ko.timeout = 60;
	srcs[0] = src;
	if ((rc = kernel_new(&k, &ko, err)) ||
	    (rc = kernel_run_sources(k, &res, srcs, 1, box, err)))
		goto done;
	if (res->ncells != 1 || res->cells[0].status != KERNEL_CELL_OK) {
		rc = gr_err_set(err, GR_ESYS, "cannot list the notebooks' imports: %s%s%s",
				res->ncells ? res->cells[0].ename ? res->cells[0].ename : "" : "",
				res->ncells && res->cells[0].evalue ? ": " : "",
				res->ncells && res->cells[0].evalue ? res->cells[0].evalue
								    : res->message);
		goto done;
	}
	*found = json_loads(res->cells[0].out, 0, &jerr);
	if (!*found)
		rc = gr_err_set(err, GR_ESYS, "cannot list the notebooks' imports: bad answer");
done:
	kernel_result_free(res);
	kernel_free(k);
	if (made)
		gr_rm_rf(box, NULL);
	free(src);
	free(hex);
	return rc;
}

/* Whether a zygote can preload `mods` (NULL-terminated) together. */
static int preloads(const char *const *mods, const struct batch_preload_opts *o, struct gr_err *err)
{
	struct kernel_opts ko;
	kernel *k = NULL;
	int rc;

	kernel_opts_init(&ko);
	ko.slot = o->slot;
	ko.allow_weaker = 1;
	ko.preload = mods;
	rc = kernel_new(&k, &ko, err);
	kernel_free(k);
	return rc;
}

static void note(const struct batch_preload_opts *o, const char *mod, const char *why)
{
	if (o->log)
		fprintf(o->log, "preload: '%s' left out: %s\n", mod, why);
}

int batch_detect_preload(char ***out, const struct rubric *r, const struct batch_preload_opts *o,
			 struct gr_err *err)
{
	json_t *found = NULL, *mods, *v;
	const char *key, **list = NULL;
	struct gr_buf joined = {0};
	size_t n = 0, kept = 0;
	int rc;

	if ((rc = detect(&found, r, o, err)))
		return rc;
	json_object_foreach(json_object_get(found, "skipped"), key, v)
	    note(o, key, json_string_value(v) ? json_string_value(v) : "?");
	mods = json_object_get(found, "modules");
	list = calloc(json_array_size(mods) + 1, sizeof(*list));
	if (!list) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < json_array_size(mods); i++)
		if ((key = json_string_value(json_array_get(mods, i))) && !strchr(key, ','))
			list[n++] = key;
	/* the usual case: all of them load together, as grading will load them */
	kept = n;
	if (n && preloads(list, o, NULL) < 0) {
		kept = 0;
		for (size_t i = 0; i < n; i++) {
			const char *one[2] = {list[i], NULL};
			struct gr_err why = {0};

			if (preloads(one, o, &why) < 0)
				note(o, list[i], why.msg);
			else
				list[kept++] = list[i];
		}
	}
	for (size_t i = 0; !rc && i < kept; i++)
		if ((i && gr_buf_put(&joined, ",", 1) < 0) ||
		    gr_buf_put(&joined, list[i], strlen(list[i])) < 0)
			rc = gr_err_set(err, GR_ENOMEM, "out of memory");
	if (!rc && gr_split_list(out, joined.p ? joined.p : "") < 0)
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
done:
	free(joined.p);
	free(list);
	json_decref(found);
	return rc;
}

int batch_preload_check(const struct rubric *r, const struct batch_preload_opts *o)
{
	int bad = 0;

	if (!r->npreload || preloads(r->preload, o, NULL) == 0)
		return 0;
	for (size_t i = 0; i < r->npreload; i++) {
		const char *one[2] = {r->preload[i], NULL};
		struct gr_err why = {0};

		if (preloads(one, o, &why) < 0) {
			if (o->log)
				fprintf(o->log, "preload '%s' cannot be imported: %s\n",
					r->preload[i], why.msg);
			bad++;
		}
	}
	return bad;
}
