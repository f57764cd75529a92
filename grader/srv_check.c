/*
 * srv_check.c - what the grading side (root) takes from a job row. The
 * unprivileged HTTP side writes the rows; a bug there, or a process running
 * as its user, may write anything into them. Every field the grading side
 * uses is checked here before a path is built from it, a repository fetched
 * or a time believed; the HTTP side's own checks of uploads use the same
 * file name rule.
 */
#include <stdlib.h>
#include <string.h>

#include "grader/fetch.h"
#include "grader/roster.h"
#include "srv_int.h"

int srv_file_name_ok(const char *name)
{
	/* the files the grading side writes beside a submission are its own */
	return name && fetch_name_is_safe(name) && !strchr(name, '/') && !strchr(name, '\\') &&
	       strncmp(name, ".grader-", 8) && strcmp(name, FETCH_TIMESTAMP_NAME);
}

/* A push row's repository must be the one its assignment and student name. */
static const char *check_repository(const struct srv_config *cfg, const struct srv_job *job)
{
	const struct srv_assignment *a = NULL;
	char *student = NULL;
	const char *why = NULL;

	if (!job->repository || srv_config_match(&a, &student, cfg, job->repository) < 0)
		why = "its repository belongs to no assignment";
	else if (strcmp(a->name, job->assignment) || strcmp(student, job->student))
		why = "its repository is not its student's";
	free(student);
	return why;
}

const char *srv_job_check(const struct srv_config *cfg, const struct roster *roster,
			  const struct srv_job *job)
{
	if (!job->assignment || !srv_config_assignment(cfg, job->assignment))
		return NULL; /* the job fails as before: the assignment left the config */
	if (!job->student || !fetch_name_is_safe(job->student) || strchr(job->student, '/'))
		return "its student id is not a plain, safe name";
	if (roster && !roster_find(roster, job->student))
		return "its student is not in the roster";
	if (!job->kind || (strcmp(job->kind, "push") && strcmp(job->kind, "upload")))
		return "its kind is neither push nor upload";
	if (!strcmp(job->kind, "upload"))
		return job->commit || job->repository ? "an upload names a commit or repository"
						      : NULL;
	if (!srv_is_commit_id(job->commit))
		return "its commit is not a commit id";
	return check_repository(cfg, job);
}

double srv_job_received(double received, double seen)
{
	/* a time after the grading side saw the job, or long before, is not believed */
	if (received > seen || received < seen - SRV_SEEN_SLACK || received != received)
		return seen;
	return received;
}
