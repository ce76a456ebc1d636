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

#include "compat/pg_compat.h"
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

/*
 * Where a pgBackRest backup the index lists lives: "<repo>/backup/<stanza>/
 * <label>" for a local repository, "<keyword location> backup/<stanza>/
 * <label>" for one read through pgbackrest.
 */
static bool
parse_backup_location(const char *location, PitrPgbrCommand *cmd,
					  char **repo_path, char **label)
{
	const char *sep = strstr(location, " backup/");
	char	   *path;
	char	   *slash;

	*repo_path = NULL;
	if (sep != NULL && strncmp(location, "pgbackrest:", 11) == 0)
	{
		/* "pgbackrest:stanza=S [config=C] [repo=N] backup/S/L" */
		char	   *kw = pnstrdup(location + 11, sep - location - 11);
		char	   *tok;
		char	   *save;

		memset(cmd, 0, sizeof(*cmd));
		for (tok = strtok_r(kw, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		{
			if (strncmp(tok, "stanza=", 7) == 0)
				cmd->stanza = tok + 7;
			else if (strncmp(tok, "config=", 7) == 0)
				cmd->config = tok + 7;
			else if (strncmp(tok, "repo=", 5) == 0)
				cmd->repo = atoi(tok + 5);
		}
		slash = strrchr(sep, '/');
		*label = pstrdup(slash + 1);
		return cmd->stanza != NULL && (*label)[0] != '\0';
	}

	/* <repo>/backup/<stanza>/<label> */
	path = pstrdup(location);
	slash = strrchr(path, '/');
	if (slash == NULL || slash[1] == '\0')
		return false;
	*label = pstrdup(slash + 1);
	*slash = '\0';
	slash = strrchr(path, '/');
	if (slash == NULL)
		return false;
	memset(cmd, 0, sizeof(*cmd));
	cmd->stanza = pstrdup(slash + 1);
	*slash = '\0';
	slash = strrchr(path, '/');
	if (slash == NULL || strcmp(slash, "/backup") != 0)
		return false;
	*slash = '\0';
	*repo_path = path[0] ? path : pstrdup("/");
	return true;
}

bool
pitr_pgbackrest_restore_into(const char *location, const char *pgdata,
							 char **err)
{
	PitrPgbrCommand cmd;
	char	   *repo_path;
	char	   *label;
	char	   *errpath;
	StringInfoData line;

	if (!parse_backup_location(location, &cmd, &repo_path, &label))
	{
		*err = psprintf("\"%s\" is not where a pgBackRest repository keeps a backup",
						location);
		return false;
	}
	errpath = temp_file("err");
	initStringInfo(&line);
	if (repo_path != NULL)
	{
		/*
		 * A local repository: named by its path, without any configuration
		 * file, so nothing but this repository is touched.
		 */
		appendStringInfo(&line, "pgbackrest --config=/dev/null %s %s",
						 pitr_shell_quote(psprintf("--stanza=%s", cmd.stanza)),
						 pitr_shell_quote(psprintf("--repo1-path=%s", repo_path)));
		appendStringInfoString(&line, " --log-level-console=off --log-level-stderr=warn");
	}
	else
		appendStringInfoString(&line, base_command(&cmd));
	/*
	 * No target of pgBackRest's own (the caller writes the recovery
	 * settings), no log file, tablespaces where the backup recorded them.
	 */
	appendStringInfo(&line, " --log-level-file=off --type=none %s %s restore 2>%s",
					 pitr_shell_quote(psprintf("--set=%s", label)),
					 pitr_shell_quote(psprintf("--pg1-path=%s", pgdata)),
					 pitr_shell_quote(errpath));
	return run(line.data, errpath, NULL, err);
}
