/*-------------------------------------------------------------------------
 *
 * archive_source.c
 *	  Archive locations: recognising a flat directory, a pgBackRest stanza
 *	  archive or a Barman server directory, listing their WAL files under
 *	  the names PostgreSQL gave them, reading them (checking pgBackRest's
 *	  SHA-1), and listing the base backups the repository describes.
 *
 * A location that fits no layout is an ERROR that says what was found,
 * never an empty archive: an archive read wrongly would certify nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/xlog_internal.h"
#include "common/cryptohash.h"
#include "common/sha1.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/fd.h"

#include "format/barman_info.h"
#include "source/archive_source.h"
#include "source/pgbackrest_config.h"
#include "source/pgbackrest_exec.h"

/* Files larger than this are not info files (pgBackRest's are small). */
#define MAX_INFO_FILE (64 * 1024 * 1024)

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

static bool
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool
is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool
is_hex16(const char *s)
{
	return strlen(s) == 16 && strspn(s, "0123456789ABCDEF") == 16;
}

/* "15-1": a pgBackRest archive id directory. */
static bool
is_archive_id(const char *s)
{
	size_t		n = strspn(s, "0123456789");

	return n > 0 && s[n] == '-' && s[n + 1] != '\0' &&
		strspn(s + n + 1, "0123456789") == strlen(s + n + 1);
}

/*
 * Read a whole small file; NULL with *err set if it cannot be read.  The
 * caller decides whether that is an ERROR.
 */
static char *
read_small_file(const char *path, size_t *len, char **err)
{
	FILE	   *f = AllocateFile(path, PG_BINARY_R);
	StringInfoData buf;
	char		chunk[8192];
	size_t		n;

	if (f == NULL)
	{
		*err = psprintf("could not open file \"%s\": %m", path);
		return NULL;
	}
	initStringInfo(&buf);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
	{
		CHECK_FOR_INTERRUPTS();
		if (buf.len + n > MAX_INFO_FILE)
		{
			FreeFile(f);
			*err = psprintf("file \"%s\" is too large", path);
			return NULL;
		}
		appendBinaryStringInfo(&buf, chunk, n);
	}
	if (ferror(f))
	{
		*err = psprintf("could not read file \"%s\": %m", path);
		FreeFile(f);
		return NULL;
	}
	FreeFile(f);
	*len = buf.len;
	return buf.data;
}

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
												pitr_shell_quote(path)),
									   len, err);
	}
	return read_small_file(path, len, err);
}

/*
 * pgBackRest keeps every info file twice (name and name.copy); read the
 * first that parses.
 */
static void
read_archive_info(PitrArchiveSource *src)
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
	DIR		   *d;
	struct dirent *de;
	bool		has_archive = false,
				has_backup = false;

	memset(c, 0, sizeof(*c));
	d = AllocateDir(dir);
	if (d == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open WAL archive directory \"%s\": %m", dir)));
	while ((de = ReadDir(d, dir)) != NULL)
	{
		PitrArchiveFile f;
		char		wal[MAXPGPATH];
		char		sha1[41];
		const char *ext;

		CHECK_FOR_INTERRUPTS();
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		c->entries++;
		if (strcmp(de->d_name, "archive.info") == 0 ||
			strcmp(de->d_name, "archive.info.copy") == 0)
			c->has_archive_info = true;
		else if (strcmp(de->d_name, "wals") == 0)
			c->has_wals = true;
		else if (strcmp(de->d_name, "base") == 0)
			c->has_base = true;
		else if (strcmp(de->d_name, "xlog.db") == 0)
			c->has_xlog_db = true;
		else if (strcmp(de->d_name, "archive") == 0)
			has_archive = true;
		else if (strcmp(de->d_name, "backup") == 0)
			has_backup = true;
		else if (is_hex16(de->d_name))
			c->hex_dirs++;
		else if (is_archive_id(de->d_name))
			c->archive_ids++;
		else if (pitr_classify_file_name(de->d_name, &f))
			c->wal_names++;
		else if (strlen(de->d_name) < MAXPGPATH &&
				 pitr_pgbackrest_file_name(de->d_name, wal, sha1, &ext) &&
				 sha1[0] != '\0')
			c->pgbr_names++;
	}
	FreeDir(d);
	c->has_archive_and_backup = has_archive && has_backup;
}

static void
open_directory(PitrArchiveSource *src, const char *dir)
{
	DirCensus	c;

	if (!is_dir(dir))
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
				}
			}
		}
		read_archive_info(src);
		return;
	}
	if (c.has_wals && (c.has_base || c.has_xlog_db ||
					   is_file(psprintf("%s/wals/xlog.db", dir))))
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
			read_archive_info(src);
			return src;
		}
		src->wal_dir = psprintf("%s/archive/%s", repo.path, repo.stanza);
		src->backup_dir = psprintf("%s/backup/%s", repo.path, repo.stanza);
		if (!is_dir(src->wal_dir))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FILE),
					 errmsg("pgBackRest stanza \"%s\" has no archive directory \"%s\"",
							repo.stanza, src->wal_dir),
					 errhint("Run \"pgbackrest --stanza=%s stanza-create\" first, or check repo%d-path.",
							 repo.stanza, repo.repo_index)));
		read_archive_info(src);
		return src;
	}
	open_directory(src, location);
	return src;
}

static int
source_file_cmp(const ListCell *a, const ListCell *b)
{
	const PitrSourceFile *fa = lfirst(a);
	const PitrSourceFile *fb = lfirst(b);
	int			c = strcmp(fa->f.name, fb->f.name);

	return c != 0 ? c : strcmp(fa->path, fb->path);
}

/*
 * Add a stored file if "name" (PostgreSQL's name for it) is an archive
 * file; "stat" it for size and mtime.
 */
static List *
add_file(List *files, const char *name, const char *path, const char *sha1,
		 PitrCompression compression)
{
	PitrSourceFile *sf;
	struct stat st;

	sf = palloc0(sizeof(PitrSourceFile));
	if (!pitr_classify_file_name(name, &sf->f) ||
		pitr_compression_of_name(name, NULL) != PITR_COMPRESS_NONE)
	{
		pfree(sf);
		return files;
	}
	if (stat(path, &st) != 0)
	{
		if (errno == ENOENT)
		{
			pfree(sf);
			return files;		/* removed while we looked (expire) */
		}
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat file \"%s\": %m", path)));
	}
	if (!S_ISREG(st.st_mode))
	{
		pfree(sf);
		return files;
	}
	sf->f.name = pstrdup(name);
	sf->f.compression = compression;
	sf->f.size = st.st_size;
	sf->f.mtime = st.st_mtime;
	sf->path = pstrdup(path);
	strlcpy(sf->sha1, sha1 ? sha1 : "", sizeof(sf->sha1));
	return lappend(files, sf);
}

/* The files of one pgBackRest archive id directory ("15-1"). */
static List *
list_pgbackrest_archive_id(List *files, const char *dir)
{
	DIR		   *d;
	struct dirent *de;

	d = AllocateDir(dir);
	if (d == NULL)
	{
		if (errno == ENOENT)
			return files;		/* no WAL pushed for this database yet */
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open directory \"%s\": %m", dir)));
	}
	while ((de = ReadDir(d, dir)) != NULL)
	{
		char	   *path;

		CHECK_FOR_INTERRUPTS();
		path = psprintf("%s/%s", dir, de->d_name);
		if (is_hex16(de->d_name))
		{
			DIR		   *hd = AllocateDir(path);
			struct dirent *he;

			if (hd == NULL)
				ereport(ERROR,
						(errcode_for_file_access(),
						 errmsg("could not open directory \"%s\": %m", path)));
			while ((he = ReadDir(hd, path)) != NULL)
			{
				char		wal[MAXPGPATH];
				char		sha1[41];
				const char *ext;

				CHECK_FOR_INTERRUPTS();
				if (strlen(he->d_name) >= MAXPGPATH ||
					!pitr_pgbackrest_file_name(he->d_name, wal, sha1, &ext))
					continue;
				files = add_file(files, wal,
								 psprintf("%s/%s", path, he->d_name), sha1,
								 pitr_compression_of_name(he->d_name, NULL));
			}
			FreeDir(hd);
		}
		else
		{
			/* .history files sit next to the hash directories. */
			char		wal[MAXPGPATH];
			char		sha1[41];
			const char *ext;

			if (strlen(de->d_name) < MAXPGPATH &&
				pitr_pgbackrest_file_name(de->d_name, wal, sha1, &ext))
				files = add_file(files, wal, path, sha1,
								 pitr_compression_of_name(de->d_name, NULL));
		}
		pfree(path);
	}
	FreeDir(d);
	return files;
}

static List *
list_pgbackrest(PitrArchiveSource *src)
{
	PitrPgbrArchiveInfo *ai = &src->archive_info;
	List	   *files = NIL;
	bool		current_seen = false;

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
										   pitr_shell_quote(src->wal_dir)),
								  &len, &err);
	if (out == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("could not list pgBackRest archive of stanza \"%s\"",
						src->stanza),
				 errdetail("%s", err)));
	if (pitr_parse_pgbackrest_repo_ls(out, len, &entries, &n, &err) != PITR_PARSE_OK)
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
			if (!is_hex16(name) || strchr(sub + 1, '/'))
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

/*
 * Barman keeps the plain name whatever the compression; the first bytes
 * say which it is.
 */
static PitrCompression
sniff_compression(const char *path)
{
	unsigned char magic[4] = {0};
	int			fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	ssize_t		n;

	if (fd < 0)
		return PITR_COMPRESS_NONE;	/* reading it later reports why */
	n = read(fd, magic, sizeof(magic));
	CloseTransientFile(fd);
	if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b)
		return PITR_COMPRESS_GZIP;
	if (n == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f &&
		magic[3] == 0xfd)
		return PITR_COMPRESS_ZSTD;
	if (n == 4 && magic[0] == 0x04 && magic[1] == 0x22 && magic[2] == 0x4d &&
		magic[3] == 0x18)
		return PITR_COMPRESS_LZ4;
	if (n >= 3 && magic[0] == 'B' && magic[1] == 'Z' && magic[2] == 'h')
		return PITR_COMPRESS_BZIP2;
	return PITR_COMPRESS_NONE;
}

static List *
list_barman_dir(List *files, const char *dir, bool top)
{
	DIR		   *d = AllocateDir(dir);
	struct dirent *de;

	if (d == NULL)
	{
		if (errno == ENOENT && top)
			return files;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open directory \"%s\": %m", dir)));
	}
	while ((de = ReadDir(d, dir)) != NULL)
	{
		char	   *path;
		PitrArchiveFile f;

		CHECK_FOR_INTERRUPTS();
		path = psprintf("%s/%s", dir, de->d_name);
		if (top && is_hex16(de->d_name))
			files = list_barman_dir(files, path, false);
		else if (pitr_classify_file_name(de->d_name, &f) &&
				 f.compression == PITR_COMPRESS_NONE)
			files = add_file(files, de->d_name, path, NULL,
							 sniff_compression(path));
		pfree(path);
	}
	FreeDir(d);
	return files;
}

List *
pitr_source_list(PitrArchiveSource *src)
{
	List	   *files = NIL;

	switch (src->layout)
	{
		case PITR_LAYOUT_FLAT:
			{
				List	   *flat = pitr_list_archive(src->wal_dir);
				ListCell   *lc;

				foreach(lc, flat)
				{
					PitrSourceFile *sf = palloc0(sizeof(PitrSourceFile));

					sf->f = *(PitrArchiveFile *) lfirst(lc);
					sf->path = psprintf("%s/%s", src->wal_dir, sf->f.name);
					/* The flat name carries the suffix; PostgreSQL's does not. */
					sf->f.name = pnstrdup(sf->f.name,
										  strlen(sf->f.name) -
										  strlen(pitr_compression_info(sf->f.compression)->suffix));
					files = lappend(files, sf);
				}
			}
			break;
		case PITR_LAYOUT_PGBACKREST:
			files = src->through_binary ? list_pgbackrest_binary(src) :
				list_pgbackrest(src);
			break;
		case PITR_LAYOUT_BARMAN:
			files = list_barman_dir(NIL, psprintf("%s/wals", src->wal_dir), true);
			break;
	}
	list_sort(files, source_file_cmp);
	return files;
}

int64
pitr_source_read(PitrArchiveSource *src, PitrFileReader *r,
				 const PitrSourceFile *sf, char *buf, int64 want, bool exact,
				 int64 *disk_bytes, char **err)
{
	int64		got;

	if (src->through_binary)
	{
		PitrPgbrCommand cmd = pgbr_command(src);
		char	   *tmp = pitr_pgbackrest_get_to_temp(&cmd, sf->path, err);

		if (tmp == NULL)
			return -1;
		got = pitr_read_file(r, tmp, sf->f.compression, buf, want, exact,
							 disk_bytes, err);
		unlink(tmp);			/* now, not when the context goes */
	}
	else
		got = pitr_read_file(r, sf->path, sf->f.compression, buf, want,
							 exact, disk_bytes, err);

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
				/* backup.info knows of errors found after the manifest. */
				b->error = b->error || listed->error;
				b->status = pstrdup(b->error ? "error" : "ok");
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
backups_pgbackrest(PitrArchiveSource *src)
{
	const char *names[] = {"backup.info", "backup.info.copy"};
	char	   *first_err = NULL;
	PitrRepoBackup **listed = NULL;
	int			n = -1;
	List	   *out = NIL;

	if (src->backup_dir == NULL)
		return NIL;
	if (!src->through_binary && !is_dir(src->backup_dir))
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

static List *
backups_barman(PitrArchiveSource *src)
{
	DIR		   *d = AllocateDir(src->backup_dir);
	struct dirent *de;
	List	   *out = NIL;

	if (d == NULL)
	{
		if (errno == ENOENT)
			return NIL;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open directory \"%s\": %m", src->backup_dir)));
	}
	while ((de = ReadDir(d, src->backup_dir)) != NULL)
	{
		char	   *path;
		size_t		len;
		char	   *err = NULL;
		char	   *buf;
		PitrRepoBackup *b;

		CHECK_FOR_INTERRUPTS();
		if (de->d_name[0] == '.')
			continue;
		path = psprintf("%s/%s/backup.info", src->backup_dir, de->d_name);
		if (!is_file(path))
			continue;
		b = palloc0(sizeof(PitrRepoBackup));
		buf = read_small_file(path, &len, &err);
		if (buf == NULL ||
			pitr_parse_barman_backup_info(buf, len, de->d_name, b, &err) != PITR_PARSE_OK)
		{
			/* Shown in error rather than hidden: the DBA sees it exists. */
			memset(b, 0, sizeof(*b));
			b->format = "barman";
			b->label = pstrdup(de->d_name);
			b->error = true;
			b->status = psprintf("backup.info unreadable: %s", err);
		}
		out = lappend(out, b);
	}
	FreeDir(d);
	return out;
}

static int
backup_cmp(const ListCell *a, const ListCell *b)
{
	const PitrRepoBackup *x = lfirst(a);
	const PitrRepoBackup *y = lfirst(b);

	if (x->start_lsn != y->start_lsn)
		return x->start_lsn < y->start_lsn ? -1 : 1;
	return strcmp(x->label, y->label);
}

List *
pitr_source_backups(PitrArchiveSource *src)
{
	List	   *out = NIL;

	switch (src->layout)
	{
		case PITR_LAYOUT_FLAT:
			return NIL;
		case PITR_LAYOUT_PGBACKREST:
			out = backups_pgbackrest(src);
			break;
		case PITR_LAYOUT_BARMAN:
			out = backups_barman(src);
			break;
	}
	list_sort(out, backup_cmp);
	return out;
}

/* A shell word in single quotes, with '%' doubled for restore_command. */
static void
append_restore_word(StringInfo buf, const char *s)
{
	appendStringInfoChar(buf, '\'');
	for (; *s; s++)
	{
		if (*s == '\'')
			appendStringInfoString(buf, "'\\''");
		else if (*s == '%')
			appendStringInfoString(buf, "%%");
		else
			appendStringInfoChar(buf, *s);
	}
	appendStringInfoChar(buf, '\'');
}

char *
pitr_source_tool_restore_command(const PitrArchiveSource *src,
								 const char *barman_config)
{
	StringInfoData buf;

	initStringInfo(&buf);
	if (src->layout == PITR_LAYOUT_BARMAN)
	{
		const char *server = strrchr(src->wal_dir, '/');

		server = server ? server + 1 : src->wal_dir;
		/* get-wal decompresses whatever Barman stored. */
		appendStringInfoString(&buf, "barman ");
		if (barman_config)
		{
			appendStringInfoString(&buf, "-c ");
			append_restore_word(&buf, barman_config);
			appendStringInfoChar(&buf, ' ');
		}
		appendStringInfoString(&buf, "get-wal ");
		append_restore_word(&buf, server);
		appendStringInfoString(&buf, " %f > \"%p\"");
		return buf.data;
	}
	if (src->layout != PITR_LAYOUT_PGBACKREST || !src->via_config)
		return NULL;
	appendStringInfoString(&buf, "pgbackrest ");
	append_restore_word(&buf, psprintf("--stanza=%s", src->stanza));
	if (src->config)
	{
		appendStringInfoChar(&buf, ' ');
		append_restore_word(&buf, psprintf("--config=%s", src->config));
	}
	if (src->repo > 0)
		appendStringInfo(&buf, " --repo=%d", src->repo);
	appendStringInfoString(&buf, " archive-get %f \"%p\"");
	return buf.data;
}
