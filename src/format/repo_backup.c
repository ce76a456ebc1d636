/*-------------------------------------------------------------------------
 *
 * repo_backup.c
 *	  Base backups as backup tools describe them: when a differential or
 *	  incremental backup can be used (its whole chain present, none of it
 *	  in error).
 *
 *-------------------------------------------------------------------------
 */
/* Frontend too, for the fuzzing harness (test/fuzz/). */
#ifdef FRONTEND
#include "postgres_fe.h"
#else
#include "postgres.h"
#endif

#include "format/repo_backup.h"

const char *
pitr_repo_backup_type_name(PitrRepoBackupType t)
{
	switch (t)
	{
		case PITR_REPO_BACKUP_FULL:
			return "full";
		case PITR_REPO_BACKUP_DIFF:
			return "diff";
		case PITR_REPO_BACKUP_INCR:
			return "incr";
	}
	return "?";
}

bool
pitr_parse_lsn_text(const char *s, XLogRecPtr *lsn)
{
	uint32		hi = 0,
				lo = 0;
	int			nhi = 0,
				nlo = 0;
	const char *p = s;

	for (; *p && *p != '/'; p++, nhi++)
	{
		if (!isxdigit((unsigned char) *p) || nhi >= 8)
			return false;
		hi = hi * 16 + (isdigit((unsigned char) *p) ? *p - '0' :
						(toupper((unsigned char) *p) - 'A' + 10));
	}
	if (*p != '/' || nhi == 0)
		return false;
	for (p++; *p; p++, nlo++)
	{
		if (!isxdigit((unsigned char) *p) || nlo >= 8)
			return false;
		lo = lo * 16 + (isdigit((unsigned char) *p) ? *p - '0' :
						(toupper((unsigned char) *p) - 'A' + 10));
	}
	if (nlo == 0)
		return false;
	*lsn = ((uint64) hi << 32) | lo;
	return true;
}

static const PitrRepoBackup *
find_backup(const char *label, PitrRepoBackup *const *all, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(all[i]->label, label) == 0)
			return all[i];
	return NULL;
}

bool
pitr_repo_backup_usable(const PitrRepoBackup *b, PitrRepoBackup *const *all,
						int n, char **why)
{
	const PitrRepoBackup *cur = b;

	/* A chain is never longer than the repository; that bounds a loop. */
	for (int depth = 0; depth <= n; depth++)
	{
		if (cur->error)
		{
			*why = (cur == b) ?
				psprintf("backup %s is marked as failed (%s)", cur->label,
						 cur->status ? cur->status : "error") :
				psprintf("backup %s it depends on is marked as failed (%s)",
						 cur->label, cur->status ? cur->status : "error");
			return false;
		}
		if (cur->type == PITR_REPO_BACKUP_FULL)
			return true;
		if (cur->prior == NULL)
		{
			*why = psprintf("%s backup %s names no prior backup",
							pitr_repo_backup_type_name(cur->type), cur->label);
			return false;
		}
		{
			const PitrRepoBackup *prior = find_backup(cur->prior, all, n);

			if (prior == NULL)
			{
				*why = psprintf("backup %s it depends on is not in the repository",
								cur->prior);
				return false;
			}
			cur = prior;
		}
	}
	*why = psprintf("the chain of prior backups of %s loops", b->label);
	return false;
}
