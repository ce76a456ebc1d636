/*
 * fuzz_backup_label.c
 *	  libFuzzer harness: backup_label and backup history files
 *	  (pitr_parse_backup_label), which share one parser.
 */
#include "postgres.h"

#include "backup.h"
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
	}
	else if (err == NULL)
		abort();
	fuzz_reset();
	return 0;
}
