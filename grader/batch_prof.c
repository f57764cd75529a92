/*
 * batch_prof.c - where `grade` spends its time, phase by phase, when the
 * environment sets GRADER_PROFILE (off by default; see docs/notebook-engine.md).
 *
 * The counters live in one shared anonymous mapping made before the workers
 * fork: slot 0 is the coordinator's, slot 1 + i worker slot i's (a worker
 * that replaces a dead one adds to the same slot). Each slot has one writer,
 * and the coordinator reads them all once the workers are gone.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "batch_int.h"

static const struct {
	const char *name;
	int worker; /* a worker's phase (else the coordinator's) */
} phases[BATCH_PH_N] = {
    [BATCH_PH_START] = {"start: rubric, plan (hash every tree), journal", 0},
    [BATCH_PH_ZYGOTE] = {"zygote start (Python, preloads), once per worker", 1},
    [BATCH_PH_SOURCE] = {"provenance, timestamp.txt", 1},
    [BATCH_PH_READ] = {"read and parse the notebook", 1},
    [BATCH_PH_SPLICE] = {"rubric splicing", 1},
    [BATCH_PH_BOX] = {"box: copy the files in", 1},
    [BATCH_PH_REQUEST] = {"engine: request, answer, records (kernel_run - wall)", 1},
    [BATCH_PH_SANDBOX] = {"engine: sandboxed run, fork to exit, minus the cells", 1},
    [BATCH_PH_CELLS] = {"the cells' own compute", 1},
    [BATCH_PH_SCORE] = {"scoring, flags, messages, autograded notebook", 1},
    [BATCH_PH_CLEAN] = {"box: remove", 1},
    [BATCH_PH_ENCODE] = {"result to JSON text", 1},
    [BATCH_PH_IDLE] = {"worker waits: reply sent to next job received", 1},
    [BATCH_PH_PARSE] = {"coordinator: parse the result", 0},
    [BATCH_PH_JOURNAL] = {"coordinator: journal write", 0},
    [BATCH_PH_SYNC] = {"coordinator: journal fdatasync", 0},
    [BATCH_PH_PROGRESS] = {"coordinator: progress line", 0},
    [BATCH_PH_GRADEBOOK] = {"gradebook written from the journal", 0},
};

struct batch_prof *batch_prof_new(unsigned workers)
{
	size_t len = (size_t)(workers + 1) * sizeof(struct batch_prof);
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void batch_prof_free(struct batch_prof *p, unsigned workers)
{
	if (p)
		munmap(p, (size_t)(workers + 1) * sizeof(*p));
}

double batch_prof_now(const struct batch_prof *p)
{
	return p ? gr_now() : 0;
}

double batch_prof_add(struct batch_prof *p, enum batch_phase ph, double since)
{
	double now;

	if (!p)
		return 0;
	now = gr_now();
	p->sec[ph] += now - since;
	p->count[ph]++;
	return now;
}

void batch_prof_add_sec(struct batch_prof *p, enum batch_phase ph, double sec)
{
	if (p) {
		p->sec[ph] += sec;
		p->count[ph]++;
	}
}

/* User + system time of this process and of every child it waited for. */
static double cpu_seconds(void)
{
	struct rusage self, kids;
	double t = 0;

	if (getrusage(RUSAGE_SELF, &self) == 0)
		t += (double)self.ru_utime.tv_sec + (double)self.ru_stime.tv_sec +
		     (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec) / 1e6;
	if (getrusage(RUSAGE_CHILDREN, &kids) == 0)
		t += (double)kids.ru_utime.tv_sec + (double)kids.ru_stime.tv_sec +
		     (double)(kids.ru_utime.tv_usec + kids.ru_stime.tv_usec) / 1e6;
	return t;
}

/*
 * The table: each phase's total over every slot, and per submission graded.
 * "above the cells" is the workers' time per submission minus the cells'
 * own compute: what the batch path adds to the notebooks themselves.
 */
void batch_prof_print(FILE *f, const struct batch_prof *p, unsigned workers, size_t graded,
		      double wall)
{
	double sum[BATCH_PH_N] = {0}, worker = 0, n = graded ? (double)graded : 1;

	if (!p || !f)
		return;
	for (unsigned s = 0; s <= workers; s++)
		for (int ph = 0; ph < BATCH_PH_N; ph++)
			sum[ph] += p[s].sec[ph];
	fprintf(f, "profile: %zu submissions graded, -j %u, %.3f s wall, %.2f ms each\n", graded,
		workers, wall, wall * 1000 / n);
	fprintf(f, "profile: %-56s %10s %10s\n", "phase", "total s", "ms/each");
	for (int ph = 0; ph < BATCH_PH_N; ph++) {
		fprintf(f, "profile: %-56s %10.3f %10.3f\n", phases[ph].name, sum[ph],
			sum[ph] * 1000 / n);
		if (phases[ph].worker && ph != BATCH_PH_ZYGOTE && ph != BATCH_PH_IDLE)
			worker += sum[ph];
	}
	fprintf(f, "profile: %-56s %10.3f %10.3f\n", "worker busy per submission", worker,
		worker * 1000 / n);
	fprintf(f, "profile: %-56s %10.3f %10.3f\n", "worker busy above the cells' compute",
		worker - sum[BATCH_PH_CELLS], (worker - sum[BATCH_PH_CELLS]) * 1000 / n);
	fprintf(f, "profile: %-56s %10.3f %10.3f\n", "wall x workers above the cells' compute",
		wall * workers - sum[BATCH_PH_CELLS],
		(wall * workers - sum[BATCH_PH_CELLS]) * 1000 / n);
	fprintf(f, "profile: %-56s %10.3f %10.3f\n", "CPU time of every process of the run",
		cpu_seconds(), cpu_seconds() * 1000 / n);
	fprintf(f, "profile: %-56s %10lu\n", "journal fdatasync calls", p[0].count[BATCH_PH_SYNC]);
}
