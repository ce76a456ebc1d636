/*
 * fuzz_file_name.c
 *	  libFuzzer harness: archive file names (pitr_classify_file_name).
 *	  A name that is accepted must be one the archiver writes.
 */
#include "postgres.h"

#include "archive_files.h"
#include "report.h"
#include "shim.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		name[256];
	PitrArchiveFile f;

	if (size >= sizeof(name))
		return 0;
	memcpy(name, data, size);
	name[size] = '\0';
	memset(&f, 0, sizeof(f));
	if (pitr_classify_file_name(name, &f))
	{
		size_t		len = strlen(name);

		/* every archiver name starts with 8 upper-case hex digits */
		if (len < 8 || strspn(name, "0123456789ABCDEF") < 8)
			abort();
		if (f.kind == PITR_FILE_SEGMENT &&
			(len < 24 || strspn(name, "0123456789ABCDEF") != 24))
			abort();
		if (f.kind == PITR_FILE_HISTORY && f.tli == 0)
			abort();
		if (f.name != NULL && strcmp(f.name, name) != 0)
			abort();
		fuzz_report("accepted: %s of timeline %u, compression %s",
					pitr_file_kind_name(f.kind), f.tli,
					pitr_compression_name(f.compression));
	}
	else
		fuzz_report("refused");
	fuzz_reset();
	return 0;
}
