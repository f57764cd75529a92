/* batch_progress.c - a progress bar with rate and ETA on a terminal, else one line per item. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "batch_int.h"
#include "grader/util.h"

void batch_progress_init(struct batch_progress *p, FILE *f, size_t total)
{
	p->f = f;
	p->tty = f && isatty(fileno(f));
	p->total = total;
	p->done = 0;
	p->start = gr_now();
	p->last_draw = 0;
}

static void fmt_duration(char *buf, size_t len, double s)
{
	long t = (long)(s + 0.5);

	if (t >= 3600)
		snprintf(buf, len, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
	else if (t >= 60)
		snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
	else
		snprintf(buf, len, "%lds", t);
}

static void draw(struct batch_progress *p)
{
	const int width = 30;
	double elapsed = gr_now() - p->start;
	double rate = elapsed > 0 ? (double)p->done / elapsed : 0;
	int fill = p->total ? (int)((double)width * (double)p->done / (double)p->total) : width;
	char eta[32] = "?";

	if (rate > 0)
		fmt_duration(eta, sizeof(eta), (double)(p->total - p->done) / rate);
	fputc('\r', p->f);
	fputc('[', p->f);
	for (int i = 0; i < width; i++)
		fputc(i < fill ? '#' : '.', p->f);
	fprintf(p->f, "] %zu/%zu  %.1f/s  ETA %s  ", p->done, p->total, rate, eta);
	fflush(p->f);
	p->last_draw = gr_now();
}

void batch_progress_step(struct batch_progress *p, const char *line)
{
	if (!p->f)
		return;
	p->done++;
	if (!p->tty) {
		/* student ids and messages may carry what a submission chose: escaped */
		char *safe = line ? gr_term_escape(line) : NULL;

		if (line)
			fprintf(p->f, "%s\n", safe ? safe : "(out of memory)");
		free(safe);
		return;
	}
	/* redraw at most ten times a second, and always for the last item */
	if (p->done == p->total || gr_now() - p->last_draw > 0.1)
		draw(p);
}

void batch_progress_finish(struct batch_progress *p)
{
	if (p->f && p->tty) {
		draw(p);
		fputc('\n', p->f);
	}
}

void batch_progress_note(struct batch_progress *p, const char *line)
{
	FILE *f = p->f ? p->f : stderr;
	/* a timestamp.txt's text is the student's: escaped */
	char *safe = gr_term_escape(line);

	/* on a terminal the bar is redrawn under the note */
	if (p->f && p->tty)
		fputs("\r\033[K", f);
	fprintf(f, "%s\n", safe ? safe : "(out of memory)");
	free(safe);
	if (p->f && p->tty)
		draw(p);
	fflush(f);
}
