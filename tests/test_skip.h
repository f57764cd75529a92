/*
 * test_skip.h - skips that explain themselves, for the cmocka tests.
 * tests/run.sh counts skips; REQUIRE_ROOT=1 (CI) makes a skip for want of
 * root, or of a host that can build the sandbox, a failure instead.
 */
#ifndef GRADER_TEST_SKIP_H
#define GRADER_TEST_SKIP_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Skip the current test, printing why. */
#define SKIP_BECAUSE(why)                                                                          \
	do {                                                                                       \
		print_message("[  SKIP    ] %s\n", (why));                                         \
		skip();                                                                            \
	} while (0)

static inline int test_require_root(void)
{
	const char *v = getenv("REQUIRE_ROOT");

	return v && strcmp(v, "1") == 0;
}

/* Skip (or fail under REQUIRE_ROOT=1) unless `cond` holds; `why` names the want. */
#define SKIP_UNLESS_ROOT_HOST(cond, why)                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			if (test_require_root())                                                   \
				fail_msg("%s and REQUIRE_ROOT=1", (why));                          \
			SKIP_BECAUSE(why);                                                         \
		}                                                                                  \
	} while (0)

#endif
