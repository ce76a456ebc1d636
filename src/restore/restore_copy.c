/*-------------------------------------------------------------------------
 *
 * restore_copy.c
 *	  Write a base backup into the directory a restore is built in: copy a
 *	  plain backup, or extract the tars of a tar backup (gzip, lz4 or zstd
 *	  compressed or not) with tar_reader.c, checking every file against the
 *	  backup_manifest while it is written; the manifest read, and the check
 *	  that every file it lists was written.  Used by restore_build.c and
 *	  restore_combine.c; calls neither.
 *
 * With verify_only set nothing is written: a plain backup that is used
 * where it lies (a link of an incremental chain) is checked the same way.
 *
 * Tar entries are read block by block (pitr_tar_read_block) and written
 * by this file, not by archive_write_disk, so that each byte is
 * checksummed on its way to disk.  The checks archive_write_disk's secure flags would make are
 * made here, stricter: an entry name that is absolute or has a ".." (or "."
 * or empty) component is refused, and so is every symbolic link, hard link
 * or special file.  Nothing but directories and regular files is ever
 * created, files with O_EXCL | O_NOFOLLOW, so no entry can reach outside
 * the directory being built.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/checksum_helper.h"
#include "common/file_perm.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/memutils.h"

#include "cleanup.h"
#include "format/archive_files.h"
#include "restore_build.h"
#include "tar_reader.h"
#include "util/dir_reader.h"
#include "util/file_io.h"

/* Progress NOTICEs only for backups at least this large, every 10%. */
#define PROGRESS_MIN_BYTES ((int64) 1024 * 1024 * 1024)

/* Directories deeper than this are no data directory. */
#define MAX_COPY_DEPTH 64

/* One file being written. */
typedef struct FileSink
{
	int			fd;
	const char *relpath;
	PitrManifestFile *mf;		/* NULL when the file is not verified */
	int64		written;
	pg_checksum_context ctx;
} FileSink;

bool
restore_unverified_file(const char *relpath)
{
	return strcmp(relpath, "postgresql.auto.conf") == 0;
}

bool
restore_skipped_file(const char *relpath)
{
	/*
	 * The manifest is no part of a data directory; a server's pid and
	 * options files and old signal files would mislead the restored server
	 * (standby.signal from pg_basebackup -R would make it a standby of
	 * production); our own marker is written afresh; tablespace_map would
	 * make the restored server link the tablespaces to production's
	 * directories, and the tablespaces are restored in place instead.
	 */
	static const char *const skipped[] = {
		"backup_manifest", "postmaster.pid", "postmaster.opts",
		"recovery.signal", "standby.signal", "tablespace_map",
		PITR_RESTORE_MARKER_FILE
	};

	for (int i = 0; i < lengthof(skipped); i++)
		if (strcmp(relpath, skipped[i]) == 0)
			return true;
	return false;
}

/*
 * The path an entry is written at, relative to the directory being built,
 * or an ERROR naming the entry when it could point anywhere else.
 */
static char *
safe_relpath(const char *name, const char *prefix, const char *source)
{
	char	   *path;
	char	   *p;
	size_t		len;

	if (name == NULL || name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("entry without a name in \"%s\"", source)));
	if (name[0] == '/')
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("entry \"%s\" in \"%s\" has an absolute path", name, source),
				 errdetail("Only paths relative to the data directory are restored.")));

	/* pg_basebackup writes no "./", other tar writers do */
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	path = pstrdup(name);
	len = strlen(path);
	while (len > 0 && path[len - 1] == '/')
		path[--len] = '\0';

	p = path;
	for (;;)
	{
		char	   *slash = strchr(p, '/');
		size_t		clen = slash ? (size_t) (slash - p) : strlen(p);

		if (clen == 0 || (clen == 1 && p[0] == '.') ||
			(clen == 2 && p[0] == '.' && p[1] == '.'))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("entry \"%s\" in \"%s\" has an unsafe path", name, source),
					 errdetail("Paths with \"..\", \".\" or empty components could leave the target directory.")));
		if (slash == NULL)
			break;
		p = slash + 1;
	}
	if (strlen(prefix) + len >= MAXPGPATH - 64)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("entry \"%s\" in \"%s\" has a path that is too long",
						name, source)));
	if (prefix[0] == '\0')
		return path;
	return psprintf("%s%s", prefix, path);
}

static int
mf_cmp_key(const void *key, const void *elem)
{
	return strcmp((const char *) key, (*(PitrManifestFile *const *) elem)->path);
}

/* Index of relpath in the manifest, or -1. */
static int
manifest_lookup(RestoreState *st, const char *relpath)
{
	PitrManifestFile **found;

	if (st->nmf == 0)
		return -1;
	found = bsearch(relpath, st->mf, st->nmf, sizeof(PitrManifestFile *),
					mf_cmp_key);
	return found ? (int) (found - st->mf) : -1;
}

/* Create a directory of the restore; one that exists already is fine. */
static void
make_dir(RestoreState *st, const char *relpath)
{
	char		path[MAXPGPATH];
	struct stat sb;

	if (st->verify_only)
		return;
	snprintf(path, sizeof(path), "%s/%s", st->tmpdir, relpath);
	if (mkdir(path, pg_dir_create_mode) == 0)
		return;
	if (errno == EEXIST && lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return;
	ereport(ERROR,
			(errcode_for_file_access(),
			 errmsg("could not create directory \"%s\": %m", path)));
}

/* Create every parent directory of relpath that is still missing. */
static void
make_parents(RestoreState *st, const char *relpath)
{
	char		dir[MAXPGPATH];
	char	   *slash;

	strlcpy(dir, relpath, sizeof(dir));
	slash = strrchr(dir, '/');
	if (slash == NULL)
		return;
	*slash = '\0';
	/* entries come directory by directory: skip the syscalls when we can */
	if (strcmp(dir, st->last_dir) == 0)
		return;
	for (char *p = strchr(dir, '/'); p != NULL; p = strchr(p + 1, '/'))
	{
		*p = '\0';
		make_dir(st, dir);
		*p = '/';
	}
	make_dir(st, dir);
	strlcpy(st->last_dir, dir, sizeof(st->last_dir));
}

static void
report_progress(RestoreState *st)
{
	if (st->expected_bytes < PROGRESS_MIN_BYTES || st->bytes < st->next_notice)
		return;
	ereport(NOTICE,
			(errmsg("restored %d%% of the backup (" INT64_FORMAT " of " INT64_FORMAT " MB)",
					(int) (st->bytes * 100 / st->expected_bytes),
					st->bytes / (1024 * 1024),
					st->expected_bytes / (1024 * 1024))));
	st->next_notice = st->bytes + st->expected_bytes / 10;
}

/*
 * Start writing relpath.  With "verify", the file must be in the manifest
 * (unless pg_verifybackup would not verify it either) and written once.
 */
static void
sink_open(RestoreState *st, FileSink *sink, const char *relpath, bool verify)
{
	char		path[MAXPGPATH];
	pg_checksum_type type = CHECKSUM_TYPE_NONE;

	memset(sink, 0, sizeof(FileSink));
	sink->relpath = relpath;
	if (verify)
	{
		int			i = manifest_lookup(st, relpath);

		if (i >= 0 && st->seen[i])
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("file \"%s\" occurs more than once in the backup",
							relpath)));
		if (i >= 0)
			st->seen[i] = true;
		if (restore_unverified_file(relpath))
			i = -1;
		else if (i < 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("file \"%s\" is in the backup but not in its backup_manifest",
							relpath)));
		if (i >= 0)
		{
			sink->mf = st->mf[i];
			if (sink->mf->algorithm != NULL &&
				pg_strcasecmp(sink->mf->algorithm, "NONE") != 0 &&
				!pg_checksum_parse_type(sink->mf->algorithm, &type))
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("file \"%s\" has checksum algorithm \"%s\", which is not supported",
								relpath, sink->mf->algorithm)));
		}
	}
	if (pg_checksum_init(&sink->ctx, type) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not initialize checksum of file \"%s\"", relpath)));

	sink->fd = -1;
	if (st->verify_only)
		return;
	make_parents(st, relpath);
	snprintf(path, sizeof(path), "%s/%s", st->tmpdir, relpath);
	sink->fd = OpenTransientFile(path,
								 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | PG_BINARY);
	if (sink->fd < 0)
	{
		if (errno == EEXIST)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("file \"%s\" occurs more than once in the backup",
							relpath)));
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create file \"%s\": %m", path)));
	}
}

static void
sink_write(RestoreState *st, FileSink *sink, const char *data, size_t len)
{
	if (sink->mf != NULL && sink->written + (int64) len > sink->mf->size)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("file \"%s\" is larger in the backup than in its backup_manifest",
						sink->relpath),
				 errdetail("The manifest lists " INT64_FORMAT " bytes.",
						   sink->mf->size)));
	if (pg_checksum_update(&sink->ctx, (const uint8 *) data, len) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not update checksum of file \"%s\"", sink->relpath)));
	if (st->verify_only)
	{
		sink->written += len;
		st->bytes += len;
		len = 0;
	}
	while (len > 0)
	{
		ssize_t		n = write(sink->fd, data, len);

		if (n <= 0)
		{
			if (n < 0 && errno == EINTR)
				continue;
			/* a short write with no errno is a full disk */
			if (n == 0)
				errno = ENOSPC;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not write file \"%s\" in \"%s\": %m",
							sink->relpath, st->tmpdir)));
		}
		data += n;
		len -= n;
		sink->written += n;
		st->bytes += n;
	}
	report_progress(st);
}

/* Finish a file: it must be complete and match its manifest checksum. */
static void
sink_close(RestoreState *st, FileSink *sink)
{
	uint8		sum[PG_CHECKSUM_MAX_LENGTH];
	int			sumlen;

	/* start writeback now, so that the fsync before the rename is short */
	if (sink->fd >= 0)
		pg_flush_data(sink->fd, 0, 0);
	if (sink->fd >= 0 && CloseTransientFile(sink->fd) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not close file \"%s\" in \"%s\": %m",
						sink->relpath, st->tmpdir)));
	sink->fd = -1;
	st->files++;

	sumlen = pg_checksum_final(&sink->ctx, sum);
	if (sumlen < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not finish checksum of file \"%s\"", sink->relpath)));
	if (sink->mf == NULL)
		return;
	if (sink->written != sink->mf->size)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("file \"%s\" has " INT64_FORMAT " bytes in the backup, but its backup_manifest lists " INT64_FORMAT,
						sink->relpath, sink->written, sink->mf->size)));
	if (sumlen > 0)
	{
		static const char hexdigits[] = "0123456789abcdef";
		char		hex[PG_CHECKSUM_MAX_LENGTH * 2 + 1];

		for (int i = 0; i < sumlen; i++)
		{
			hex[2 * i] = hexdigits[sum[i] >> 4];
			hex[2 * i + 1] = hexdigits[sum[i] & 0xF];
		}
		hex[2 * sumlen] = '\0';
		if (sink->mf->checksum_hex == NULL ||
			pg_strcasecmp(hex, sink->mf->checksum_hex) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("checksum mismatch for file \"%s\"", sink->relpath),
					 errdetail("The backup_manifest has %s checksum %s, the file in the backup has %s.",
							   sink->mf->algorithm,
							   sink->mf->checksum_hex ? sink->mf->checksum_hex : "(none)",
							   hex)));
	}
}

/* Copy one regular file of a plain backup. */
static void
copy_file(RestoreState *st, const char *src, const char *relpath, bool verify)
{
	FileSink	sink;
	int			fd;

	sink_open(st, &sink, relpath, verify);
	/* lstat said regular; non-blocking in case it was swapped for a FIFO */
	fd = pitr_open_file(src, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | PG_BINARY);
	for (;;)
	{
		ssize_t		n;

		CHECK_FOR_INTERRUPTS();
		n = read(fd, st->buf, RESTORE_BUFSIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read file \"%s\": %m", src)));
		if (n == 0)
			break;
		sink_write(st, &sink, st->buf, n);
	}
	CloseTransientFile(fd);
	sink_close(st, &sink);
}

/*
 * Copy directory "src" of a plain backup to relpath ("" for the top).
 * Symbolic links are followed only where pg_basebackup makes them: a
 * tablespace (pg_tblspc/<oid>) and pg_wal.
 */
static void
copy_dir(RestoreState *st, const char *src, const char *relpath, bool verify,
		 int depth)
{
	ListCell   *lc;

	check_stack_depth();
	if (depth > MAX_COPY_DEPTH)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("directory \"%s\" is nested too deeply", src)));
	foreach(lc, pitr_read_dir(src, NULL, 0, NULL))
	{
		const char *name = lfirst(lc);
		char	   *child = psprintf("%s/%s", src, name);
		char	   *rel = relpath[0] ? psprintf("%s/%s", relpath, name) :
			pstrdup(name);
		struct stat sb;
		bool		child_verify = verify;

		if (depth == 0 && restore_skipped_file(rel))
			continue;
		/* WAL is checked by recovery, not by the manifest's Files */
		if (depth == 0 && strcmp(rel, "pg_wal") == 0)
			child_verify = false;

		if (lstat(child, &sb) != 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not stat file \"%s\": %m", child)));
		if (S_ISLNK(sb.st_mode))
		{
			bool		followed = (depth == 0 && strcmp(rel, "pg_wal") == 0) ||
			(depth == 1 && strncmp(rel, "pg_tblspc/", 10) == 0 &&
			 strspn(rel + 10, "0123456789") == strlen(rel + 10));

			if (!followed || stat(child, &sb) != 0 || !S_ISDIR(sb.st_mode))
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("backup file \"%s\" is a symbolic link", child),
						 errdetail("Only tablespaces and pg_wal may be symbolic links in a plain backup.")));
		}
		if (S_ISDIR(sb.st_mode))
		{
			make_dir(st, rel);
			copy_dir(st, child, rel, child_verify, depth + 1);
		}
		else if (S_ISREG(sb.st_mode))
			copy_file(st, child, rel, child_verify);
		else
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("backup file \"%s\" is neither a regular file nor a directory",
							child)));
		pfree(child);
		pfree(rel);
	}
}

/* See restore_build.h. */
void
restore_move_up(const char *from, const char *to,
				bool (*skip) (const char *name))
{
	ListCell   *lc;

	foreach(lc, pitr_read_dir(from, NULL, 0, NULL))
	{
		const char *name = lfirst(lc);
		char	   *src = psprintf("%s/%s", from, name);
		char	   *dst = psprintf("%s/%s", to, name);

		if (skip(name))
		{
			if (unlink(src) != 0)
				ereport(ERROR,
						(errcode_for_file_access(),
						 errmsg("could not remove file \"%s\": %m", src)));
			continue;
		}
		if (rename(src, dst) != 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not rename \"%s\" to \"%s\": %m", src, dst)));
	}
	if (rmdir(from) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not remove directory \"%s\": %m", from)));
}

void
restore_copy_file_as_is(RestoreState *st, const char *src, const char *relpath)
{
	copy_file(st, src, relpath, false);
}

void
restore_copy_plain(RestoreState *st, const char *srcdir)
{
	copy_dir(st, srcdir, "", true, 0);
}

void
restore_extract_tar(RestoreState *st, const char *path, const char *compression,
					const char *prefix, bool verify)
{
	MemoryContext cxt;
	MemoryContext oldcxt;
	PitrTarReader *r;
	struct archive_entry *entry;

	/* per-entry names go here, and the reader */
	cxt = AllocSetContextCreate(CurrentMemoryContext, "pitr_restore tar extraction",
								ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);
	r = pitr_tar_open(path, compression, 0);

	while (pitr_tar_next(r, &entry))
	{
		const char *name;
		char	   *rel;
		FileSink	sink;

		name = archive_entry_pathname(entry);
		rel = safe_relpath(name, prefix, path);
		if (prefix[0] == '\0' && restore_skipped_file(rel))
			continue;

		if (archive_entry_hardlink(entry) != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("entry \"%s\" in \"%s\" is a hard link", name, path),
					 errdetail("pg_basebackup writes no links; the tar is refused.")));
		switch (archive_entry_filetype(entry))
		{
			case AE_IFDIR:
				make_parents(st, rel);
				make_dir(st, rel);
				break;
			case AE_IFREG:
				{
					/* pg_wal.tar and the pg_wal directory: checked by recovery */
					bool		file_verify = verify &&
					strncmp(rel, "pg_wal/", 7) != 0;
					const void *block;
					size_t		size;
					int64		offset;

					sink_open(st, &sink, rel, file_verify);
					while (pitr_tar_read_block(r, &block, &size, &offset))
					{
						if (offset != sink.written)
							ereport(ERROR,
									(errcode(ERRCODE_DATA_CORRUPTED),
									 errmsg("entry \"%s\" in \"%s\" is a sparse file, which pg_basebackup does not write",
											name, path)));
						sink_write(st, &sink, block, size);
					}
					sink_close(st, &sink);
					break;
				}
			case AE_IFLNK:
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("entry \"%s\" in \"%s\" is a symbolic link", name, path),
						 errdetail("Links could point outside the target directory; the tar is refused.")));
				break;
			default:
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("entry \"%s\" in \"%s\" is neither a regular file nor a directory",
								name, path)));
		}
		pfree(rel);
	}

	pitr_tar_close(r);
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(cxt);
}

/* A manifest larger than this is not read into memory. */
#define MAX_MANIFEST_SIZE ((size_t) MaxAllocSize)

static int
mf_cmp(const void *a, const void *b)
{
	return strcmp((*(PitrManifestFile *const *) a)->path,
				  (*(PitrManifestFile *const *) b)->path);
}

/* Read a whole manifest into palloc'd memory, NUL-terminated. */
static char *
read_manifest_file(const char *path, size_t *len)
{
	int64		n = 0;
	int			err_no;
	char	   *msg;
	char	   *buf = pitr_read_whole_file(path, "file", MAX_MANIFEST_SIZE, &n,
										   &err_no, &msg);

	if (buf == NULL && err_no == ENOENT)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg_internal("%s", msg),
				 errhint("Every restore is verified against its backup's manifest; take backups with pg_basebackup's manifest on (the default).")));
	if (buf == NULL)
		(void) pitr_read_whole_file_or_error(path, "file", MAX_MANIFEST_SIZE,
											 false, &n);
	*len = (size_t) n;
	return buf;
}

/* See restore_build.h. */
List *
restore_load_manifest(RestoreState *st, const char *path)
{
	char	   *manifest;
	size_t		manifest_len;
	PitrBackup *b;
	List	   *files;
	char	   *err;
	ListCell   *lc;
	int			i = 0;

	manifest = read_manifest_file(path, &manifest_len);
	b = palloc0(sizeof(PitrBackup));
	if (!pitr_parse_backup_manifest(manifest, manifest_len, b, &files, &err))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid backup manifest \"%s\"", path),
				 errdetail("%s", err)));
	pfree(manifest);

	st->nmf = list_length(files);
	st->mf = palloc(sizeof(PitrManifestFile *) * Max(st->nmf, 1));
	st->seen = palloc0(sizeof(bool) * Max(st->nmf, 1));
	st->expected_bytes = 0;
	foreach(lc, files)
	{
		st->mf[i++] = lfirst(lc);
		st->expected_bytes += ((PitrManifestFile *) lfirst(lc))->size;
	}
	qsort(st->mf, st->nmf, sizeof(PitrManifestFile *), mf_cmp);
	st->next_notice = st->expected_bytes / 10;
	if (st->buf == NULL)
		st->buf = palloc(RESTORE_BUFSIZE);
	return files;
}

/*
 * Extract the tars of a tar-format backup (none, gzip, lz4 or zstd
 * compressed): base.tar first, then each
 * tablespace's <oid>.tar into pg_tblspc/<oid>, then pg_wal.tar.  Each may
 * be compressed its own way (pg_basebackup compresses pg_wal.tar on the
 * client side only).
 */
void
restore_extract_tars(RestoreState *st, const char *location)
{
	static const struct
	{
		const char *suffix;
		const char *compression;
	}			kinds[] = {
		{".tar", "none"}, {".tar.gz", "gzip"}, {".tar.zst", "zstd"},
		{".tar.lz4", "lz4"}
	};
	List	   *tablespaces = NIL;
	List	   *tscompression = NIL;
	char	   *base = NULL;
	const char *basecomp = NULL;
	char	   *wal = NULL;
	const char *walcomp = NULL;
	ListCell   *lc,
			   *lc2;

	foreach(lc, pitr_read_dir(location, NULL, 0, NULL))
	{
		const char *name = lfirst(lc);
		size_t		len = strlen(name);

		for (int i = 0; i < lengthof(kinds); i++)
		{
			size_t		slen = strlen(kinds[i].suffix);
			char	   *stem;

			if (len <= slen || strcmp(name + len - slen, kinds[i].suffix) != 0)
				continue;
			stem = pnstrdup(name, len - slen);
			if (strcmp(stem, "base") == 0)
			{
				base = psprintf("%s/%s", location, name);
				basecomp = kinds[i].compression;
			}
			else if (strcmp(stem, "pg_wal") == 0)
			{
				wal = psprintf("%s/%s", location, name);
				walcomp = kinds[i].compression;
			}
			else if (strspn(stem, "0123456789") == strlen(stem))
			{
				tablespaces = lappend(tablespaces, pstrdup(name));
				tscompression = lappend(tscompression,
										unconstify(char *, kinds[i].compression));
			}
			pfree(stem);
		}
	}

	if (base == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("backup \"%s\" has no base.tar, base.tar.gz, base.tar.lz4 or base.tar.zst",
						location)));
	restore_extract_tar(st, base, basecomp, "", true);
	forboth(lc, tablespaces, lc2, tscompression)
	{
		char	   *name = lfirst(lc);
		char	   *oid = pnstrdup(name, strspn(name, "0123456789"));

		restore_extract_tar(st, psprintf("%s/%s", location, name), lfirst(lc2),
							psprintf("pg_tblspc/%s/", oid), true);
	}
	if (wal != NULL)
		restore_extract_tar(st, wal, walcomp, "pg_wal/", false);
}

/* Every manifest file must have been written. */
void
restore_check_all_written(RestoreState *st)
{
	for (int i = 0; i < st->nmf; i++)
	{
		const char *path = st->mf[i]->path;

		/*
		 * WAL is left to recovery, as pg_verifybackup leaves it to its own
		 * WAL check: with -X fetch the manifest lists pg_wal's segments and
		 * archive_status files, which a backup need not carry as listed.
		 */
		if (st->seen[i] || restore_skipped_file(path) ||
			restore_unverified_file(path) || strncmp(path, "pg_wal/", 7) == 0)
			continue;
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("file \"%s\" is in the backup_manifest but not in the backup",
						path)));
	}
}
