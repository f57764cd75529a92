/*
 * grader/zygote/main.c - the lean zygote program (build/grader-zygote),
 * embedded in the grader binary and executed by kernel_new()'s child
 * (grader/kernel_spawn.c). It links the engine, the sandbox and CPython but
 * none of the grader's other libraries, so that the two forks of every
 * notebook copy and tear down a small address space. The socket to the
 * caller is fd 3; the options are its first message.
 */
#include <unistd.h>

#include "../kernel_int.h"

int main(void)
{
	struct kernel_opts opts; /* main never returns: it lives as long as the zygote */

	if (kspawn_recv_opts(3, &opts) < 0)
		_exit(1); /* the caller reports that the engine did not start */
	kernel_zygote_main(3, &opts);
}
