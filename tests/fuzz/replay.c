/*
 * replay.c - run a libFuzzer target's corpus without libFuzzer: each file
 * named on the command line is passed to LLVMFuzzerTestOneInput twice
 * (the second run catches state left over by the first).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
	int i, n = 0;

	for (i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		uint8_t *d = NULL;
		size_t len = 0, cap = 0, got;

		if (f == NULL) {
			perror(argv[i]);
			return 1;
		}
		do {
			if (len == cap) {
				cap = cap ? cap * 2 : 4096;
				d = realloc(d, cap);
				if (d == NULL) {
					return 1;
				}
			}
			got = fread(d + len, 1, cap - len, f);
			len += got;
		} while (got > 0);
		fclose(f);
		LLVMFuzzerTestOneInput(d, len);
		LLVMFuzzerTestOneInput(d, len);
		free(d);
		n++;
	}
	printf("fuzz replay: %d passed, 0 failed\n", n);
	return 0;
}
