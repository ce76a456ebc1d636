/*
 * fuzz_backup_label.c
 *	  libFuzzer harness: backup_label and backup history files
 *	  (pitr_parse_backup_label), which share one parser, and recovery's
 *	  stricter reading of a backup_label (pitr_backup_label_recovery_reads).
 */
#include "postgres.h"

#include "backup.h"
#include "report.h"
#include "shim.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	PitrBackup *b = palloc0(sizeof(PitrBackup));
	char	   *err;

	if (pitr_parse_backup_label((const char *) data, size, b, &err))
	{
		if (err != NULL)
			abort();
		/* a START WAL LOCATION line is required for success */
		if (memmem(data, size, "START WAL LOCATION", 18) == NULL)
			abort();
		fuzz_report("label: ok, start %X/%X on timeline %u, stop %X/%X",
					LSN_FORMAT_ARGS(b->start_lsn), b->start_tli,
					LSN_FORMAT_ARGS(b->stop_lsn));
	}
	else if (err == NULL)
		abort();
	else
		fuzz_report("label: rejected: %s", err);

	/* recovery's own reading of a backup_label: a refusal always says why */
	{
		XLogRecPtr	redo = 0,
					ckpt = 0;
		TimeLineID	tli = 0;
		char	   *why = NULL;

		if (pitr_backup_label_recovery_reads((const char *) data, size,
											 &redo, &tli, &ckpt, &why))
			fuzz_report("recovery: reads, redo %X/%X on timeline %u, checkpoint %X/%X",
						LSN_FORMAT_ARGS(redo), tli, LSN_FORMAT_ARGS(ckpt));
		else if (why == NULL)
			abort();
		else
			fuzz_report("recovery: refuses: %s", why);
	}
	fuzz_reset();
	return 0;
}
