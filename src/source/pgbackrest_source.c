/*-------------------------------------------------------------------------
 *
 * pgbackrest_source.c
 *	  A pgBackRest stanza archive: archive.info, the archive id directories
 *	  of the stanza's system, "<segment>-<sha1>.<ext>" files mapped to the
 *	  names PostgreSQL gave them, backup.info and the backups' manifests;
 *	  read directly from a local posix repository, or through the
 *	  pgbackrest binary (repo-ls, repo-get) for any other.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <unistd.h>

#include "miscadmin.h"
#include "storage/fd.h"

#include "format/quote.h"
#include "source/pgbackrest_exec.h"
#include "source/source_internal.h"
#include "util/dir_reader.h"

static PitrPgbrCommand
pgbr_command(const PitrArchiveSource *src)
{
	PitrPgbrCommand cmd;

	cmd.stanza = src->stanza;
	cmd.config = src->config;
	cmd.repo = src->repo;
	return cmd;
}

/* A repository file, read directly or fetched with repo-get. */
static char *
read_repo_file(const PitrArchiveSource *src, const char *path, size_t *len,
			   char **err)
{
	if (src->through_binary)
	{
		PitrPgbrCommand cmd = pgbr_command(src);

		return pitr_pgbackrest_capture(&cmd,
									   psprintf("repo-get %s",
												pitr_quote_shell(path)),
									   len, err);
	}
	return pitr_source_read_small_file(path, len, err);
}

/*
 * pgBackRest keeps every info file twice (name and name.copy); read the
 * first that parses.
 */
void
pitr_pgbackrest_read_archive_info(PitrArchiveSource *src)
{
	const char *names[] = {"archive.info", "archive.info.copy"};
	char	   *first_err = NULL;

	for (int i = 0; i < lengthof(names); i++)
	{
		char	   *path = psprintf("%s/%s", src->wal_dir, names[i]);
		size_t		len;
		char	   *err = NULL;
		char	   *buf = read_repo_file(src, path, &len, &err);

		if (buf != NULL &&
			pitr_parse_pgbackrest_archive_info(buf, len, &src->archive_info,
											   &err) == PITR_PARSE_OK)
		{
			src->system_identifier = src->archive_info.current.system_identifier;
			return;
		}
		if (first_err == NULL)
			first_err = psprintf("%s: %s", path, err);
	}
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("could not read pgBackRest archive.info of \"%s\"",
					src->wal_dir),
			 errdetail("%s", first_err)));
}

/* "<segment>-<sha1>.<ext>" in "dir", listed under PostgreSQL's name. */
static List *
add_stored_file(List *files, const char *dir, const char *name)
{
	char		wal[MAXPGPATH];
	char		sha1[41];
	const char *ext;

	if (strlen(name) >= MAXPGPATH ||
		!pitr_pgbackrest_file_name(name, wal, sha1, &ext))
		return files;
	return pitr_source_add_file(files, wal, psprintf("%s/%s", dir, name), sha1,
								pitr_compression_of_name(name, NULL));
}

/* The files of one pgBackRest archive id directory ("15-1"). */
static List *
list_pgbackrest_archive_id(List *files, const char *dir)
{
	ListCell   *lc;

	/* A missing directory: no WAL pushed for this database yet. */
	foreach(lc, pitr_read_dir(dir, NULL, PITR_DIR_MISSING_OK, NULL))
	{
		const char *name = lfirst(lc);
		char	   *path = psprintf("%s/%s", dir, name);

		if (pitr_source_is_hex16(name))
		{
			ListCell   *hc;

			foreach(hc, pitr_read_dir(path, NULL, 0, NULL))
				files = add_stored_file(files, path, lfirst(hc));
		}
		else					/* .history files sit next to the hash
								 * directories */
			files = add_stored_file(files, dir, name);
		pfree(path);
	}
	return files;
}

/* The archive ids whose WAL belongs to this system (see list_pgbackrest). */
static bool
wanted_archive_id(const PitrPgbrArchiveInfo *ai, const char *id)
{
	if (strcmp(id, ai->current.archive_id) == 0)
		return true;
	for (int i = 0; i < ai->n_history; i++)
		if (ai->history[i].system_identifier == ai->current.system_identifier &&
			strcmp(ai->history[i].archive_id, id) == 0)
			return true;
	return false;
}

static List *
list_pgbackrest_binary(PitrArchiveSource *src)
{
	PitrPgbrCommand cmd = pgbr_command(src);
	size_t		len;
	char	   *err;
	char	   *out;
	PitrRepoLsEntry *entries;
	int			n;
	List	   *files = NIL;

	out = pitr_pgbackrest_capture(&cmd,
								  psprintf("repo-ls --output=json --recurse %s",
										   pitr_quote_shell(src->wal_dir)),
								  &len, &err);
	if (out == NULL ||
		pitr_parse_pgbackrest_repo_ls(out, len, &entries, &n, &err) != PITR_PARSE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("could not list pgBackRest archive of stanza \"%s\"",
						src->stanza),
				 errdetail("%s", err)));

	for (int i = 0; i < n; i++)
	{
		PitrRepoLsEntry *e = &entries[i];
		char	   *rel = pstrdup(e->path);
		char	   *slash = strchr(rel, '/');
		char	   *name;
		char		wal[MAXPGPATH];
		char		sha1[41];
		const char *ext;
		PitrSourceFile *sf;

		CHECK_FOR_INTERRUPTS();
		if (!e->is_file || slash == NULL)
			continue;
		*slash = '\0';
		if (!wanted_archive_id(&src->archive_info, rel))
			continue;
		name = slash + 1;
		/* <archive id>/<16 hex>/<file> or <archive id>/<history file> */
		if (strchr(name, '/'))
		{
			char	   *sub = strchr(name, '/');

			*sub = '\0';
			if (!pitr_source_is_hex16(name) || strchr(sub + 1, '/'))
				continue;
			name = sub + 1;
		}
		if (strlen(name) >= MAXPGPATH ||
			!pitr_pgbackrest_file_name(name, wal, sha1, &ext))
			continue;
		sf = palloc0(sizeof(PitrSourceFile));
		if (!pitr_classify_file_name(wal, &sf->f) ||
			pitr_compression_of_name(wal, NULL) != PITR_COMPRESS_NONE)
			continue;
		sf->f.name = pstrdup(wal);
		sf->f.compression = pitr_compression_of_name(name, NULL);
		sf->f.size = e->size;
		sf->f.mtime = e->mtime;
		sf->path = psprintf("%s/%s", src->wal_dir, e->path);
		strlcpy(sf->sha1, sha1, sizeof(sf->sha1));
		files = lappend(files, sf);
	}
	return files;
}

static List *
pgbackrest_list(PitrArchiveSource *src)
{
	PitrPgbrArchiveInfo *ai = &src->archive_info;
	List	   *files = NIL;
	bool		current_seen = false;

	if (src->through_binary)
		return list_pgbackrest_binary(src);

	/*
	 * Every archive id of the same system: a stanza-upgrade to a new major
	 * version starts a new id and a new system identifier, whose WAL
	 * belongs to another cluster.
	 */
	for (int i = 0; i < ai->n_history; i++)
	{
		if (ai->history[i].system_identifier != ai->current.system_identifier)
			continue;
		if (strcmp(ai->history[i].archive_id, ai->current.archive_id) == 0)
			current_seen = true;
		files = list_pgbackrest_archive_id(files,
										   psprintf("%s/%s", src->wal_dir,
													ai->history[i].archive_id));
	}
	if (!current_seen)
		files = list_pgbackrest_archive_id(files,
										   psprintf("%s/%s", src->wal_dir,
													ai->current.archive_id));
	return files;
}

/*
 * Through the binary: the entries directly under a repository path
 * (repo-ls, not recursive); NULL with *err set if it could not be listed.
 */
static PitrRepoLsEntry *
repo_ls(const PitrArchiveSource *src, const char *path, int *n, char **err)
{
	PitrPgbrCommand cmd = pgbr_command(src);
	size_t		len;
	char	   *out;
	PitrRepoLsEntry *entries;

	out = pitr_pgbackrest_capture(&cmd,
								  psprintf("repo-ls --output=json %s",
										   pitr_quote_shell(path)),
								  &len, err);
	if (out == NULL ||
		pitr_parse_pgbackrest_repo_ls(out, len, &entries, n, err) != PITR_PARSE_OK)
		return NULL;
	return entries;
}

/* Is there an entry "name" (or "name.<ext>" when prefix) of that type? */
static bool
has_entry(const PitrRepoLsEntry *e, int n, const char *name, bool is_file,
		  bool prefix)
{
	size_t		len = strlen(name);

	for (int i = 0; i < n; i++)
		if (e[i].is_file == is_file && strncmp(e[i].path, name, len) == 0 &&
			(e[i].path[len] == '\0' || (prefix && e[i].path[len] == '.')))
			return true;
	return false;
}

/*
 * Are a backup's own files in the repository?  pgbackrest restore fails
 * (FileMissingError) when they are not, after retries.  What is checked,
 * cheaply: its pg_data directory, and in it global/pg_control (under any
 * compression extension), which every full, differential and incremental
 * backup copies, since it changes at every backup (a bundled backup,
 * repo-bundle, is taken as it is).  A repository read directly is looked
 * at in place; any other through the binary, with repo-ls of the backup's
 * pg_data/global (and of its directory, to say what is missing).  NULL if
 * there, else what is missing.
 */
static char *
missing_backup_files_binary(const PitrArchiveSource *src, const char *label)
{
	char	   *dir = psprintf("%s/%s", src->backup_dir, label);
	char	   *global = psprintf("%s/pg_data/global", dir);
	PitrRepoLsEntry *e;
	int			n;
	char	   *err = NULL;

	/* One call when all is there (the usual case), a second to say why not. */
	if ((e = repo_ls(src, global, &n, &err)) == NULL)
		return psprintf("its files could not be listed in the repository (%s)", err);
	if (has_entry(e, n, "pg_control", true, true))
		return NULL;
	if ((e = repo_ls(src, dir, &n, &err)) == NULL)
		return psprintf("its files could not be listed in the repository (%s)", err);
	if (has_entry(e, n, "bundle", false, false))
		return NULL;
	if (!has_entry(e, n, "pg_data", false, false))
		return psprintf("its files are not in the repository: \"%s/pg_data\" is missing, so pgbackrest restore would fail",
						dir);
	return psprintf("its files are not in the repository: \"%s/pg_control\" is missing, so pgbackrest restore would fail",
					global);
}

static char *
missing_backup_files(const PitrArchiveSource *src, const char *label)
{
	const char *exts[] = {"", ".gz", ".zst", ".lz4", ".bz2"};
	char	   *pgdata;

	if (src->through_binary)
		return missing_backup_files_binary(src, label);
	/* repo-bundle keeps small files in bundle/<n>: look no further */
	if (pitr_source_is_dir(psprintf("%s/%s/bundle", src->backup_dir, label)))
		return NULL;
	pgdata = psprintf("%s/%s/pg_data", src->backup_dir, label);
	if (!pitr_source_is_dir(pgdata))
		return psprintf("its files are not in the repository: \"%s\" is missing, so pgbackrest restore would fail",
						pgdata);
	for (int i = 0; i < lengthof(exts); i++)
		if (pitr_source_is_file(psprintf("%s/global/pg_control%s", pgdata, exts[i])))
			return NULL;
	return psprintf("its files are not in the repository: \"%s/global/pg_control\" is missing, so pgbackrest restore would fail",
					pgdata);
}

/* A pgBackRest backup's manifest, falling back to the .copy. */
static PitrRepoBackup *
read_manifest(const PitrArchiveSource *src, const PitrRepoBackup *listed)
{
	const char *names[] = {"backup.manifest", "backup.manifest.copy"};
	char	   *first_err = NULL;

	for (int i = 0; i < lengthof(names); i++)
	{
		char	   *path = psprintf("%s/%s/%s", src->backup_dir, listed->label,
									names[i]);
		size_t		len;
		char	   *err = NULL;
		char	   *buf = read_repo_file(src, path, &len, &err);
		PitrRepoBackup *b = palloc0(sizeof(PitrRepoBackup));

		if (buf != NULL &&
			pitr_parse_pgbackrest_manifest(buf, len, b, &err) == PITR_PARSE_OK)
		{
			if (strcmp(b->label, listed->label) != 0)
				err = psprintf("manifest is for backup %s", b->label);
			else
			{
				char	   *missing = missing_backup_files(src, b->label);

				/* backup.info knows of errors found after the manifest. */
				b->error = b->error || listed->error || missing != NULL;
				b->status = missing ? missing : pstrdup(b->error ? "error" : "ok");
				return b;
			}
		}
		if (first_err == NULL)
			first_err = err;
	}

	/* Listed but unreadable: kept, in error, so no chain relies on it. */
	{
		PitrRepoBackup *b = palloc(sizeof(PitrRepoBackup));

		*b = *listed;
		b->error = true;
		b->status = psprintf("manifest unreadable: %s", first_err);
		return b;
	}
}

static List *
pgbackrest_backups(PitrArchiveSource *src)
{
	const char *names[] = {"backup.info", "backup.info.copy"};
	char	   *first_err = NULL;
	PitrRepoBackup **listed = NULL;
	int			n = -1;
	List	   *out = NIL;

	if (src->backup_dir == NULL)
		return NIL;
	if (!src->through_binary && !pitr_source_is_dir(src->backup_dir))
		return NIL;				/* no backup taken yet */
	for (int i = 0; i < lengthof(names) && n < 0; i++)
	{
		char	   *path = psprintf("%s/%s", src->backup_dir, names[i]);
		size_t		len;
		char	   *err = NULL;
		char	   *buf = read_repo_file(src, path, &len, &err);

		if (buf != NULL &&
			pitr_parse_pgbackrest_backup_info(buf, len, &listed, &n, &err) == PITR_PARSE_OK)
			break;
		n = -1;
		if (first_err == NULL)
			first_err = psprintf("%s: %s", path, err);
	}
	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("could not read pgBackRest backup.info of \"%s\"",
						src->backup_dir),
				 errdetail("%s", first_err)));
	for (int i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		out = lappend(out, read_manifest(src, listed[i]));
	}
	return out;
}

/*
 * A file read where it is stored, or, through the binary, fetched with
 * repo-get into a temporary file, then read.
 */
static int64
pgbackrest_read(PitrArchiveSource *src, PitrFileReader *r,
				const PitrSourceFile *sf, char *buf, int64 want, bool exact,
				int64 *disk_bytes, char **err)
{
	PitrPgbrCommand cmd;
	char	   *tmp;
	int64		got;

	if (!src->through_binary)
		return pitr_source_read_local(src, r, sf, buf, want, exact,
									  disk_bytes, err);
	cmd = pgbr_command(src);
	tmp = pitr_pgbackrest_get_to_temp(&cmd, sf->path, err);
	if (tmp == NULL)
		return -1;
	if (pitr_read_file(r, tmp, sf->f.compression, buf, want, exact,
					   disk_bytes, &got, err) != PITR_READ_OK)
		got = -1;
	unlink(tmp);				/* now, not when the context goes */
	return got;
}

/*
 * archive-get with the stanza's own configuration, or, for a stanza given
 * as a directory, with no configuration but the repository path.
 */
static char *
pgbackrest_restore_command(const PitrArchiveSource *src,
						   const char *barman_config)
{
	StringInfoData buf;

	initStringInfo(&buf);
	if (!src->via_config)
	{
		/*
		 * No configuration names this repository: give pgBackRest its path.
		 * archive-get reads pg1-path's pg_control; restore_command runs in
		 * the restoring cluster's data directory.
		 */
		if (src->repo_path == NULL)
			return NULL;
		appendStringInfoString(&buf, "pgbackrest '--config=/dev/null' ");
		pitr_restore_command_word(&buf, psprintf("--stanza=%s", src->stanza));
		appendStringInfoChar(&buf, ' ');
		pitr_restore_command_word(&buf, psprintf("--repo1-path=%s", src->repo_path));
		appendStringInfoString(&buf, " --pg1-path=\"$PWD\" --log-level-file=off"
							   " archive-get %f \"%p\"");
		return buf.data;
	}
	appendStringInfoString(&buf, "pgbackrest ");
	pitr_restore_command_word(&buf, psprintf("--stanza=%s", src->stanza));
	if (src->config)
	{
		appendStringInfoChar(&buf, ' ');
		pitr_restore_command_word(&buf, psprintf("--config=%s", src->config));
	}
	if (src->repo > 0)
		appendStringInfo(&buf, " --repo=%d", src->repo);
	appendStringInfoString(&buf, " archive-get %f \"%p\"");
	return buf.data;
}

const PitrSourceMethods pitr_pgbackrest_source = {
	.list = pgbackrest_list,
	.read = pgbackrest_read,
	.backups = pgbackrest_backups,
	.restore_command = pgbackrest_restore_command,
};
