/* flood.c [MB] - write MB megabytes (default 200) to stdout, then exit 0 (expect OL). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	static char block[1 << 16];
	long total = (argc > 1 ? atol(argv[1]) : 200) << 20;
	memset(block, 'y', sizeof(block));
	for (long done = 0; done < total; done += sizeof(block))
		if (write(1, block, sizeof(block)) < 0)
			return 1;
	return 0;
}
