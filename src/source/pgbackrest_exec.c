/*-------------------------------------------------------------------------
 *
 * pgbackrest_exec.c
 *	  Running the pgbackrest binary to list and fetch repository files
 *	  (repo-ls, repo-get), so pitr_restore reaches every store pgBackRest
 *	  reaches, decrypted by pgBackRest itself, without an object-storage
 *	  client of its own.
 *
 * stderr goes to a temporary file so a failure can say why; temporary
 * files live in base/pgsql_tmp and are removed by a memory context
 * callback, so an ERROR or a cancel leaves nothing behind.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>

#include "catalog/pg_authid.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "port.h"
#include "storage/fd.h"
#include "utils/acl.h"

#include "source/pgbackrest_exec.h"

typedef struct TempFile
{
	char		path[MAXPGPATH];
	MemoryContextCallback cb;
} TempFile;

static void
temp_file_remove(void *arg)
{
	unlink(((TempFile *) arg)->path);
}

/* A temporary file name, removed with the current memory context. */
static char *
temp_file(const char *what)
{
	static int	counter = 0;
	TempFile   *t = palloc0(sizeof(TempFile));

	if (MakePGDirectory(PG_TEMP_FILES_DIR) < 0 && errno != EEXIST)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create directory \"%s\": %m",
						PG_TEMP_FILES_DIR)));
	snprintf(t->path, sizeof(t->path), "%s/%spitr_pgbackrest.%d.%d.%s",
			 PG_TEMP_FILES_DIR, PG_TEMP_FILE_PREFIX, MyProcPid, ++counter, what);
	t->cb.func = temp_file_remove;
	t->cb.arg = t;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &t->cb);
	return t->path;
}

char *
pitr_shell_quote(const char *s)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '\'');
	for (; *s; s++)
	{
		if (*s == '\'')
			appendStringInfoString(&buf, "'\\''");
		else
			appendStringInfoChar(&buf, *s);
	}
	appendStringInfoChar(&buf, '\'');
	return buf.data;
}

void
pitr_pgbackrest_check_privilege(void)
{
	if (!has_privs_of_role(GetOuterUserId(), ROLE_PG_EXECUTE_SERVER_PROGRAM))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to read a pgBackRest repository through the pgbackrest program"),
				 errhint("Only roles with privileges of the \"pg_execute_server_program\" role may read repositories that are not local unencrypted posix directories.")));
}

static char *
base_command(const PitrPgbrCommand *cmd)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "pgbackrest %s",
					 pitr_shell_quote(psprintf("--stanza=%s", cmd->stanza)));
	if (cmd->config)
		appendStringInfo(&buf, " %s",
						 pitr_shell_quote(psprintf("--config=%s", cmd->config)));
	if (cmd->repo > 0)
		appendStringInfo(&buf, " --repo=%d", cmd->repo);
	/* Only what is asked for on stdout; warnings go to stderr. */
	appendStringInfoString(&buf, " --log-level-console=off --log-level-stderr=warn");
	return buf.data;
}

/* What pgbackrest wrote on stderr, for an error message. */
static char *
stderr_text(const char *path)
{
	FILE	   *f = AllocateFile(path, "r");
	char		buf[1024];
	size_t		n;

	if (f == NULL)
		return pstrdup("");
	n = fread(buf, 1, sizeof(buf) - 1, f);
	FreeFile(f);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return pstrdup(buf);
}

/* Run a command line; stdout into "out" unless it is redirected. */
static bool
run(const char *cmdline, const char *errpath, StringInfo out, char **err)
{
	FILE	   *p;
	char		chunk[65536];
	size_t		n;
	int			rc;

	fflush(NULL);
	p = OpenPipeStream(cmdline, PG_BINARY_R);
	if (p == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not execute command \"%s\": %m", cmdline)));
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
	{
		CHECK_FOR_INTERRUPTS();
		if (out)
			appendBinaryStringInfo(out, chunk, n);
	}
	rc = ClosePipeStream(p);
	if (rc != 0)
	{
		char	   *why = wait_result_to_str(rc);

		*err = psprintf("pgbackrest failed (%s): %s", why, stderr_text(errpath));
		return false;
	}
	return true;
}

char *
pitr_pgbackrest_capture(const PitrPgbrCommand *cmd, const char *args,
						size_t *len, char **err)
{
	char	   *errpath = temp_file("err");
	char	   *cmdline = psprintf("%s %s 2>%s", base_command(cmd), args,
								   pitr_shell_quote(errpath));
	StringInfoData out;

	initStringInfo(&out);
	if (!run(cmdline, errpath, &out, err))
		return NULL;
	*len = out.len;
	return out.data;
}

char *
pitr_pgbackrest_get_to_temp(const PitrPgbrCommand *cmd, const char *repo_path,
							char **err)
{
	char	   *errpath = temp_file("err");
	char	   *dest = temp_file("get");
	char	   *cmdline = psprintf("%s repo-get %s >%s 2>%s", base_command(cmd),
								   pitr_shell_quote(repo_path),
								   pitr_shell_quote(dest),
								   pitr_shell_quote(errpath));

	if (!run(cmdline, errpath, NULL, err))
		return NULL;
	return dest;
}
