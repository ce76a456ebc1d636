/*-------------------------------------------------------------------------
 *
 * restore_combine.c
 *	  Restore from an incremental backup (PostgreSQL 17+): its chain, the
 *	  full backup first, combined into the directory being built by the
 *	  server's own pg_combinebackup, never by a combiner of ours.
 *
 * The chain is found again in the backup's own directory and checked with
 * the same rules as the index (backup_dir.c): a missing or unusable link is
 * an ERROR naming it, before anything is written.  pg_combinebackup reads
 * plain directories only, so a tar link is first extracted into the
 * building directory, verified against its manifest on the way; a plain
 * link is verified where it lies and read from there (one with tablespaces
 * is copied, so that they become directories of the copy and
 * pg_combinebackup writes nothing outside it).  The result, written into
 * <building directory>/combined, is verified against the manifest
 * pg_combinebackup wrote for it and moved up into the building directory;
 * the staging copies go.  Any ERROR leaves the whole building directory to
 * restore_build.c's cleanup.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>

#include "catalog/pg_authid.h"
#include "common/file_perm.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "port.h"
#include "storage/fd.h"
#include "utils/acl.h"

#include "format/archive_files.h"
#include "quote.h"
#include "restore_build.h"
#include "util/privilege.h"
#include "restore_target.h"
#include "source/backup_dir.h"
#include "util/dir_reader.h"

#define COMBINE_PROGRAM "pg_combinebackup"
#define COMBINE_VERSIONSTR "pg_combinebackup (PostgreSQL) " PG_VERSION "\n"

/* Output of pg_combinebackup kept for an error message. */
#define MAX_COMBINE_OUTPUT 4096

/* A backup_label larger than this is not one (backup_dir.c reads no more). */
#define MAX_LABEL_SIZE (1024 * 1024)

/* A manifest path of an incremental file: <dir>/INCREMENTAL.<name>. */
static bool
is_incremental_path(const char *path)
{
	const char *base = strrchr(path, '/');

	return base != NULL && strncmp(base + 1, "INCREMENTAL.", 12) == 0 &&
		(strncmp(path, "base/", 5) == 0 || strncmp(path, "global/", 7) == 0 ||
		 strncmp(path, "pg_tblspc/", 10) == 0);
}

/*
 * Does a plain backup's backup_label name a backup it builds on?  Read with
 * the one small-file reader: a FIFO or link in its place is not opened.
 */
static bool
label_says_incremental(const char *location)
{
	const char *key = "INCREMENTAL FROM LSN:";
	int64		len;
	int			err_no;
	char	   *msg;
	char	   *label = pitr_read_whole_file(psprintf("%s/backup_label", location),
											 "file", MAX_LABEL_SIZE, &len,
											 &err_no, &msg);

	if (label == NULL)
		return false;
	for (const char *line = label; line != NULL; line = strchr(line, '\n'))
	{
		if (*line == '\n')
			line++;
		if (strncmp(line, key, strlen(key)) == 0)
			return true;
	}
	return false;
}

/* See restore_build.h. */
bool
restore_is_incremental(const char *location, const char *format, List *files)
{
	ListCell   *lc;

	foreach(lc, files)
		if (is_incremental_path(((PitrManifestFile *) lfirst(lc))->path))
			return true;
	return strcmp(format, "plain") == 0 && label_says_incremental(location);
}

/* See restore_build.h. */
List *
restore_chain_of(const char *location)
{
	char	   *dir = pstrdup(location);
	char	   *slash = strrchr(dir, '/');
	List	   *backups;
	PitrBackup *b;
	List	   *chain = NIL;
	ListCell   *lc;

	if (slash == NULL || slash == dir)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("incremental backup \"%s\" is not in a directory of backups",
						location)));
	*slash = '\0';
	backups = pitr_scan_backup_chain(dir, location);
	b = pitr_find_backup(backups, location);
	if (b == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("backup \"%s\" was not found in \"%s\"", location, dir)));
	if (b->problem != NULL || b->chain == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot restore incremental backup \"%s\"", location),
				 errdetail("The backup is incremental and %s.",
						   b->problem ? b->problem : "its chain is broken")));
	if (b->incremental_from_lsn == InvalidXLogRecPtr)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("backup \"%s\" has incremental files, but its backup_label names no backup it builds on",
						location)));
	foreach(lc, b->chain)
		chain = lappend(chain, pitr_find_backup(backups, lfirst(lc)));
	return chain;
}

/*
 * Running pg_combinebackup needs pg_execute_server_program of the role
 * whose code called prepare_restore, and never runs in a
 * security-restricted operation (util/privilege.c).
 */
void
restore_check_combine_privilege(void)
{
	pitr_check_program_privilege("restore an incremental backup with the " COMBINE_PROGRAM " program");
}

/* See restore_build.h: the result, and the links extracted to read them. */
int64
restore_chain_bytes(List *chain)
{
	int64		bytes = 0;
	ListCell   *lc;

	foreach(lc, chain)
	{
		PitrBackup *b = lfirst(lc);

		bytes += b->bytes;
		if (strcmp(b->format, "plain") != 0)
			bytes += 2 * b->bytes;	/* extracted: an estimate for compressed ones */
	}
	return bytes;
}

/* Does a plain backup have tablespaces (entries in pg_tblspc)? */
static bool
has_tablespaces(const char *location)
{
	char	   *err;

	return pitr_read_dir(psprintf("%s/pg_tblspc", location), NULL, 0,
						 &err) != NIL;
}

/* A damaged link is named in every message about it. */
static void
link_context(void *arg)
{
	errcontext("verifying backup \"%s\" of the incremental chain",
			   (const char *) arg);
}

/*
 * Verify one link of the chain and return the plain directory
 * pg_combinebackup reads it from: the backup itself, or its copy in
 * <building directory>/chain.<n>.
 */
static char *
prepare_link(RestoreState *st, PitrBackup *b, int n)
{
	RestoreState link;
	char	   *manifest = psprintf("%s/backup_manifest", b->location);
	char	   *result = b->location;
	ErrorContextCallback errcb;

	CHECK_FOR_INTERRUPTS();
	errcb.callback = link_context;
	errcb.arg = b->location;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	memset(&link, 0, sizeof(link));
	link.buf = st->buf;
	(void) restore_load_manifest(&link, manifest);
	if (strcmp(b->format, "plain") == 0 && !has_tablespaces(b->location))
	{
		link.verify_only = true;
		link.tmpdir = b->location;
		restore_copy_plain(&link, b->location);
		restore_check_all_written(&link);
	}
	else
	{
		link.tmpdir = result = psprintf("%s/chain.%d", st->tmpdir, n);
		if (mkdir(result, pg_dir_create_mode) != 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not create directory \"%s\": %m", result)));
		if (strcmp(b->format, "plain") == 0)
			restore_copy_plain(&link, b->location);
		else
			restore_extract_tars(&link, b->location);
		restore_check_all_written(&link);
		/* pg_combinebackup reads each link's manifest too */
		restore_copy_file_as_is(&link, manifest, "backup_manifest");
	}

	error_context_stack = errcb.previous;
	return result;
}

/* The server's own pg_combinebackup, found as the server finds its programs. */
static char *
combine_program(void)
{
	char		path[MAXPGPATH];

	if (find_other_exec(my_exec_path, COMBINE_PROGRAM, COMBINE_VERSIONSTR,
						path) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("could not find the program \"%s\" of PostgreSQL %s beside the server's own programs",
						COMBINE_PROGRAM, PG_VERSION),
				 errhint("Restoring an incremental backup needs the server's client programs installed.")));
	return pstrdup(path);
}

/* Run pg_combinebackup over the links, oldest first, into "output". */
static void
run_combine(List *dirs, const char *output)
{
	StringInfoData cmd;
	StringInfoData out;
	FILE	   *p;
	char		chunk[1024];
	size_t		n;
	int			rc;
	ListCell   *lc;

	initStringInfo(&cmd);
	/* --no-sync: the whole restore is fsynced before its rename */
	appendStringInfo(&cmd, "%s --no-sync -o %s",
					 pitr_quote_shell(combine_program()),
					 pitr_quote_shell(output));
	foreach(lc, dirs)
		appendStringInfo(&cmd, " %s", pitr_quote_shell(lfirst(lc)));
	appendStringInfoString(&cmd, " 2>&1");

	initStringInfo(&out);
	fflush(NULL);
	p = OpenPipeStream(cmd.data, PG_BINARY_R);
	if (p == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not execute command \"%s\": %m", cmd.data)));
	/*
	 * No CHECK_FOR_INTERRUPTS() until it exits: the building directory is
	 * removed on an ERROR while the program would still be writing into it
	 * (the pipe is only closed, and the program waited for, at abort).  A
	 * cancel takes effect when pg_combinebackup is done.
	 */
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
	{
		if (out.len < MAX_COMBINE_OUTPUT)
			appendBinaryStringInfo(&out, chunk, n);
	}
	rc = ClosePipeStream(p);
	CHECK_FOR_INTERRUPTS();
	while (out.len > 0 && (out.data[out.len - 1] == '\n' ||
						   out.data[out.len - 1] == '\r'))
		out.data[--out.len] = '\0';
	if (rc != 0)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("%s failed: %s", COMBINE_PROGRAM, wait_result_to_str(rc)),
				 errdetail("%s", out.len > 0 ? out.data : "It wrote nothing.")));
}

/* See restore_build.h. */
void
restore_combine_chain(RestoreState *st, List *chain)
{
	List	   *dirs = NIL;
	char	   *output = psprintf("%s/combined", st->tmpdir);
	ListCell   *lc;
	int			n = 0;

	st->buf = palloc(RESTORE_BUFSIZE);
	foreach(lc, chain)
		dirs = lappend(dirs, prepare_link(st, lfirst(lc), n++));

	run_combine(dirs, output);

	/* the result, checked against the manifest pg_combinebackup wrote */
	(void) restore_load_manifest(st, psprintf("%s/backup_manifest", output));
	st->verify_only = true;
	restore_copy_plain(st, output);
	st->verify_only = false;
	st->last_dir[0] = '\0';
	restore_move_up(output, st->tmpdir, restore_skipped_file);

	for (int i = 0; i < n; i++)
	{
		char	   *staged = psprintf("%s/chain.%d", st->tmpdir, i);
		struct stat sb;

		if (lstat(staged, &sb) == 0 && !restore_remove_tree(staged))
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not remove directory \"%s\"", staged)));
	}
}
