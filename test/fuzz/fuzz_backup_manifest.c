/*
 * fuzz_backup_manifest.c
 *	  libFuzzer harness: backup_manifest (pitr_parse_backup_manifest, over
 *	  the server's JSON parser from libpgcommon), with and without a start
 *	  LSN already known from backup_label.
 */
#include "postgres.h"

#include "backup.h"
#include "report.h"
#include "shim.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
parse(const uint8_t *data, size_t size, XLogRecPtr known_start)
{
	PitrBackup *b = palloc0(sizeof(PitrBackup));
	List	   *files = NIL;
	char	   *err;
	ListCell   *lc;

	b->start_lsn = known_start;
	if (!pitr_parse_backup_manifest((const char *) data, size, b, &files, &err))
	{
		if (err == NULL)
			abort();
		fuzz_report("start %X/%X: rejected: %s", LSN_FORMAT_ARGS(known_start), err);
		return;
	}
	if (err != NULL || !b->has_manifest)
		abort();
	foreach(lc, files)
	{
		PitrManifestFile *f = lfirst(lc);

		if (f->path == NULL || f->size < 0)
			abort();
	}
	fuzz_report("start %X/%X: ok, %d files", LSN_FORMAT_ARGS(known_start),
				list_length(files));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	parse(data, size, InvalidXLogRecPtr);
	parse(data, size, 0x2000028);
	fuzz_reset();
	return 0;
}
