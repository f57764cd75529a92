/*
 * batch_grade.c - grade one submission: read each notebook, splice the
 * rubric's tests in, run it in a fresh box, score every cell with nbgrader's
 * rules, apply the late penalty, and describe it all as a gradebook submission.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch_int.h"
#include "grader/fetch.h"
#include "grader/gradebook.h"
#include "grader/kernel.h"
#include "grader/notebook.h"
#include "grader/rubric.h"
#include "grader/score.h"

#define TIMESTAMP_MAX 4096

/* Create `rel`'s parent folders under `root` and copy `src` to root/rel. */
static int place(const char *root, const char *rel, const char *src, struct gr_err *err)
{
	char *dst = gr_path_join(root, rel), *slash;
	int rc = 0;

	if (!dst)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	slash = strrchr(dst, '/');
	if (slash && slash > dst + strlen(root)) {
		*slash = '\0';
		rc = gr_mkdir_p(dst, 0755, err);
		*slash = '/';
	}
	if (!rc) {
		unlink(dst); /* the rubric's data files replace the student's */
		rc = gr_copy_file(src, dst, 0644, err);
	}
	free(dst);
	return rc;
}

/*
 * A fresh box: the student's files (their own modules, data they made), then
 * the rubric's data files over them, so a student cannot swap the test data.
 */
static int fill_box(char **out, struct batch_grader *g, const struct batch_item *it,
		    struct gr_err *err)
{
	/* all of the student's files but the grader's own notes, or an error */
	static const struct gr_copy_opts student = {.max_depth = 32, .skip_prefix = ".grader-"};
	char name[32], *box = NULL;
	int rc;

	snprintf(name, sizeof(name), "box-%u", g->runs++);
	box = gr_path_join(g->scratch, name);
	if (!box)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	gr_rm_rf(box, NULL);
	rc = gr_mkdir_p(box, 0755, err);
	if (rc)
		goto done;
	rc = gr_copy_tree(it->path, box, &student, NULL, err);
	for (size_t i = 0; !rc && i < g->rubric->nfiles; i++) {
		const struct rubric_file *f = &g->rubric->files[i];
		char *src = gr_path_join(g->rubric->dir, f->path);

		if (src && g->data_optional && access(src, F_OK) < 0) {
			free(src);
			continue;
		}
		rc = src ? place(box, f->target, src, err) : gr_err_set(err, GR_ENOMEM, "oom");
		free(src);
	}
	if (!rc) {
		*out = box;
		box = NULL;
	}
done:
	if (box)
		gr_rm_rf(box, NULL);
	free(box);
	return rc;
}

static const struct kernel_cell_result *kernel_cell(const struct kernel_result *kr, size_t index)
{
	for (size_t i = 0; kr && i < kr->ncells; i++)
		if (kr->cells[i].index == index)
			return &kr->cells[i];
	return NULL;
}

static int record_output(struct gb_grade *gr, const struct kernel_cell_result *kc)
{
	int rc = 0;

	if (kc->out && kc->out[0])
		rc = gb_output_set(&gr->output, &gr->output.stdout_text, kc->out, strlen(kc->out));
	if (!rc && kc->err && kc->err[0])
		rc = gb_output_set(&gr->output, &gr->output.stderr_text, kc->err, strlen(kc->err));
	if (!rc && kc->traceback)
		rc = gb_output_set(&gr->output, &gr->output.traceback, kc->traceback,
				   strlen(kc->traceback));
	if (kc->out_dropped || kc->err_dropped)
		gr->output.truncated = true;
	return rc;
}

/* Score a test cell from what the kernel saw of it (nbgrader's determine_grade). */
static int grade_test(struct gb_nbresult *nr, const struct rubric_graded *gd,
		      const struct kernel_result *kr, size_t first_hidden, struct gr_err *err)
{
	const struct kernel_cell_result *kc =
	    gd->index == RUBRIC_NO_CELL ? NULL : kernel_cell(kr, gd->index);
	struct score_run run = {0};
	struct score_cell sc;
	struct gb_grade *gr;
	int rc;

	if (kc) {
		run.ran = kc->status != KERNEL_CELL_NOT_RUN;
		run.raised = kc->status == KERNEL_CELL_ERROR || kc->status == KERNEL_CELL_TIMEOUT;
		run.wrote_stderr = (kc->err && kc->err[0]) || kc->err_dropped;
		run.result_text = kc->result;
	}
	rc = score_test_cell(&sc, gd->points, &run, err);
	if (rc)
		return rc;
	rc = gb_nbresult_add_grade(nr, &gr, gd->cell->grade_id);
	if (rc)
		return gr_err_set(err, rc, "out of memory");
	gr->max_score = gd->points;
	gr->auto_score = sc.score;
	gr->needs_manual_grade = sc.needs_manual;
	if (!kc || kc->status == KERNEL_CELL_NOT_RUN)
		gr->status = GB_CELL_ERROR;
	else if (kc->status == KERNEL_CELL_TIMEOUT)
		gr->status = GB_CELL_TIMEOUT;
	else if (sc.needs_manual)
		gr->status = GB_CELL_MANUAL;
	else if (sc.reason == SCORE_PARTIAL && sc.score < gd->points)
		gr->status = sc.score > 0 ? GB_CELL_PARTIAL : GB_CELL_FAILED;
	else if (sc.reason == SCORE_PASSED || sc.reason == SCORE_PARTIAL)
		gr->status = GB_CELL_PASSED;
	else
		gr->status = GB_CELL_FAILED;
	if (kc) {
		gr->time = kc->time;
		rc = record_output(gr, kc);
		gr->output.after_hidden =
		    first_hidden != RUBRIC_NO_CELL && gd->index > first_hidden;
	}
	if (!rc && sc.comment)
		rc = gb_set_str(&gr->auto_comment, sc.comment);
	return rc ? gr_err_set(err, rc, "out of memory") : 0;
}

/*
 * The index in the spliced notebook of the first cell holding hidden tests
 * (RUBRIC_NO_CELL when none): in the student's order, which is the order
 * the cells ran in, since a student may move a visible test below it.
 */
static size_t first_hidden_cell(const struct rubric_splice *sp)
{
	size_t first = RUBRIC_NO_CELL;

	for (size_t k = 0; k < sp->ngraded; k++) {
		const struct rubric_graded *gd = &sp->graded[k];

		if (gd->kind == RUBRIC_TESTS && gd->index != RUBRIC_NO_CELL &&
		    (gd->cell->hidden_tests || rubric_has_hidden_tests(gd->cell->source)) &&
		    (first == RUBRIC_NO_CELL || gd->index < first))
			first = gd->index;
	}
	return first;
}

/* Answer, manually graded answer and task cells: comments and manual grades. */
static int grade_answer(struct gb_nbresult *nr, const struct rubric_graded *gd, struct gr_err *err)
{
	struct score_cell sc = {0};
	struct gb_comment *cm;
	struct gb_grade *gr;
	int rc;

	if (gd->kind == RUBRIC_TASK) {
		sc.needs_manual = 1;
		sc.max = gd->points;
	} else {
		rc = score_answer_cell(&sc, gd->kind == RUBRIC_MANUAL, gd->points, gd->unchanged,
				       err);
		if (rc)
			return rc;
	}
	rc = gb_nbresult_add_comment(nr, &cm, gd->cell->grade_id);
	if (!rc && sc.comment)
		rc = gb_set_str(&cm->auto_comment, sc.comment);
	if (!rc && (gd->kind == RUBRIC_MANUAL || gd->kind == RUBRIC_TASK)) {
		rc = gb_nbresult_add_grade(nr, &gr, gd->cell->grade_id);
		if (!rc) {
			gr->max_score = gd->points;
			gr->needs_manual_grade = sc.needs_manual;
			gr->auto_score = sc.needs_manual ? NAN : sc.score;
			gr->status = sc.needs_manual ? GB_CELL_MANUAL : GB_CELL_FAILED;
			if (sc.comment)
				rc = gb_set_str(&gr->auto_comment, sc.comment);
		}
	}
	return rc ? gr_err_set(err, rc, "out of memory") : 0;
}

/* Every grade of a notebook that could not be run: zero, with the reason. */
static int grade_unrun(struct gb_nbresult *nr, const struct rubric_notebook *rn,
		       enum gb_cell_status st, struct gr_err *err)
{
	for (size_t i = 0; i < rn->ncells; i++) {
		const struct rubric_cell *c = &rn->cells[i];
		struct gb_grade *gr;

		if (!(c->grade || c->task) || !c->grade_id)
			continue;
		if (gb_nbresult_add_grade(nr, &gr, c->grade_id))
			return gr_err_set(err, GR_ENOMEM, "out of memory");
		gr->max_score = c->points;
		gr->auto_score = 0;
		gr->status = st;
	}
	return 0;
}

char *batch_notebook_label(const char *file)
{
	char *name = strdup(file);
	char *dot = name ? strrchr(name, '.') : NULL;

	if (dot && !strcmp(dot, ".ipynb"))
		*dot = '\0';
	return name;
}

static int add_part(struct gr_buf *b, const char *text)
{
	if (b->len && gr_buf_put(b, "; ", 2))
		return GR_ENOMEM;
	return gr_buf_put(b, text, strlen(text));
}

static int is_test_cell(const struct rubric_splice *sp, size_t index)
{
	for (size_t k = 0; k < sp->ngraded; k++)
		if (sp->graded[k].kind == RUBRIC_TESTS && sp->graded[k].index == index)
			return 1;
	return 0;
}

/*
 * `s` in double quotes, `"` and `\` escaped, control bytes as '?', at most
 * `max` bytes of it (cut on a character boundary): what student code raised
 * cannot pass for the engine's note beside it.
 */
static void quoted(char *out, size_t len, const char *s, size_t max)
{
	size_t o = 0, i = 0;

	out[o++] = '"';
	for (; s[i] && i < max && o + 4 < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\')
			out[o++] = '\\';
		out[o++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	/* a sequence cut in the middle is dropped */
	while (s[i] && o > 1 && ((unsigned char)out[o - 1] & 0xc0) == 0x80)
		o--;
	if (s[i] && o > 1 && ((unsigned char)out[o - 1] & 0xc0) == 0xc0)
		o--;
	out[o++] = '"';
	out[o] = 0;
}

/* An exception's type name (student code names its classes): [A-Za-z0-9_.] only. */
static void type_name(char *out, size_t len, const char *s)
{
	size_t o = 0;

	for (; s && *s && o + 1 < len; s++)
		out[o++] =
		    strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.", *s)
			? *s
			: '?';
	out[o] = 0;
}

/*
 * The notebook's message for the marker: an nbformat 3 upgrade (nbgrader
 * does it too), why the run ended early, and why cells that are not tests
 * failed, with the engine's note (a refused import): otherwise the marker
 * sees only the NameErrors they cause in later tests.
 */
static int set_message(struct gb_nbresult *nr, const struct nb_notebook *student,
		       const struct rubric_splice *sp, const struct kernel_result *kr)
{
	struct gr_buf b = {0};
	size_t shown = 0;
	int rc = 0;

	if (student->orig_nbformat)
		rc = add_part(&b, "read as nbformat 3, upgraded to nbformat 4");
	if (!rc && kr->message[0])
		rc = add_part(&b, kr->message);
	for (size_t i = 0; !rc && i < kr->ncells; i++) {
		const struct kernel_cell_result *c = &kr->cells[i];
		const char *gid =
		    c->index < sp->nb->ncells ? sp->nb->cells[c->index].nbgrader.grade_id : NULL;
		char line[560], value[260], ename[64];

		if (c->status != KERNEL_CELL_ERROR || is_test_cell(sp, c->index))
			continue;
		if (++shown > 3) /* the first failures explain the rest */
			continue;
		quoted(value, sizeof(value), c->evalue ? c->evalue : "", 120);
		if (c->ename)
			type_name(ename, sizeof(ename), c->ename);
		else
			snprintf(ename, sizeof(ename), "an error");
		snprintf(line, sizeof(line), "cell %zu%s%s%s raised %s%s%s%s%.160s%s", c->number,
			 gid ? " (" : "", gid ? gid : "", gid ? ")" : "", ename,
			 c->evalue && *c->evalue ? " " : "", c->evalue && *c->evalue ? value : "",
			 c->note ? " [engine: " : "", c->note ? c->note : "", c->note ? "]" : "");
		rc = add_part(&b, line);
	}
	if (!rc && shown > 3) {
		char more[64];

		snprintf(more, sizeof(more), "and %zu more cells that are not tests failed",
			 shown - 3);
		rc = add_part(&b, more);
	}
	if (!rc && b.len)
		rc = gb_set_str(&nr->message, b.p);
	free(b.p);
	return rc;
}

/* Split kernel_run's time since t into the cells, the sandbox and the rest. */
static double prof_run(struct batch_prof *p, const struct kernel_result *kr, double t)
{
	double now = batch_prof_now(p), cells = 0;

	if (!p)
		return 0;
	for (size_t c = 0; c < kr->ncells; c++)
		cells += kr->cells[c].time;
	batch_prof_add_sec(p, BATCH_PH_CELLS, cells);
	batch_prof_add_sec(p, BATCH_PH_SANDBOX, kr->wall - cells);
	batch_prof_add_sec(p, BATCH_PH_REQUEST, now - t - kr->wall);
	return now;
}

/*
 * Why a rubric notebook is missing, when the folder holds notebooks of no
 * rubric name: students' browsers and Jupyter rename a second download or
 * a copy ("ps1 (1).ipynb", "ps1-Copy1.ipynb"); the marker is told which.
 */
static void missing_hint(char *buf, size_t len, const char *dir, const struct rubric *r,
			 const char *want)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t k = 0, n = 0;

	buf[0] = '\0';
	while (d && (de = readdir(d))) {
		size_t l = strlen(de->d_name);
		int known = 0;
		if (de->d_name[0] == '.' || l < 7 || strcmp(de->d_name + l - 6, ".ipynb"))
			continue;
		for (size_t i = 0; i < r->nnotebooks && !known; i++)
			known = !strcmp(r->notebooks[i].name, de->d_name);
		if (known || k + 8 >= len)
			continue;
		if (n++ < 2)
			k += (size_t)snprintf(buf + k, len - k, "%s'%.80s'", n > 1 ? ", " : "",
					      de->d_name);
	}
	if (d)
		closedir(d);
	if (n > 2 && k + 16 < len)
		k += (size_t)snprintf(buf + k, len - k, " and %zu more", n - 2);
	if (n && k + 40 < len)
		snprintf(buf + k, len - k, "; rename %s to '%s' to grade it", n > 1 ? "one" : "it",
			 want);
}

static int grade_notebook(struct gb_submission *sub, struct batch_grader *g,
			  const struct batch_item *it, size_t i, double late, struct gr_err *err)
{
	const struct rubric_notebook *rn = &g->rubric->notebooks[i];
	struct nb_notebook *student = NULL;
	struct rubric_splice *sp = NULL;
	struct kernel_result *kr = NULL;
	struct gb_nbresult *nr = NULL;
	struct gr_err serr = {0};
	char *label = batch_notebook_label(rn->name), *path = NULL, *box = NULL;
	double t = batch_prof_now(g->prof);
	int rc = 0;

	path = gr_path_join(it->path, rn->name);
	if (!label || !path || gb_submission_add_notebook(sub, &nr, label)) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	nr->max_score = rn->max_points;
	rc = nb_read_file(&student, path, &serr);
	t = batch_prof_add(g->prof, BATCH_PH_READ, t);
	if (rc < 0) {
		int missing = serr.code == GR_ENOTFOUND;

		nr->status = missing ? GB_MISSING : GB_ERROR;
		if (missing) {
			char other[256];
			missing_hint(other, sizeof(other), it->path, g->rubric, rn->name);
			gr_err_set(&serr, GR_ENOTFOUND, "no '%s' in the submission%s%s%s", rn->name,
				   other[0] ? " (it has " : "", other, other[0] ? ")" : "");
		}
		rc = gb_set_str(&nr->message, serr.msg);
		if (!rc)
			rc = grade_unrun(nr, rn, missing ? GB_CELL_MISSING : GB_CELL_ERROR, err);
		goto done;
	}
	rc = rubric_splice(&sp, g->rubric, i, student, &serr);
	t = batch_prof_add(g->prof, BATCH_PH_SPLICE, t);
	if (rc < 0) {
		nr->status = GB_ERROR;
		rc = gb_set_str(&nr->message, serr.msg);
		if (!rc)
			rc = grade_unrun(nr, rn, GB_CELL_ERROR, err);
		goto done;
	}
	rc = 0;
	for (size_t f = 0; f < sp->nflags; f++)
		if (gb_submission_add_flag(sub, sp->flags[f].flag))
			rc = GR_ENOMEM;
	rc = rc ? rc : fill_box(&box, g, it, err);
	if (rc)
		goto done;
	t = batch_prof_add(g->prof, BATCH_PH_BOX, t);
	rc = kernel_run(g->kernel, &kr, sp->nb, box, err);
	if (rc)
		goto done;
	t = prof_run(g->prof, kr, t);
	if (kr->status == KERNEL_NB_FAILED) {
		/* not the student's doing: no grade is recorded, the next run retries */
		rc = gr_err_set(err, GR_ESYS, "cannot run '%s': %s", rn->name, kr->message);
		goto done;
	}
	if (g->observe)
		g->observe(g->observe_ctx, i, sp->nb, kr);
	rc = batch_autograded_write(g, it, rn->name, sp->nb, kr, err);
	if (rc)
		goto done;
	if (kr->tampered)
		rc = gb_submission_add_flag(sub, "tampered");
	/* the watcher's findings, each with its reason for the marker */
	for (size_t f = 0; !rc && f < kr->nflags; f++)
		rc = gb_submission_add_flag_reason(sub, kr->flags[f].flag, kr->flags[f].reason);
	for (size_t f = 0; !rc && f < kr->nreplaced; f++) {
		char why[300];

		if (gb_submission_flag_reason(sub, "replaced_builtins"))
			break;
		snprintf(why, sizeof(why), "%s rebound", kr->replaced[f]);
		rc = gb_submission_add_flag_reason(sub, "replaced_builtins", why);
	}
	if (!rc)
		rc = set_message(nr, student, sp, kr);
	for (size_t k = 0, first = first_hidden_cell(sp); !rc && k < sp->ngraded; k++) {
		const struct rubric_graded *gd = &sp->graded[k];

		rc = gd->kind == RUBRIC_TESTS ? grade_test(nr, gd, kr, first, err)
					      : grade_answer(nr, gd, err);
	}
	if (rc)
		goto done;
	nr->flagged = sp->nflags > 0 || kr->tampered || kr->nreplaced > 0 || kr->nflags > 0;
	t = batch_prof_add(g->prof, BATCH_PH_SCORE, t);
done:
	if (nr && !rc) {
		double score = 0;

		for (size_t k = 0; k < nr->n_grades; k++)
			score += gb_grade_score(nr->grades[k]);
		nr->score = score;
		/* late < 0: lateness unknown under --late-unknown zero */
		nr->late_submission_penalty =
		    late < 0 ? score : score_late_penalty(&g->rubric->late, score, late);
	}
	if (box) {
		struct gr_err rm = {0};

		if (gr_rm_rf(box, &rm) < 0)
			fprintf(stderr, "grader grade: %s\n", rm.msg);
		batch_prof_add(g->prof, BATCH_PH_CLEAN, t);
	}
	free(box);
	kernel_result_free(kr);
	rubric_splice_free(sp);
	nb_free(student);
	free(path);
	free(label);
	return rc;
}

/*
 * Where the work came from: fetch's provenance when present, else the
 * folder. *lms_late: the LMS flagged it late; *why_unknown: why fetch had no
 * time for it (heap, or NULL).
 */
static int read_source(struct gb_submission *sub, const struct batch_item *it, int *lms_late,
		       char **why_unknown)
{
	struct fetch_origin o = {0};
	int rc;

	/* a folder without (readable) provenance is graded as a plain directory */
	if (fetch_origin_read(&o, it->path, NULL) == GR_ENOMEM)
		return GR_ENOMEM;
	rc = gb_set_str(&sub->source.kind, o.kind ? o.kind : "directory");
	if (!rc)
		rc = gb_set_str(&sub->source.location, o.location ? o.location : it->path);
	if (!rc)
		rc = gb_set_str(&sub->source.commit, o.commit);
	if (!rc)
		rc = gb_set_str(&sub->source.checksum, it->tree);
	*lms_late = o.late;
	*why_unknown = o.time_note;
	o.time_note = NULL;
	fetch_origin_release(&o);
	return rc;
}

static char *dirname_in_place(char *path)
{
	char *slash = strrchr(path, '/');

	if (slash && slash > path)
		*slash = '\0';
	return path;
}

/*
 * The submission time from timestamp.txt: 1 read, 0 when absent, 2 when
 * empty (fetch had no time: nbgrader reads it as none), -1 when unreadable.
 */
static int read_timestamp(struct gr_time *t, char iso[GR_TIME_MAX], const struct batch_item *it,
			  struct gr_err *err)
{
	char *path = gr_path_join(it->path, FETCH_TIMESTAMP_NAME), *text = NULL;
	int rc;

	if (!path)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	rc = gr_read_file(&text, NULL, path, TIMESTAMP_MAX, err);
	if (rc == GR_ENOTFOUND)
		rc = 0;
	else if (!rc && !text[strspn(text, " \t\r\n")])
		rc = 2;
	else if (!rc) {
		/* nbgrader reads a time without a zone as UTC, a bare date as its midnight */
		rc = gr_time_parse(&t->sec, &t->usec, text, GR_TIME_NAIVE_UTC | GR_TIME_DATE_ONLY,
				   err) < 0
			 ? -1
			 : 1;
		/* microseconds kept: nbgrader's export prints them */
		if (rc > 0)
			gr_time_format(iso, GR_TIME_MAX, t->sec, t->usec, GR_TIME_ISO_FRAC);
	} else
		rc = -1;
	free(text);
	free(path);
	return rc;
}

/*
 * A submission without a usable time: `bad` is why timestamp.txt is
 * unreadable (NULL: it is empty, fetch had no time). Flags and a message
 * say so; *late becomes -1 (penalty = whole score) under --late-unknown zero
 * when lateness matters (a due date, a late policy, and a bad timestamp or
 * an LMS late flag). Never counted on time silently. 0 or GR_ENOMEM.
 */
static int unknown_time(struct gb_submission *sub, const struct batch_grader *g, const char *bad,
			int lms_late, const char *why, double *late)
{
	const struct rubric *r = g->rubric;
	int policy = r->duedate_text && r->late.method != SCORE_LATE_NONE;
	int maybe_late = bad || lms_late;
	const char *what =
	    !maybe_late ? "no late penalty (the LMS did not mark it late)"
	    : !policy	? "no late policy"
	    : g->late_unknown == BATCH_LATE_UNKNOWN_ZERO
		? "late penalty: the whole score (--late-unknown zero)"
	    : g->late_unknown == BATCH_LATE_UNKNOWN_NONE
		? "graded without a late penalty (--late-unknown none)"
		: "graded without a late penalty, flagged for review (--late-unknown flag)";
	char *msg = NULL;
	int rc;

	rc = gb_submission_add_flag(sub, bad ? "bad_timestamp" : "time_unknown");
	if (!rc && maybe_late && policy && g->late_unknown == BATCH_LATE_UNKNOWN_FLAG)
		rc = gb_submission_add_flag(sub, "late_unknown");
	if (rc)
		return rc;
	if (maybe_late && policy && g->late_unknown == BATCH_LATE_UNKNOWN_ZERO)
		*late = -1;
	if (asprintf(&msg, "%s%s%s; %s%s", bad ? bad : "submission time unknown",
		     !bad && why ? ": " : "", !bad && why ? why : "",
		     lms_late ? "marked late by the LMS; " : "", what) < 0)
		return GR_ENOMEM;
	rc = gb_set_str(&sub->message, msg);
	free(msg);
	return rc;
}

int batch_grade_one(struct gb_submission **out, struct batch_grader *g, const struct batch_item *it,
		    struct gr_err *err)
{
	const struct rubric *r = g->rubric;
	struct gb_submission *sub = NULL;
	struct gr_err terr = {0};
	struct gr_time t = {0};
	double late = 0, ext;
	char *why_unknown = NULL, iso[GR_TIME_MAX];
	double pt = batch_prof_now(g->prof);
	int rc, have_time, lms_late = 0;

	rc = gb_submission_new(&sub, r->assignment, it->student_id);
	if (rc) {
		rc = gr_err_set(err, rc, "out of memory");
		goto done;
	}
	if (!it->path) {
		sub->status = GB_MISSING;
		rc = gb_set_str(&sub->message, "no submission");
		goto sum;
	}
	rc = read_source(sub, it, &lms_late, &why_unknown);
	if (rc)
		goto oom;
	rc = batch_autograded_begin(g, it, err);
	if (rc)
		goto done;
	have_time = read_timestamp(&t, iso, it, &terr);
	if (have_time < 0 || have_time == 2) {
		rc = unknown_time(sub, g, have_time < 0 ? terr.msg : NULL, lms_late, why_unknown,
				  &late);
		if (rc)
			goto oom;
	} else if (have_time > 0) {
		if (gb_set_str(&sub->timestamp, iso))
			goto oom;
		ext = rubric_extension_for(r, it->student_id);
		if (ext > 0)
			sub->extension_seconds = ext;
		if (r->duedate_text)
			late = score_seconds_late(&t, &r->duedate, ext);
	}
	sub->late_seconds = late > 0 ? late : 0;
	batch_prof_add(g->prof, BATCH_PH_SOURCE, pt);
	for (size_t i = 0; i < r->nnotebooks; i++) {
		rc = grade_notebook(sub, g, it, i, late, err);
		if (rc)
			goto done;
	}
	/* the submission errored only if no notebook could be graded at all */
	sub->status = GB_ERROR;
	for (size_t i = 0; i < sub->n_notebooks; i++)
		if (sub->notebooks[i]->status == GB_GRADED)
			sub->status = GB_GRADED;
	if (sub->status == GB_ERROR && sub->n_notebooks && !sub->message &&
	    gb_set_str(&sub->message, sub->notebooks[0]->message))
		goto oom;
	if (sub->status == GB_ERROR && g->autograded) {
		/* as nbgrader's autograde: a submission that could not be run leaves no folder */
		char *dir = batch_autograded_dir(g, it->student_id);

		if (dir && !gr_rm_rf(dir, NULL))
			rmdir(dirname_in_place(dir)); /* the student's folder, when empty */
		free(dir);
	}
sum:
	gb_submission_sum(sub, g->assignment);
	*out = sub;
	sub = NULL;
	goto done;
oom:
	rc = gr_err_set(err, GR_ENOMEM, "out of memory");
done:
	free(why_unknown);
	gb_submission_free(sub);
	return rc;
}

int batch_error_submission(struct gb_submission **out, const struct gb_assignment *a,
			   const char *student, const char *message)
{
	struct gb_submission *sub = NULL;
	int rc;

	rc = gb_submission_new(&sub, a->name, student);
	if (!rc) {
		sub->status = GB_ERROR;
		rc = gb_set_str(&sub->message, message);
	}
	if (rc) {
		gb_submission_free(sub);
		return rc;
	}
	gb_submission_sum(sub, a);
	*out = sub;
	return 0;
}
