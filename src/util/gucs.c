/*-------------------------------------------------------------------------
 *
 * gucs.c
 *	  Reading the settings (util/gucs.h): what a call's optional archive
 *	  argument means when it is left out.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"

#include "util/gucs.h"

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
