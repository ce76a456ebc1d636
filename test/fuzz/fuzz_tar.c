/*
 * fuzz_tar.c
 *	  libFuzzer harness: tar files, plain, gzip or zstd (pitr_tar_*, over
 *	  libarchive), in the no-ERROR mode backup scanning uses.  Reads every
 *	  entry's data, block-wise and with the exact-length reader.
 */
#include "postgres.h"

#include "report.h"
#include "shim.h"
#include "tar_reader.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *compression = "none";
	const char *path;
	PitrTarReader *r;
	struct archive_entry *entry;
	int			n = 0;

	if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b)
		compression = "gzip";
	else if (size >= 4 && memcmp(data, "\x28\xb5\x2f\xfd", 4) == 0)
		compression = "zstd";
	path = fuzz_write_temp(".tar", data, size);

	for (int pass = 0; pass < 2; pass++)
	{
		int			entries = 0;

		r = pitr_tar_open(path, compression, PITR_TAR_NOERROR |
						  (pass == 0 ? PITR_TAR_SEEK : 0));
		while (n++ < 1000 && pitr_tar_next(r, &entry))
		{
			const char *name = archive_entry_pathname(entry);
			int64		esize = archive_entry_size(entry);

			entries++;
			if (pass == 0)
			{
				const void *block;
				size_t		bsize;
				int64		offset;

				while (pitr_tar_read_block(r, &block, &bsize, &offset))
					if (offset < 0 || (esize >= 0 && offset + (int64) bsize > esize))
						abort();
			}
			else if (esize >= 0 && esize <= 65536)
			{
				char	   *buf = palloc(esize + 1);

				(void) pitr_tar_read(r, name ? name : "?", buf, esize);
			}
		}
		fuzz_report("%s, pass %d: %d entries, %s", compression, pass, entries,
					pitr_tar_error(r) ? "stops on an error" : "read to the end");
		pitr_tar_close(r);
	}
	unlink(path);
	fuzz_reset();
	return 0;
}
