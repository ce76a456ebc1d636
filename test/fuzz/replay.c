/*
 * replay.c
 *	  A plain main() for a harness: run LLVMFuzzerTestOneInput once over
 *	  each file named, in order, printing the file's name and the outcomes
 *	  the harness reports (report.h).  No libFuzzer, no sanitizer: this is
 *	  how `make test` runs the corpus (test/t/002_parsers.pl).  A broken
 *	  promise still aborts the harness, which fails the test.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
	fuzz_reporting = 1;
	for (int i = 1; i < argc; i++)
	{
		FILE	   *f = fopen(argv[i], "rb");
		uint8_t    *buf;
		long		size;
		const char *base = strrchr(argv[i], '/');

		if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
			fseek(f, 0, SEEK_SET) != 0)
		{
			fprintf(stderr, "replay: cannot read %s\n", argv[i]);
			return 2;
		}
		/* one byte more: a harness may not read past size, but may look */
		buf = malloc(size + 1);
		if (buf == NULL || fread(buf, 1, size, f) != (size_t) size)
		{
			fprintf(stderr, "replay: cannot read %s\n", argv[i]);
			return 2;
		}
		fclose(f);
		printf("%s:\n", base ? base + 1 : argv[i]);
		fflush(stdout);
		LLVMFuzzerTestOneInput(buf, size);
		free(buf);
	}
	return 0;
}
