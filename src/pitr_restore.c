/*-------------------------------------------------------------------------
 *
 * pitr_restore.c
 *	  Module initialisation and settings of pitr_restore.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "archive_module/archive_module.h"
#include "index/scan_workers.h"
#include "cleanup.h"
#include "history/journal_hook.h"
#include "restore/side_server.h"
#include "pitr_restore.h"
#include "source/archive_source.h"
#include "util/gucs.h"

PG_MODULE_MAGIC;

char	   *pitr_archive_dir = NULL;
char	   *pitr_backup_dir = NULL;

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomStringVariable("pitr_restore.archive_dir",
							   "WAL archive directory that pitr_restore reads.",
							   "Files as archive_command names them, plain or "
							   "compressed with zstd (.zst) or gzip (.gz).",
							   &pitr_archive_dir,
							   NULL,
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("pitr_restore.backup_dir",
							   "Directory holding one subdirectory per base backup.",
							   NULL,
							   &pitr_backup_dir,
							   NULL,
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);

	pitr_cleanup_init();
	pitr_archive_module_define_gucs();
	pitr_source_define_gucs();
	pitr_scan_define_gucs();
	pitr_history_init();
	pitr_side_define_gucs();

	MarkGUCPrefixReserved("pitr_restore");
}
