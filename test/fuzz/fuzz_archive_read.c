/*
 * fuzz_archive_read.c
 *	  libFuzzer harness: reading an archive file's content, plain or
 *	  compressed (pitr_read_file).  The compression is taken from the
 *	  input's magic, as a suffix would name it.  Asserts the exactness
 *	  promise: with "exact", success means exactly "want" bytes.
 */
#include "postgres.h"

#include "archive_files.h"
#include "report.h"
#include "shim.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WANT (16 * 1024)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	PitrCompression c = PITR_COMPRESS_NONE;
	const char *path;
	PitrFileReader *r;
	char	   *buf = palloc(WANT);

	if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b)
		c = PITR_COMPRESS_GZIP;
	else if (size >= 4 && memcmp(data, "\x28\xb5\x2f\xfd", 4) == 0)
		c = PITR_COMPRESS_ZSTD;
	else if (size >= 4 && memcmp(data, "\x04\x22\x4d\x18", 4) == 0)
		c = PITR_COMPRESS_LZ4;
	else if (size >= 3 && memcmp(data, "BZh", 3) == 0)
		c = PITR_COMPRESS_BZIP2;
	path = fuzz_write_temp(".seg", data, size);
	r = pitr_file_reader_create();
	for (int exact = 0; exact < 2; exact++)
	{
		int64		disk = 0;
		int64		got = -1;
		char	   *err = NULL;
		PitrReadStatus st;

		st = pitr_read_file(r, path, c, buf, WANT, exact, &disk, &got, &err);
		/* every failure says why; success never overruns the buffer */
		if (st != PITR_READ_OK && err == NULL)
			abort();
		if (st == PITR_READ_OK && (got < 0 || got > WANT))
			abort();
		if (pitr_read_status_name(st) == NULL)
			abort();
		/* plain files: the count is the file's, and exact refuses more */
		if (c == PITR_COMPRESS_NONE && st == PITR_READ_OK &&
			(got != (int64) Min(size, WANT) || (exact && size > WANT)))
			abort();
		if (c == PITR_COMPRESS_NONE && exact && size > WANT &&
			st != PITR_READ_TOO_LARGE)
			abort();
		/* whatever was read from disk, no more than the file holds */
		if (disk < 0)
			abort();
		fuzz_report("%s, exact %d: %s, %lld bytes", pitr_compression_name(c),
					exact, pitr_read_status_name(st), (long long) got);
	}
	unlink(path);
	fuzz_reset();
	return 0;
}
