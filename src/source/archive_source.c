/*-------------------------------------------------------------------------
 *
 * archive_source.c
 *	  Archive locations: recognising a flat directory, a pgBackRest stanza
 *	  archive or a Barman server directory, and the calls every layout
 *	  answers (list the WAL files under the names PostgreSQL gave them,
 *	  read one, checking pgBackRest's SHA-1, list the base backups, the
 *	  tool's restore_command).  This file dispatches; each layout's driver
 *	  answers through its method table (source_internal.h):
 *	  flat_source.c, pgbackrest_source.c, barman_source.c.
 *
 * A location that fits no layout is an ERROR that says what was found,
 * never an empty archive: an archive read wrongly would certify nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/xlog_internal.h"
#include "common/cryptohash.h"
#include "common/sha1.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "backup.h"
#include "format/archive_files.h"
#include "source/archive_source.h"
#include "source/backup_dir.h"
#include "source/pgbackrest_config.h"
#include "source/pgbackrest_exec.h"
#include "source/source_internal.h"
#include "util/gucs.h"
#include "util/dir_reader.h"

const char *
pitr_source_layout_name(PitrSourceLayout layout)
{
	switch (layout)
	{
		case PITR_LAYOUT_FLAT:
			return "flat";
		case PITR_LAYOUT_PGBACKREST:
			return "pgbackrest";
		case PITR_LAYOUT_BARMAN:
			return "barman";
	}
	return "?";
}

/* "15-1": a pgBackRest archive id directory. */
static bool
is_archive_id(const char *s)
{
	size_t		n = strspn(s, "0123456789");

	return n > 0 && s[n] == '-' && s[n + 1] != '\0' &&
		strspn(s + n + 1, "0123456789") == strlen(s + n + 1);
}

/* What a directory that fits no layout holds, for the error message. */
typedef struct DirCensus
{
	int			entries;
	int			wal_names;		/* named as PostgreSQL's archiver names */
	int			pgbr_names;		/* <segment>-<sha1>[.ext] */
	int			hex_dirs;		/* 16 hex digits: pgBackRest/Barman hash dirs */
	int			archive_ids;	/* 15-1 */
	bool		has_archive_info;
	bool		has_wals;
	bool		has_base;
	bool		has_xlog_db;
	bool		has_archive_and_backup;
} DirCensus;

static void
take_census(const char *dir, DirCensus *c)
{
	bool		has_archive = false,
				has_backup = false;
	ListCell   *lc;

	memset(c, 0, sizeof(*c));
	foreach(lc, pitr_read_dir(dir, "WAL archive directory", 0, NULL))
	{
		const char *name = lfirst(lc);
		PitrArchiveFile f;
		char		wal[MAXPGPATH];
		char		sha1[41];
		const char *ext;

		c->entries++;
		if (strcmp(name, "archive.info") == 0 ||
			strcmp(name, "archive.info.copy") == 0)
			c->has_archive_info = true;
		else if (strcmp(name, "wals") == 0)
			c->has_wals = true;
		else if (strcmp(name, "base") == 0)
			c->has_base = true;
		else if (strcmp(name, "xlog.db") == 0)
			c->has_xlog_db = true;
		else if (strcmp(name, "archive") == 0)
			has_archive = true;
		else if (strcmp(name, "backup") == 0)
			has_backup = true;
		else if (pitr_source_is_hex16(name))
			c->hex_dirs++;
		else if (is_archive_id(name))
			c->archive_ids++;
		else if (pitr_classify_file_name(name, &f))
			c->wal_names++;
		else if (strlen(name) < MAXPGPATH &&
				 pitr_pgbackrest_file_name(name, wal, sha1, &ext) &&
				 sha1[0] != '\0')
			c->pgbr_names++;
	}
	c->has_archive_and_backup = has_archive && has_backup;
}

static void
open_directory(PitrArchiveSource *src, const char *dir)
{
	DirCensus	c;

	if (!pitr_source_is_dir(dir))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("WAL archive location \"%s\" is not a directory", dir),
				 errhint("Give a directory or \"pgbackrest:stanza=<name>\".")));
	take_census(dir, &c);
	src->wal_dir = pstrdup(dir);
	canonicalize_path(src->wal_dir);

	if (c.has_archive_info)
	{
		char	   *stanza = strrchr(src->wal_dir, '/');
		char	   *repo_archive;

		src->layout = PITR_LAYOUT_PGBACKREST;
		src->stanza = pstrdup(stanza ? stanza + 1 : src->wal_dir);
		/* <repo>/archive/<stanza> -> <repo>/backup/<stanza> */
		repo_archive = pstrdup(src->wal_dir);
		if (stanza)
		{
			repo_archive[stanza - src->wal_dir] = '\0';
			{
				char	   *parent = strrchr(repo_archive, '/');

				if (parent && strcmp(parent, "/archive") == 0)
				{
					*parent = '\0';
					src->backup_dir = psprintf("%s/backup/%s", repo_archive,
											   src->stanza);
					src->repo_path = pstrdup(repo_archive);
				}
			}
		}
		pitr_pgbackrest_read_archive_info(src);
		return;
	}
	if (c.has_wals && (c.has_base || c.has_xlog_db ||
					   pitr_source_is_file(psprintf("%s/wals/xlog.db", dir))))
	{
		src->layout = PITR_LAYOUT_BARMAN;
		src->backup_dir = psprintf("%s/base", dir);
		return;
	}
	if (c.pgbr_names > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("WAL archive location \"%s\" holds %d files named like pgBackRest archive files but no archive.info",
						dir, c.pgbr_names),
				 errhint("Give the stanza's archive directory, \"<repo>/archive/<stanza>\", or \"pgbackrest:stanza=<name>\".")));
	if (c.archive_ids > 0 || c.hex_dirs > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("WAL archive location \"%s\" holds %d directories named like pgBackRest or Barman archive subdirectories but no archive.info or wals/",
						dir, c.archive_ids + c.hex_dirs),
				 errhint("Give a pgBackRest stanza's archive directory, \"<repo>/archive/<stanza>\", or a Barman server directory, \"<barman_home>/<server>\".")));
	if (c.has_archive_and_backup)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("WAL archive location \"%s\" looks like a pgBackRest repository, not a stanza's archive",
						dir),
				 errhint("Give \"%s/archive/<stanza>\" or \"pgbackrest:stanza=<name>\".",
						 dir)));
	if (c.has_wals)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("WAL archive location \"%s\" holds a wals/ directory but neither base/ nor wals/xlog.db",
						dir),
				 errhint("A Barman server directory holds wals/, wals/xlog.db and base/.")));
	if (c.entries > 0 && c.wal_names == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("WAL archive location \"%s\" holds %d entries but no WAL archive files",
						dir, c.entries),
				 errhint("Give a directory archive_command copies WAL files into, a pgBackRest stanza's archive directory or a Barman server directory.")));
	src->layout = PITR_LAYOUT_FLAT;
}

PitrArchiveSource *
pitr_source_open(const char *location)
{
	PitrArchiveSource *src = palloc0(sizeof(PitrArchiveSource));

	src->location = pstrdup(location);
	if (strncmp(location, "pgbackrest:", 11) == 0)
	{
		PitrPgbrRepo repo;

		pitr_pgbackrest_resolve(location + 11, &repo);
		src->stanza = repo.stanza;
		src->config = repo.config;
		src->repo = repo.repo;
		src->via_config = true;
		src->layout = PITR_LAYOUT_PGBACKREST;
		if (!repo.local)
		{
			/* S3, Azure, GCS, SFTP or encrypted: pgBackRest reads it. */
			pitr_pgbackrest_check_privilege();
			src->through_binary = true;
			src->wal_dir = psprintf("archive/%s", repo.stanza);
			src->backup_dir = psprintf("backup/%s", repo.stanza);
			pitr_pgbackrest_read_archive_info(src);
			return src;
		}
		src->wal_dir = psprintf("%s/archive/%s", repo.path, repo.stanza);
		src->repo_path = repo.path;
		src->backup_dir = psprintf("%s/backup/%s", repo.path, repo.stanza);
		if (!pitr_source_is_dir(src->wal_dir))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FILE),
					 errmsg("pgBackRest stanza \"%s\" has no archive directory \"%s\"",
							repo.stanza, src->wal_dir),
					 errhint("Run \"pgbackrest --stanza=%s stanza-create\" first, or check repo%d-path.",
							 repo.stanza, repo.repo_index)));
		pitr_pgbackrest_read_archive_info(src);
		return src;
	}
	open_directory(src, location);
	return src;
}

char	   *pitr_barman_config = NULL;

void
pitr_source_define_gucs(void)
{
	DefineCustomStringVariable("pitr_restore.barman_config",
							   "Barman's configuration file, for the commands pitr_restore gives for a Barman server directory.",
							   "Empty: Barman's default (/etc/barman.conf or ~/.barman.conf).",
							   &pitr_barman_config,
							   NULL,
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);
}

bool
pitr_source_maybe_tool(const char *location)
{
	return strncmp(location, "pgbackrest:", 11) == 0 ||
		pitr_source_is_file(psprintf("%s/archive.info", location)) ||
		pitr_source_is_file(psprintf("%s/archive.info.copy", location)) ||
		pitr_source_is_dir(psprintf("%s/wals", location));
}

char *
pitr_source_canonical_location(const char *location)
{
	PitrArchiveSource *src;
	StringInfoData buf;

	if (strncmp(location, "pgbackrest:", 11) != 0)
		return pstrdup(location);
	src = pitr_source_open(location);
	initStringInfo(&buf);
	appendStringInfo(&buf, "pgbackrest:stanza=%s", src->stanza);
	if (src->config)
	{
		char		real[PATH_MAX];

		appendStringInfo(&buf, " config=%s",
						 realpath(src->config, real) ? real : src->config);
	}
	if (src->repo > 0)
		appendStringInfo(&buf, " repo=%d", src->repo);
	return buf.data;
}

/* Each layout's driver (source_internal.h). */
static const PitrSourceMethods *const drivers[] = {
	[PITR_LAYOUT_FLAT] = &pitr_flat_source,
	[PITR_LAYOUT_PGBACKREST] = &pitr_pgbackrest_source,
	[PITR_LAYOUT_BARMAN] = &pitr_barman_source,
};

static const PitrSourceMethods *
driver(const PitrArchiveSource *src)
{
	Assert(src->layout >= 0 && src->layout < lengthof(drivers));
	return drivers[src->layout];
}

/*
 * A driver's list in the order every caller sees, whichever driver made
 * it (list_sort sorts in place).
 */
static List *
sorted(List *list, list_sort_comparator cmp)
{
	list_sort(list, cmp);
	return list;
}

static int
source_file_cmp(const ListCell *a, const ListCell *b)
{
	const PitrSourceFile *fa = lfirst(a);
	const PitrSourceFile *fb = lfirst(b);
	int			c = strcmp(fa->f.name, fb->f.name);

	return c != 0 ? c : strcmp(fa->path, fb->path);
}

List *
pitr_source_list(PitrArchiveSource *src)
{
	return sorted(driver(src)->list(src), source_file_cmp);
}

int64
pitr_source_read(PitrArchiveSource *src, PitrFileReader *r,
				 const PitrSourceFile *sf, char *buf, int64 want, bool exact,
				 int64 *disk_bytes, char **err)
{
	int64		got = driver(src)->read(src, r, sf, buf, want, exact,
										disk_bytes, err);

	if (got >= 0 && exact && sf->sha1[0] != '\0')
	{
		pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA1);
		uint8		digest[SHA1_DIGEST_LENGTH];
		char		hex[SHA1_DIGEST_LENGTH * 2 + 1];

		if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
			pg_cryptohash_update(ctx, (uint8 *) buf, got) < 0 ||
			pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not compute SHA-1 checksum: %s",
							ctx ? pg_cryptohash_error(ctx) : "out of memory")));
		pg_cryptohash_free(ctx);
		for (int i = 0; i < SHA1_DIGEST_LENGTH; i++)
			sprintf(hex + 2 * i, "%02x", digest[i]);
		if (strcmp(hex, sf->sha1) != 0)
		{
			*err = psprintf("content has SHA-1 %s but pgBackRest recorded %s",
							hex, sf->sha1);
			return -1;
		}
	}
	return got;
}

static int
backup_cmp(const ListCell *a, const ListCell *b)
{
	const PitrRepoBackup *x = lfirst(a);
	const PitrRepoBackup *y = lfirst(b);

	return pitr_backup_start_order(x->start_lsn, x->label, y->start_lsn, y->label);
}

List *
pitr_source_backups(PitrArchiveSource *src)
{
	return sorted(driver(src)->backups(src), backup_cmp);
}

/* See archive_source.h. */
bool
pitr_source_repo_time(const char *text, int64 epoch, TimestampTz *out)
{
	if (text != NULL)
	{
		*out = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
													   CStringGetDatum(text),
													   ObjectIdGetDatum(InvalidOid),
													   Int32GetDatum(-1)));
		return true;
	}
	if (epoch != 0)
	{
		*out = time_t_to_timestamptz((pg_time_t) epoch);
		return true;
	}
	return false;
}

List *
pitr_source_backup_rows(PitrArchiveSource *src, const char *archive)
{
	List	   *repo;
	PitrRepoBackup **all;
	List	   *out = NIL;
	int			n;
	int			i = 0;
	ListCell   *lc;

	if (src->backup_dir == NULL)
		return NIL;				/* a stanza archive outside a repository */
	repo = pitr_source_backups(src);
	n = list_length(repo);
	all = palloc(sizeof(PitrRepoBackup *) * (n + 1));
	foreach(lc, repo)
		all[i++] = lfirst(lc);
	for (i = 0; i < n; i++)
	{
		PitrRepoBackup *rb = all[i];
		PitrBackup *b = palloc0(sizeof(PitrBackup));
		char	   *why = NULL;

		b->name = rb->label;
		b->label = rb->label;
		b->format = pstrdup(rb->format);
		/* Unique across repositories: the table is keyed by location. */
		if (src->through_binary)
			b->location = psprintf("%s %s/%s", archive, src->backup_dir, rb->label);
		else
			b->location = psprintf("%s/%s", src->backup_dir, rb->label);
		b->start_tli = rb->tli;
		b->stop_tli = rb->tli;
		b->start_lsn = rb->start_lsn;
		b->stop_lsn = rb->stop_lsn;
		b->has_start_time = pitr_source_repo_time(rb->start_time,
												  rb->start_epoch,
												  &b->start_time);
		b->has_stop_time = pitr_source_repo_time(rb->stop_time,
												 rb->stop_epoch,
												 &b->stop_time);
		b->system_identifier = rb->system_identifier ? rb->system_identifier :
			src->system_identifier;
		if (!pitr_repo_backup_usable(rb, all, n, &why))
			b->problem = why ? why : pstrdup("the backup tool marks it as failed");
		else if (rb->start_lsn == InvalidXLogRecPtr || rb->stop_lsn == InvalidXLogRecPtr)
			b->problem = pstrdup("the repository does not say where the backup starts and stops");
		out = lappend(out, b);
	}
	return out;
}

char *
pitr_source_tool_restore_command(const PitrArchiveSource *src,
								 const char *barman_config)
{
	return driver(src)->restore_command(src, barman_config);
}
