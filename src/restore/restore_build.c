/*-------------------------------------------------------------------------
 *
 * restore_build.c
 *	  materialise_backup(): build a ready-to-start data directory from a
 *	  base backup, with recovery.signal, the recovery settings and the
 *	  marker that makes the cleanup hooks run once after the restore.
 *
 * The target is judged by real path (restore_target.c).  The directory is
 * built in a stamped sibling "<target_dir>.pitr_restore_tmp.<pid>" and
 * renamed into place at the end, so target_dir either does not exist or is
 * complete.  On ERROR or FATAL the temporary directory is removed; one left
 * by a backend killed with SIGKILL is removed by the next call once its pid
 * is gone and its stamp proves it ours.  The backup itself and the running
 * cluster are only ever read.  An incremental backup (PostgreSQL 17+) is
 * built from its chain by pg_combinebackup (restore_combine.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "access/htup_details.h"
#include "catalog/pg_authid.h"
#include "common/file_perm.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "cleanup.h"
#include "format/archive_files.h"

#include "util/privilege.h"
#include "restore_build.h"
#include "restore_target.h"
#include "source/pgbackrest_exec.h"
#include "util/dir_reader.h"
#include "util/file_io.h"

PG_FUNCTION_INFO_V1(pitr_materialise_backup);
PG_FUNCTION_INFO_V1(pitr_check_restore_target);

/* Room left free on the target's file system beyond the backup itself. */
#define DISK_MARGIN_BYTES ((int64) 64 * 1024 * 1024)

/* The directory being built; a static so the exit callback can find it. */
static char building_dir[MAXPGPATH];

/* Remove the directory being built: on ERROR, and on FATAL exit. */
static void
remove_building_dir(int code, Datum arg)
{
	if (building_dir[0] != '\0')
	{
		restore_remove_tree(building_dir);
		building_dir[0] = '\0';
	}
}

/* Write (or, with "append", add to) a small file of the restore. */
static void
write_small_file(const char *dir, const char *name, const char *content,
				 bool append)
{
	char		path[MAXPGPATH];
	int			fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = pitr_open_file(path, O_WRONLY | O_CREAT | O_NOFOLLOW | PG_BINARY |
						(append ? O_APPEND : O_EXCL));
	pitr_write_file(fd, path, content, strlen(content));
	pitr_close_file(fd, path);
}

static bool
file_exists(const char *dir, const char *name)
{
	char		path[MAXPGPATH];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return lstat(path, &st) == 0;
}

/* fsync every file and directory under "path", then "path" itself. */
static void
fsync_tree(const char *path)
{
	ListCell   *lc;

	check_stack_depth();
	foreach(lc, pitr_read_dir(path, NULL, 0, NULL))
	{
		char		child[MAXPGPATH];
		struct stat st;

		snprintf(child, sizeof(child), "%s/%s", path, (char *) lfirst(lc));
		if (lstat(child, &st) != 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not stat file \"%s\": %m", child)));
		if (S_ISDIR(st.st_mode))
			fsync_tree(child);
		else if (S_ISREG(st.st_mode))
			fsync_fname(child, false);
	}
	fsync_fname(path, true);
}

/*
 * What turns a copy of a backup into a restore: the recovery settings,
 * recovery.signal, and the marker naming this restore.  A backup of a
 * cluster whose configuration lives outside the data directory (Debian's
 * /etc/postgresql) gets a minimal configuration, or it could not start.
 */
static void
write_recovery_files(RestoreState *st, const char *recovery_conf,
					 const char *marker)
{
	uint8		token[16];
	char		hex[sizeof(token) * 2 + 1];
	StringInfoData buf;

	if (!file_exists(st->tmpdir, "postgresql.conf"))
		write_small_file(st->tmpdir, "postgresql.conf",
						 "# Written by pitr_restore: the backup had no postgresql.conf\n"
						 "# (its configuration lived outside the data directory).\n",
						 false);
	if (!file_exists(st->tmpdir, "pg_hba.conf"))
		write_small_file(st->tmpdir, "pg_hba.conf",
						 "# Written by pitr_restore: the backup had no pg_hba.conf.\n"
						 "local all all peer\n", false);
	if (!file_exists(st->tmpdir, "pg_ident.conf"))
		write_small_file(st->tmpdir, "pg_ident.conf", "", false);

	initStringInfo(&buf);
	appendStringInfo(&buf, "\n# Recovery settings written by pitr_restore.prepare_restore at %s\n",
					 timestamptz_to_str(GetCurrentTimestamp()));
	appendStringInfoString(&buf, recovery_conf);
	if (buf.len > 0 && buf.data[buf.len - 1] != '\n')
		appendStringInfoChar(&buf, '\n');
	write_small_file(st->tmpdir, "postgresql.auto.conf", buf.data, true);

	write_small_file(st->tmpdir, "recovery.signal", "", false);

	/* unique per restore even for the same backup and target */
	if (!pg_strong_random(token, sizeof(token)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random restore token")));
	hex_encode((const char *) token, sizeof(token), hex);
	hex[sizeof(token) * 2] = '\0';
	resetStringInfo(&buf);
	appendStringInfo(&buf, "%s; built %s; token %s\n", marker,
					 timestamptz_to_str(GetCurrentTimestamp()), hex);
	write_small_file(st->tmpdir, PITR_RESTORE_MARKER_FILE, buf.data, false);

	/* pg_basebackup -X none leaves these out of a tar's pg_wal */
	snprintf(buf.data, buf.maxlen, "%s/pg_wal", st->tmpdir);
	if (mkdir(buf.data, pg_dir_create_mode) != 0 && errno != EEXIST)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create directory \"%s\": %m", buf.data)));
	snprintf(buf.data, buf.maxlen, "%s/pg_wal/archive_status", st->tmpdir);
	if (mkdir(buf.data, pg_dir_create_mode) != 0 && errno != EEXIST)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create directory \"%s\": %m", buf.data)));
}

/* The bytes a restore will need: the manifest's files, plus the WAL. */
static int64
needed_bytes(RestoreState *st, const char *location, const char *format)
{
	int64		need = st->expected_bytes;
	static const char *const wal[] = {"pg_wal.tar", "pg_wal.tar.gz",
	"pg_wal.tar.lz4", "pg_wal.tar.zst"};

	/* compressed WAL is counted at its compressed size: a lower bound */
	if (strcmp(format, "plain") != 0)
		for (int i = 0; i < lengthof(wal); i++)
		{
			struct stat sb;
			char	   *p = psprintf("%s/%s", location, wal[i]);

			if (stat(p, &sb) == 0)
				need += sb.st_size;
			pfree(p);
		}
	return need;
}

static void
check_free_space(const char *parent, int64 need)
{
	struct statvfs fs;
	int64		avail;

	if (statvfs(parent, &fs) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not get the free space of \"%s\": %m", parent)));
	avail = (int64) fs.f_bavail * (int64) fs.f_frsize;
	if (avail < need + DISK_MARGIN_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_DISK_FULL),
				 errmsg("not enough free disk space for the restore in \"%s\"", parent),
				 errdetail("The restore needs " INT64_FORMAT " MB, " INT64_FORMAT " MB are free.",
						   (need + DISK_MARGIN_BYTES) / (1024 * 1024),
						   avail / (1024 * 1024))));
}

/*
 * The real path of the backup location argument, or an ERROR naming it.
 * Not inlined: its locals must not live in the caller's frame, which
 * PG_ENSURE_ERROR_CLEANUP longjmps through.
 */
static pg_noinline char *
backup_location_arg(text *arg)
{
	char	   *path = text_to_cstring(arg);
	char	   *real;
	char	   *result;

	if (!is_absolute_path(path))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("backup location \"%s\" is not an absolute path", path)));
	canonicalize_path(path);
	real = realpath(path, NULL);
	if (real == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not resolve the real path of backup \"%s\": %m",
						path)));
	result = pstrdup(real);
	free(real);
	if (strlen(result) >= MAXPGPATH - 64)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("backup location \"%s\" is too long", result)));
	return result;
}

/*
 * check_restore_target(target_dir [, archive_dir]): the checks on a target
 * directory alone, made before anything is resolved or read; returns its
 * real path, which the restore is then built at.  The running cluster, the
 * archive and the backups are never written, and an existing directory is
 * never reused.
 */
Datum
pitr_check_restore_target(PG_FUNCTION_ARGS)
{
	char	   *target;
	char	   *parent;
	char	   *archive = NULL;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("target_dir must not be NULL")));
	pitr_check_restore_privilege();
	if (PG_NARGS() > 1 && !PG_ARGISNULL(1))
		archive = text_to_cstring(PG_GETARG_TEXT_PP(1));
	target = restore_real_target(text_to_cstring(PG_GETARG_TEXT_PP(0)), &parent);
	restore_check_target_clear(target, archive, NULL);
	PG_RETURN_TEXT_P(cstring_to_text(target));
}

/* Count the files and bytes under "path", links not followed. */
static void
count_tree(const char *path, int64 *files, int64 *bytes)
{
	ListCell   *lc;

	foreach(lc, pitr_read_dir(path, NULL, 0, NULL))
	{
		char	   *sub = psprintf("%s/%s", path, (char *) lfirst(lc));
		struct stat st;

		if (lstat(sub, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			count_tree(sub, files, bytes);
		else if (S_ISREG(st.st_mode))
		{
			(*files)++;
			*bytes += st.st_size;
		}
		pfree(sub);
	}
}

/* What pgBackRest restores that ours replaces or a restore must not hold. */
static bool
pgbackrest_dropped_file(const char *name)
{
	return strcmp(name, "recovery.signal") == 0 ||
		strcmp(name, "standby.signal") == 0 ||
		strcmp(name, "postmaster.pid") == 0;
}

/*
 * pgbackrest restore into <tmpdir>/pgbackrest (pgBackRest wants an empty
 * directory; the building directory holds its stamp), then move what it
 * wrote up into the building directory.  pgBackRest's own recovery.signal
 * goes: ours is written next.
 */
static void
restore_with_pgbackrest(RestoreState *st, const char *location)
{
	char	   *sub = psprintf("%s/pgbackrest", st->tmpdir);
	char	   *err;

	if (mkdir(sub, pg_dir_create_mode) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create directory \"%s\": %m", sub)));
	if (!pitr_pgbackrest_restore_into(location, sub, &err))
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("could not restore pgBackRest backup \"%s\"", location),
				 errdetail("%s", err)));
	restore_move_up(sub, st->tmpdir, pgbackrest_dropped_file);
	count_tree(st->tmpdir, &st->files, &st->bytes);
}

/*
 * The building directory takes the target's name, durably: unstamped,
 * synced, renamed (never over a target created meanwhile), the parent
 * synced; from then on it is no longer removed on error.
 */
static void
publish_building_dir(RestoreState *st, const char *target, const char *parent)
{
	restore_unstamp(st->tmpdir);
	fsync_tree(st->tmpdir);
	if (renameat2(AT_FDCWD, st->tmpdir, AT_FDCWD, target,
				  RENAME_NOREPLACE) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not rename \"%s\" to \"%s\": %m",
						st->tmpdir, target)));
	building_dir[0] = '\0';
	fsync_fname(parent, true);
}

/* The row every builder returns: files and bytes written. */
static Datum
files_bytes_row(FunctionCallInfo fcinfo, const RestoreState *st)
{
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = Int64GetDatum(st->files);
	values[1] = Int64GetDatum(st->bytes);
	return HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
											 values, nulls));
}

/* How a builder fills the building directory (build_restore). */
typedef void (*FillStep) (RestoreState *st, const void *arg);

static void
fill_with_pgbackrest(RestoreState *st, const void *location)
{
	restore_with_pgbackrest(st, location);
}

static void
fill_from_chain(RestoreState *st, const void *chain)
{
	restore_combine_chain(st, unconstify(List *, (const List *) chain));
	restore_check_all_written(st);
}

static void
fill_plain(RestoreState *st, const void *location)
{
	restore_copy_plain(st, location);
	restore_check_all_written(st);
}

static void
fill_tars(RestoreState *st, const void *location)
{
	restore_extract_tars(st, location);
	restore_check_all_written(st);
}

/*
 * What every builder does around "fill": the building directory beside the
 * target (stamped, restore_make_tmpdir), filled, given the recovery files
 * and published under the target's name; removed if anything fails before.
 * Returns the builders' row.  Not inlined, as the builders are not: its
 * locals must not live in a frame PG_ENSURE_ERROR_CLEANUP longjmps through.
 */
static pg_noinline Datum
build_restore(FunctionCallInfo fcinfo, RestoreState *st, FillStep fill,
			  const void *arg, const char *target, const char *parent,
			  const char *recovery_conf, const char *marker)
{
	snprintf(building_dir, sizeof(building_dir), "%s%s%d", target,
			 RESTORE_TMP_SUFFIX, MyProcPid);
	st->tmpdir = pstrdup(building_dir);
	building_dir[0] = '\0';
	restore_make_tmpdir(st->tmpdir);
	strlcpy(building_dir, st->tmpdir, sizeof(building_dir));

	PG_ENSURE_ERROR_CLEANUP(remove_building_dir, (Datum) 0);
	{
		fill(st, arg);
		write_recovery_files(st, recovery_conf, marker);
		publish_building_dir(st, target, parent);
	}
	PG_END_ENSURE_ERROR_CLEANUP(remove_building_dir, (Datum) 0);

	return files_bytes_row(fcinfo, st);
}

/*
 * materialise_backup() for a pgBackRest backup: as for the others, but the
 * files come from "pgbackrest restore" (which checks them against its own
 * manifest) rather than from a copy checked against backup_manifest.
 */
static pg_noinline Datum
materialise_with_pgbackrest(FunctionCallInfo fcinfo, const char *recovery_conf,
							const char *marker)
{
	char	   *location = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *target;
	char	   *parent;
	RestoreState st;

	pitr_check_program_privilege("restore a pgBackRest backup");
	/* a local repository's backup by its real path; else as listed */
	if (strncmp(location, "pgbackrest:", 11) != 0)
		location = backup_location_arg(PG_GETARG_TEXT_PP(0));
	target = restore_real_target(text_to_cstring(PG_GETARG_TEXT_PP(2)), &parent);
	restore_check_target_clear(target, NULL,
							   location[0] == '/' ? location : NULL);

	memset(&st, 0, sizeof(st));
	restore_sweep_stale(parent);
	return build_restore(fcinfo, &st, fill_with_pgbackrest, location, target,
						 parent, recovery_conf, marker);
}

/*
 * materialise_backup() for an incremental backup (PostgreSQL 17+): its
 * chain, found again and checked here whatever the index said, combined by
 * pg_combinebackup (restore_combine.c); then as for the others.
 */
static pg_noinline Datum
materialise_chain(FunctionCallInfo fcinfo, const char *location,
				  const char *target, const char *parent,
				  const char *recovery_conf, const char *marker)
{
	List	   *chain;
	RestoreState st;

	restore_check_combine_privilege();
	chain = restore_chain_of(location);

	memset(&st, 0, sizeof(st));
	restore_sweep_stale(parent);
	check_free_space(parent, restore_chain_bytes(chain));
	return build_restore(fcinfo, &st, fill_from_chain, chain, target, parent,
						 recovery_conf, marker);
}

/*
 * materialise_backup(backup_location, backup_format, target_dir,
 * recovery_conf, marker): build target_dir from the backup; returns the
 * number of files and bytes written.
 */
Datum
pitr_materialise_backup(PG_FUNCTION_ARGS)
{
	char	   *location;
	char	   *format;
	char	   *target;
	char	   *recovery_conf;
	char	   *marker;
	char	   *parent;
	List	   *files;
	RestoreState st;

	pitr_check_restore_privilege();

	format = text_to_cstring(PG_GETARG_TEXT_PP(1));
	recovery_conf = text_to_cstring(PG_GETARG_TEXT_PP(3));
	marker = text_to_cstring(PG_GETARG_TEXT_PP(4));

	if (strcmp(format, "pgbackrest") == 0)
		return materialise_with_pgbackrest(fcinfo, recovery_conf, marker);

	if (strcmp(format, "plain") != 0 && strcmp(format, "tar") != 0 &&
		strcmp(format, "barman") != 0 &&
		strcmp(format, "tar.gz") != 0 && strcmp(format, "tar.zst") != 0 &&
		strcmp(format, "tar.lz4") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unrecognized backup format \"%s\"", format),
				 errhint("Valid formats are \"plain\", \"tar\", \"tar.gz\", \"tar.lz4\", \"tar.zst\", \"pgbackrest\" and \"barman\".")));
	if (strchr(marker, '\n') != NULL || strchr(marker, '\r') != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("restore marker must be a single line")));

	/* real paths decide: the target, and what it must stay clear of */
	location = backup_location_arg(PG_GETARG_TEXT_PP(0));
	if (strcmp(format, "barman") == 0)
	{
		/* Barman keeps a plain copy of the data directory in data/ */
		location = backup_location_arg(cstring_to_text(psprintf("%s/data", location)));
		format = "plain";
	}
	target = restore_real_target(text_to_cstring(PG_GETARG_TEXT_PP(2)), &parent);
	restore_check_target_clear(target, NULL, location);

	/* the manifest first: nothing is written for a backup we cannot check */
	memset(&st, 0, sizeof(st));
	files = restore_load_manifest(&st, psprintf("%s/backup_manifest", location));

	/* an incremental backup (PostgreSQL 17+) is restored with its chain */
	if (restore_is_incremental(location, format, files))
		return materialise_chain(fcinfo, location, target, parent,
								 recovery_conf, marker);

	restore_sweep_stale(parent);
	check_free_space(parent, needed_bytes(&st, location, format));
	return build_restore(fcinfo, &st,
						 strcmp(format, "plain") == 0 ? fill_plain : fill_tars,
						 location, target, parent, recovery_conf, marker);
}
