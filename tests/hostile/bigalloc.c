/* bigalloc.c - allocate and touch 10 GB in 64 MB steps (expect ML). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void)
{
	size_t chunk = 64u << 20;
	for (int i = 0; i < 160; i++) {
		char *p = malloc(chunk);
		if (!p) {
			printf("malloc failed after %d MB\n", i * 64);
			return 3;
		}
		memset(p, 0xab, chunk);
	}
	printf("allocated 10 GB\n");
	return 0;
}
