/*-------------------------------------------------------------------------
 *
 * fuzz_repo_info.c
 *	  libFuzzer harness for the pure parsers of backup tools' repository
 *	  files (src/format/: tool_ini.c, pgbackrest_info.c, barman_info.c,
 *	  repo_backup.c): every input goes through every parser, and whatever
 *	  parses goes through the backup chain check.  Built by build.sh and
 *	  run by test/fuzz/run.sh like every harness (palloc, files: shim.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "format/barman_info.h"
#include "format/pgbackrest_info.h"

#include "report.h"
#include "shim.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What one parser said, for the replay (report.h). */
static void
report(const char *what, PitrParseStatus st, const char *msg)
{
	static const char *const names[] = {"ok", "syntax", "missing", "invalid"};

	if (st == PITR_PARSE_OK)
		fuzz_report("%s: ok", what);
	else
		fuzz_report("%s: %s: %s", what,
					(unsigned) st < 4 ? names[st] : "?", msg ? msg : "(no reason)");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *) data;
	char	   *msg;
	PitrPgbrArchiveInfo ai;
	PitrRepoBackup **backups;
	PitrRepoBackup one;
	PitrRepoLsEntry *entries;
	int			n;
	PitrParseStatus st;

	msg = NULL;
	st = pitr_parse_pgbackrest_archive_info(buf, size, &ai, &msg);
	report("pgbackrest archive.info", st, msg);
	msg = NULL;
	st = pitr_parse_pgbackrest_backup_info(buf, size, &backups, &n, &msg);
	report("pgbackrest backup.info", st, msg);
	if (st == PITR_PARSE_OK)
	{
		for (int i = 0; i < n; i++)
		{
			msg = NULL;
			if (pitr_repo_backup_usable(backups[i], backups, n, &msg))
				fuzz_report("  backup %d: usable", i);
			else
				fuzz_report("  backup %d: not usable: %s", i, msg ? msg : "(no reason)");
		}
	}
	msg = NULL;
	st = pitr_parse_pgbackrest_manifest(buf, size, &one, &msg);
	report("pgbackrest manifest", st, msg);
	msg = NULL;
	st = pitr_parse_barman_backup_info(buf, size, "id", &one, &msg);
	report("barman backup.info", st, msg);
	msg = NULL;
	st = pitr_parse_pgbackrest_repo_ls(buf, size, &entries, &n, &msg);
	report("pgbackrest repo-ls", st, msg);
	if (size < MAXPGPATH)
	{
		char		name[MAXPGPATH];
		char		wal[MAXPGPATH];
		char		sha1[41];
		const char *ext;

		memcpy(name, buf, size);
		name[size] = '\0';
		if (pitr_pgbackrest_file_name(name, wal, sha1, &ext))
			fuzz_report("pgbackrest file name: %s", wal);
		else
			fuzz_report("pgbackrest file name: no");
	}
	fuzz_reset();
	return 0;
}
