/*-------------------------------------------------------------------------
 *
 * pgbackrest_exec.c
 *	  Running the pgbackrest binary to list and fetch repository files
 *	  (repo-ls, repo-get), so pitr_restore reaches every store pgBackRest
 *	  reaches, decrypted by pgBackRest itself, without an object-storage
 *	  client of its own.
 *
 * The program runs in a process group of its own, read without blocking:
 * a cancel, statement_timeout or termination kills the group and returns
 * at once.  Only a caller with pg_execute_server_program, outside any
 * security-restricted operation, runs it (util/privilege.c).
 *
 * stderr goes to a temporary file so a failure can say why; temporary
 * files live in base/pgsql_tmp and are removed by a memory context
 * callback, so an ERROR or a cancel leaves nothing behind.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/wait_event.h"

#include "compat/pg_compat.h"
#include "format/quote.h"
#include "source/pgbackrest_exec.h"
#include "util/privilege.h"

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

void
pitr_pgbackrest_check_privilege(void)
{
	pitr_check_program_privilege("read a pgBackRest repository through the pgbackrest program");
}

static char *
base_command(const PitrPgbrCommand *cmd)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "pgbackrest %s",
					 pitr_quote_shell(psprintf("--stanza=%s", cmd->stanza)));
	if (cmd->config)
		appendStringInfo(&buf, " %s",
						 pitr_quote_shell(psprintf("--config=%s", cmd->config)));
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

/* The program run() started, for the cleanup on ERROR, FATAL or cancel. */
typedef struct Child
{
	pid_t		pid;			/* 0 once reaped */
	int			fd;				/* its stdout; -1 once closed */
} Child;

/* Kill the child's whole process group (the shell and pgbackrest) and reap it. */
static void
child_kill(int code, Datum arg)
{
	Child	   *c = (Child *) DatumGetPointer(arg);

	if (c->pid > 0)
	{
		kill(-c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
		c->pid = 0;
	}
	if (c->fd >= 0)
	{
		close(c->fd);
		c->fd = -1;
	}
}

/* Start "/bin/sh -c cmdline" in a process group of its own, stdout piped. */
static void
child_start(Child *c, const char *cmdline)
{
	int			fds[2];

	if (pipe(fds) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create pipe: %m")));
	fflush(NULL);
	c->pid = fork();
	if (c->pid == 0)
	{
		/* The child: only async-signal-safe calls until exec. */
		setpgid(0, 0);
		pqsignal(SIGPIPE, SIG_DFL);
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execl("/bin/sh", "sh", "-c", cmdline, (char *) NULL);
		_exit(127);
	}
	close(fds[1]);
	if (c->pid < 0)
	{
		close(fds[0]);
		c->pid = 0;
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not execute command \"%s\": %m", cmdline)));
	}
	setpgid(c->pid, c->pid);	/* also here, so kill(-pid) never misses */
	c->fd = fds[0];
	if (fcntl(c->fd, F_SETFL, O_NONBLOCK) != 0)
		elog(ERROR, "could not make a pipe non-blocking: %m");
}

/*
 * Read the child's stdout to its end and wait for it to exit, sleeping on
 * the latch so a cancel, statement_timeout or termination is seen at once
 * (the caller's cleanup then kills the program).  Returns the wait status.
 */
static int
child_wait(Child *c, StringInfo out)
{
	char		chunk[65536];
	int			status;

	while (c->fd >= 0)
	{
		ssize_t		n = read(c->fd, chunk, sizeof(chunk));

		if (n > 0)
		{
			if (out)
				appendBinaryStringInfo(out, chunk, n);
			CHECK_FOR_INTERRUPTS();
			continue;
		}
		if (n == 0)
		{
			close(c->fd);
			c->fd = -1;
			break;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read from the pgbackrest program: %m")));
		(void) WaitLatchOrSocket(MyLatch,
								 WL_LATCH_SET | WL_SOCKET_READABLE |
								 WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
								 c->fd, 1000, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	/* stdout closed: wait for the exit, still cancellable. */
	for (;;)
	{
		pid_t		r = waitpid(c->pid, &status, WNOHANG);

		if (r == c->pid)
			break;
		if (r < 0 && errno != EINTR)
			ereport(ERROR,
					(errmsg("could not wait for the pgbackrest program: %m")));
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 10, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	c->pid = 0;
	return status;
}

/*
 * Run a command line; stdout into "out" unless it is redirected.  Only for
 * a caller who may run programs; a cancel kills it.
 */
static bool
run(const char *cmdline, const char *errpath, StringInfo out, char **err)
{
	Child		c = {0, -1};
	int			rc = 0;

	pitr_check_program_privilege("run the pgbackrest program");
	PG_ENSURE_ERROR_CLEANUP(child_kill, PointerGetDatum(&c));
	{
		child_start(&c, cmdline);
		rc = child_wait(&c, out);
	}
	PG_END_ENSURE_ERROR_CLEANUP(child_kill, PointerGetDatum(&c));
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
								   pitr_quote_shell(errpath));
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
								   pitr_quote_shell(repo_path),
								   pitr_quote_shell(dest),
								   pitr_quote_shell(errpath));

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
						 pitr_quote_shell(psprintf("--stanza=%s", cmd.stanza)),
						 pitr_quote_shell(psprintf("--repo1-path=%s", repo_path)));
		appendStringInfoString(&line, " --log-level-console=off --log-level-stderr=warn");
	}
	else
		appendStringInfoString(&line, base_command(&cmd));
	/*
	 * No target of pgBackRest's own (the caller writes the recovery
	 * settings), no log file, tablespaces where the backup recorded them.
	 */
	appendStringInfo(&line, " --log-level-file=off --type=none %s %s restore 2>%s",
					 pitr_quote_shell(psprintf("--set=%s", label)),
					 pitr_quote_shell(psprintf("--pg1-path=%s", pgdata)),
					 pitr_quote_shell(errpath));
	return run(line.data, errpath, NULL, err);
}
