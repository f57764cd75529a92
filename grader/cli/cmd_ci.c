/*
 * cmd_ci.c - `grader ci`: grade a student's working tree in their own CI job
 * (GitHub Actions, GitLab CI, Gitea Actions) against a public rubric.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "grader/batch.h"
#include "grader/export.h"
#include "grader/gradebook.h"
#include "grader/util.h"

#define DEFAULT_RUBRIC ".grader/rubric.json"

static void usage(FILE *f)
{
	fprintf(f, "usage: grader ci [--rubric PUBLIC.json] [--student ID] [--junit FILE]\n"
		   "                 [--gradescope FILE] [--gradebook FILE] [--markdown FILE]\n"
		   "                 [--allow-weaker] [PATH]\n"
		   "\n"
		   "Grade the working tree PATH (default: .) against a public rubric (made by\n"
		   "`grader rubric public`) in the sandbox, print a per-question table, append\n"
		   "it to $GITHUB_STEP_SUMMARY when that is set, and write the chosen reports.\n"
		   "\n"
		   "  --rubric FILE      the public rubric (default: PATH/" DEFAULT_RUBRIC ")\n"
		   "  --student ID       the student's id (default: $GITHUB_ACTOR,\n"
		   "                     $GITLAB_USER_LOGIN, $GITEA_ACTOR, else \"student\")\n"
		   "  --junit FILE       JUnit XML report (GitLab, Jenkins)\n"
		   "  --gradescope FILE  Gradescope results.json\n"
		   "  --gradebook FILE   the gradebook JSON (docs/gradebook.md)\n"
		   "  --markdown FILE    the per-question table as Markdown\n"
		   "  --allow-weaker     run even when a sandbox protection is missing\n"
		   "\n"
		   "Exit status: 0 when every visible test passes, 1 when some fail (or a\n"
		   "notebook is missing or broken), 2 on a usage or rubric error.\n");
}

static const char *default_student(void)
{
	const char *vars[] = {"GITHUB_ACTOR", "GITLAB_USER_LOGIN", "GITEA_ACTOR"};

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);
		if (v && v[0])
			return v;
	}
	return "student";
}

/* The last line of a traceback: the exception, not the student's code. */
static void last_line(char *out, size_t len, const char *tb)
{
	const char *end, *start;

	out[0] = '\0';
	if (!tb)
		return;
	end = tb + strlen(tb);
	while (end > tb && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	start = end;
	while (start > tb && start[-1] != '\n')
		start--;
	snprintf(out, len, "%.*s", (int)(end - start), start);
	for (char *p = out; *p; p++)
		if (*p == '|' || (unsigned char)*p < 0x20)
			*p = ' '; /* one table cell; the rest is escaped when printed */
}

/*
 * Print the per-question table (plain text, or Markdown when `md`) and count
 * the autograded tests and those that did not get full marks. Manually graded
 * cells are listed but never fail the job.
 */
static void report(FILE *f, int md, const struct gb_gradebook *gb, size_t *tests, size_t *failed)
{
	const struct gb_submission *sub = gb->submissions[0];
	const struct gb_assignment *a = gb->assignments[0];
	char why[200], score[32];

	*tests = *failed = 0;
	if (md)
		fprintf(f,
			"### grader: %s\n\n| question | score | max | status | note |\n"
			"|---|---:|---:|---|---|\n",
			a->name);
	else
		fprintf(f, "%-28s %7s %7s  %-8s %s\n", "question", "score", "max", "status",
			"note");
	for (size_t n = 0; n < sub->n_notebooks; n++) {
		const struct gb_nbresult *nr = sub->notebooks[n];
		const char *nmsg = nr->message ? nr->message : "";

		if (nr->status != GB_GRADED) {
			char *name = gr_term_escape(nr->name), *msg = gr_term_escape(nmsg);

			(*failed)++;
			fprintf(f, md ? "| %s | | | %s | %s |\n" : "%-28s %7s %7s  %-8s %s\n",
				name ? name : "?", md ? gb_status_name(nr->status) : "",
				md ? (msg ? msg : "?") : "", md ? "" : gb_status_name(nr->status),
				md ? "" : (msg ? msg : "?"));
			free(name);
			free(msg);
		}
		const struct gb_notebook *gnb = gb_find_notebook(a, nr->name);

		for (size_t g = 0; g < nr->n_grades; g++) {
			const struct gb_grade *gr = nr->grades[g];
			const struct gb_cell *cell = gnb ? gb_find_cell(gnb, gr->grade_id) : NULL;
			/* an answer or task a marker grades is no test, answered or not */
			int manual = gr->needs_manual_grade || gr->status == GB_CELL_MANUAL ||
				     (cell && (cell->solution || cell->task));

			if (manual) {
				snprintf(score, sizeof(score), "-");
			} else {
				snprintf(score, sizeof(score), "%g", gb_grade_score(gr));
				(*tests)++;
				if (gb_grade_score(gr) + GB_EPSILON < gr->max_score ||
				    nr->status != GB_GRADED)
					(*failed)++;
			}
			/* a cell holding hidden tests (a full rubric's), or run after one:
			 * the exception's name */
			if (gb_grade_withheld(cell, gr, NULL) && gr->output.traceback)
				snprintf(why, sizeof(why), "%s",
					 gb_hidden_error(gr->output.traceback));
			else
				last_line(why, sizeof(why), gr->output.traceback);
			if (!why[0] && manual)
				snprintf(why, sizeof(why), "graded by hand");
			if (cell && cell->hidden_tests && !manual) {
				size_t used = strlen(why);

				snprintf(why + used, sizeof(why) - used,
					 "%shidden tests run when graded", used ? "; " : "");
			}
			{
				char *id = gr_term_escape(gr->grade_id), *w = gr_term_escape(why);

				fprintf(f,
					md ? "| %s | %s | %g | %s | %s |\n"
					   : "%-28s %7s %7g  %-8s %s\n",
					id ? id : "?", score, gr->max_score,
					gb_cell_status_name(gr->status), w ? w : "?");
				free(id);
				free(w);
			}
		}
	}
	fprintf(f, "\n%zu of %zu visible tests passed\n",
		*tests - *failed > *tests ? 0 : *tests - *failed, *tests);
	if (md)
		fprintf(f, "\n");
}

static int write_report(const char *path, int md, const struct gb_gradebook *gb)
{
	FILE *f = fopen(path, "a");
	size_t t, fl;

	if (!f)
		return -1;
	report(f, md, gb, &t, &fl);
	return fclose(f);
}

static int write_export(const char *path, int fmt, const struct gb_gradebook *gb,
			struct gr_err *err)
{
	struct export_opts eo = {0};
	FILE *f;
	int rc;

	if (fmt == EXPORT_GRADESCOPE)
		return export_gradescope(path, gb, &eo, err);
	f = fopen(path, "w");
	if (!f)
		return gr_err_sys(err, GR_EIO, errno, "cannot create '%s'", path);
	rc = export_junit(f, gb, &eo, err);
	if (fclose(f) != 0 && !rc)
		rc = gr_err_sys(err, GR_EIO, errno, "cannot write '%s'", path);
	return rc;
}

int cmd_ci(int argc, char **argv)
{
	static const struct cmd_opt table[] = {
	    {"rubric", 0, 1, CMD_KEY_RUBRIC},
	    {"student", 0, 1, CMD_KEY_STUDENT},
	    {"junit", 0, 1, 'J'},
	    {"gradescope", 0, 1, 'G'},
	    {"gradebook", 0, 1, CMD_KEY_GRADEBOOK},
	    {"markdown", 0, 1, 'M'},
	    {"allow-weaker", 0, 0, 'w'},
	    {"help", 'h', 0, 0},
	    {NULL, 0, 0, 0},
	};
	struct cmd_opts p;
	const char *rubric, *junit = NULL, *gradescope = NULL, *markdown = NULL;
	const char *path = ".", *summary;
	struct batch_opts opts;
	struct gb_gradebook *gb = NULL;
	struct gr_err err = {0};
	char *rubric_path = NULL;
	size_t tests = 0, failed = 0;
	int c, code = 2;

	batch_opts_init(&opts);
	cmd_opts_init(&p, table, argc, argv, CMD_OPTS_GETOPT_ERRORS);
	while ((c = cmd_opts_next(&p)) != -1) {
		switch (c) {
		case 'J':
			junit = p.arg;
			break;
		case 'G':
			gradescope = p.arg;
			break;
		case 'M':
			markdown = p.arg;
			break;
		case 'w':
			opts.allow_weaker = 1;
			break;
		default:
			return cmd_opts_other(&p, c, "grader ci", usage);
		}
	}
	if (p.ind + 1 < argc) {
		usage(stderr);
		return 2;
	}
	if (p.ind < argc)
		path = argv[p.ind];
	rubric = p.rubric;
	if (!rubric) {
		rubric_path = gr_path_join(path, DEFAULT_RUBRIC);
		if (!rubric_path) {
			fprintf(stderr, "grader ci: out of memory\n");
			return 2;
		}
		rubric = rubric_path;
	}
	opts.rubric = rubric;
	if (batch_grade_dir(&gb, &opts, path, p.student ? p.student : default_student(), &err) <
	    0) {
		fprintf(stderr, "grader ci: %s\n", err.msg);
		goto done;
	}
	code = 1;
	report(stdout, 0, gb, &tests, &failed);
	summary = getenv("GITHUB_STEP_SUMMARY");
	if (summary && summary[0] && write_report(summary, 1, gb) != 0)
		fprintf(stderr, "grader ci: cannot append to '%s'\n", summary);
	if (markdown && write_report(markdown, 1, gb) != 0) {
		fprintf(stderr, "grader ci: cannot write '%s'\n", markdown);
		goto done;
	}
	if ((junit && write_export(junit, EXPORT_JUNIT, gb, &err) < 0) ||
	    (gradescope && write_export(gradescope, EXPORT_GRADESCOPE, gb, &err) < 0) ||
	    (p.gradebook && gb_write_file(gb, p.gradebook, &err) < 0)) {
		fprintf(stderr, "grader ci: %s\n", err.msg);
		goto done;
	}
	code = failed ? 1 : 0;
done:
	gb_free(gb);
	free(rubric_path);
	return code;
}
