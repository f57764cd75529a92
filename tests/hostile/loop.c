/* loop.c - spin forever on the CPU (expect TO). */
int main(void)
{
	volatile unsigned long n = 0;
	for (;;)
		n++;
}
