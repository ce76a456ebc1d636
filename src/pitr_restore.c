/*-------------------------------------------------------------------------
 *
 * pitr_restore.c
 *	  Module initialisation and settings of pitr_restore.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_authid.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "archive_module/archive_module.h"
#include "index/scan_workers.h"
#include "cleanup.h"
#include "history/journal_hook.h"
#include "restore/side_server.h"
#include "pitr_restore.h"
#include "source/archive_source.h"

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

/*
 * The public functions are SECURITY DEFINER, so GetUserId() is the
 * extension's owner there: check the role that called them.
 */
void
pitr_check_read_privilege(void)
{
	if (!has_privs_of_role(GetOuterUserId(), ROLE_PG_READ_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to read the WAL archive or base backups"),
				 errdetail("Only roles with privileges of the \"%s\" role may read server files.",
						   "pg_read_server_files")));
}

void
pitr_check_write_privilege(void)
{
	if (!has_privs_of_role(GetOuterUserId(), ROLE_PG_WRITE_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to write server files"),
				 errdetail("Only roles with privileges of the \"%s\" role may write server files.",
						   "pg_write_server_files")));
}

char *
pitr_archive_dir_arg(text *arg)
{
	char	   *dir;

	if (arg != NULL)
		dir = text_to_cstring(arg);
	else if (pitr_archive_dir != NULL && pitr_archive_dir[0] != '\0')
		dir = pstrdup(pitr_archive_dir);
	else
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no WAL archive directory given"),
				 errhint("Set \"pitr_restore.archive_dir\" or pass the archive_dir argument.")));

	/* A pgBackRest stanza by its keywords: not a path. */
	if (strncmp(dir, "pgbackrest:", 11) == 0)
		return dir;
	if (!is_absolute_path(dir))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("archive directory \"%s\" is not an absolute path", dir)));
	canonicalize_path(dir);
	return dir;
}
