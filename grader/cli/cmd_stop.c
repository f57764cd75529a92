/*
 * cmd_stop.c - SIGTERM and SIGINT as a batch scheduler sends them (scancel, a
 * deleted pod, Ctrl-C): a flag the long commands (grade, merge) poll, so that
 * they stop cleanly rather than die with student files left behind.
 */
#include <signal.h>
#include <string.h>

#include "cmd.h"

/* The signal that asked the command to stop, 0 while none did. */
static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

/*
 * No SA_RESTART: a blocking wait returns and the command sees the flag. A
 * signal ignored on entry (a shell's background job, nohup) stays ignored.
 */
const volatile sig_atomic_t *cmd_catch_stop(void)
{
	static const int sigs[] = {SIGTERM, SIGINT};
	struct sigaction sa, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
	return &stop_signal;
}

const char *cmd_stop_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
}
