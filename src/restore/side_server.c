/*-------------------------------------------------------------------------
 *
 * side_server.c
 *	  A private side server: a prepare_restore'd data directory started as
 *	  this server's OS user, listening only on a Unix socket in a 0700
 *	  directory of its own, paused at the recovery target, then stopped
 *	  (immediate) and removed whatever happens.
 *
 * The directory is made with mkdtemp under pitr_restore.side_server_dir
 * (default $TMPDIR or /tmp); prepare_restore's own checks keep it out of
 * the data directory, its tablespaces, the archive and the backups.  The
 * server is started with the pg_ctl next to this server's postgres
 * binary; the settings that make it private are appended to its
 * postgresql.auto.conf, after the recovery settings, so they win.  A
 * backend that exits with a side server still there (FATAL, terminate)
 * stops and removes it from a before_shmem_exit callback.  A backend that
 * cannot (kill -9, a crash) leaves its directory, and maybe its server:
 * the directory is a stamped temporary directory of restore_target.c
 * ("pitr_restore_side.pitr_restore_tmp.<pid>"), so the next side server
 * built under the same directory sweeps it by prepare_restore's one rule,
 * and first stops the server still running in it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "catalog/pg_authid.h"
#include "common/file_perm.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "format/quote.h"
#include "restore/restore_target.h"
#include "restore/side_server.h"
#include "util/file_io.h"

char	   *pitr_side_server_dir = NULL;

/* The side server of this backend, if any: removed at exit too. */
static PitrSideServer *active = NULL;
static bool exit_callback_registered = false;

void
pitr_side_define_gucs(void)
{
	DefineCustomStringVariable("pitr_restore.side_server_dir",
							   "Directory in which restore_table builds its temporary side servers.",
							   "Empty: $TMPDIR, else /tmp.  Each side server gets a private "
							   "subdirectory, removed when the copy ends.",
							   &pitr_side_server_dir,
							   NULL,
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);
}

static void
side_exit_callback(int code, Datum arg)
{
	if (active)
		pitr_side_destroy(active);
}

/* Wait up to "tenths" tenths of a second for process "pid" to be gone. */
static bool
wait_gone(pid_t pid, int tenths)
{
	for (int i = 0; i < tenths; i++)
	{
		if (kill(pid, 0) != 0 && errno == ESRCH)
			return true;
		pg_usleep(100000L);
	}
	return kill(pid, 0) != 0 && errno == ESRCH;
}

/*
 * Whether process "pid" runs in "datadir", as a postmaster does: its
 * working directory, where /proc tells; elsewhere postmaster.pid (under
 * our own directory) is all there is, as for pg_ctl.
 */
static bool
runs_in(pid_t pid, const char *datadir)
{
	char		link[MAXPGPATH];
	char	   *real;
	ssize_t		n;
	bool		same;

	if (access("/proc/self/cwd", F_OK) != 0)
		return true;
	n = readlink(psprintf("/proc/%d/cwd", (int) pid), link, sizeof(link) - 1);
	if (n < 0 || (real = realpath(datadir, NULL)) == NULL)
		return false;
	link[n] = '\0';
	same = strcmp(link, real) == 0;
	free(real);
	return same;
}

/*
 * Before the sweep removes a side directory of a dead backend: stop the
 * side server that backend left running in it.  Only the postmaster its
 * postmaster.pid names (read without following a link, under the proven
 * directory), if that file names this very data directory and the
 * process runs in it; SIGQUIT is an immediate shutdown.
 */
static void
stop_stale_side_server(int dirfd, const char *path)
{
	char	   *datadir = psprintf("%s/data", path);
	char		buf[MAXPGPATH + 64];
	char	   *line2;
	char	   *end;
	int			datafd;
	int			fd;
	ssize_t		n;
	long		pid;

	datafd = openat(dirfd, "data", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (datafd < 0)
		return;
	fd = openat(datafd, "postmaster.pid", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	close(datafd);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	pid = strtol(buf, &end, 10);
	if (end == buf || *end != '\n' || pid <= 0 || pid > INT_MAX ||
		pid == PostmasterPid || pid == MyProcPid)
		return;
	line2 = end + 1;
	if ((end = strchr(line2, '\n')) == NULL)
		return;
	*end = '\0';
	canonicalize_path(line2);
	canonicalize_path(datadir);
	if (strcmp(line2, datadir) != 0 || kill((pid_t) pid, 0) != 0 ||
		!runs_in((pid_t) pid, datadir))
		return;
	ereport(NOTICE,
			(errmsg("stopping the side server (pid %ld) a backend that is gone left running in \"%s\"",
					pid, datadir)));
	if (kill((pid_t) pid, SIGQUIT) == 0 && !wait_gone((pid_t) pid, 150))
		ereport(WARNING,
				(errmsg("side server (pid %ld) in \"%s\" did not stop", pid, datadir)));
}

PitrSideServer *
pitr_side_create(void)
{
	const char *base = pitr_side_server_dir;
	PitrSideServer *s;
	char	   *path;

	if (base == NULL || base[0] == '\0')
		base = getenv("TMPDIR");
	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	if (active != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("this session already runs a side server")));
	if (!exit_callback_registered)
	{
		before_shmem_exit(side_exit_callback, (Datum) 0);
		exit_callback_registered = true;
	}

	/* What backends that are gone left here (this backend has none). */
	restore_sweep_stale_with(base, stop_stale_side_server);
	path = psprintf("%s/pitr_restore_side%s%d", base, RESTORE_TMP_SUFFIX, MyProcPid);
	restore_make_tmpdir(path);
	/* 0700 even with group access: only this OS user reaches the socket. */
	if (chmod(path, S_IRWXU) != 0)
	{
		restore_remove_tree(path);
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not set permissions of directory \"%s\": %m", path)));
	}

	s = MemoryContextAllocZero(TopMemoryContext, sizeof(PitrSideServer));
	s->dir = MemoryContextStrdup(TopMemoryContext, path);
	s->datadir = MemoryContextStrdup(TopMemoryContext, psprintf("%s/data", path));
	s->logfile = MemoryContextStrdup(TopMemoryContext, psprintf("%s/server.log", path));
	s->port = 5432;
	active = s;
	return s;
}

void
pitr_side_check_space(PitrSideServer *s, int64 bytes)
{
	struct statvfs st;
	int64		avail;

	if (statvfs(s->dir, &st) != 0)
		return;					/* nothing to say: let the copy tell */
	avail = (int64) st.f_bavail * (int64) st.f_frsize;
	if (avail < bytes)
		ereport(ERROR,
				(errcode(ERRCODE_DISK_FULL),
				 errmsg("not enough disk space for the side server"),
				 errdetail("The base backup needs about %lld bytes; \"%s\" has %lld bytes available.",
						   (long long) bytes, s->dir, (long long) avail),
				 errhint("Set \"pitr_restore.side_server_dir\" to a file system with room for a copy of the backup.")));
}

/* Add text to a file of the side server's, made if missing (its directory is ours). */
static void
append_file(const char *path, const char *text)
{
	int			fd = pitr_open_file(path,
									O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | PG_BINARY);

	pitr_write_file(fd, path, text, strlen(text));
	pitr_close_file(fd, path);
}

void
pitr_side_configure(PitrSideServer *s)
{
	char	   *hba = psprintf("%s/pg_hba.conf", s->dir);
	StringInfoData conf;

	/* Only this OS user reaches the 0700 socket directory. */
	append_file(hba, "local all all trust\n");
	initStringInfo(&conf);
	appendStringInfo(&conf,
					 "\n# pitr_restore side server: a private copy\n"
					 "archive_mode = off\n"
					 "listen_addresses = ''\n"
					 "port = %d\n"
					 "unix_socket_directories = %s\n"
					 "hba_file = %s\n"
					 "primary_conninfo = ''\n"
					 "primary_slot_name = ''\n"
					 "shared_preload_libraries = ''\n"
					 "hot_standby = on\n"
					 "recovery_target_action = 'pause'\n"
					 "ssl = off\n"
					 "logging_collector = off\n"
					 "shared_buffers = '128MB'\n"
					 "cluster_name = 'pitr_restore side server'\n",
					 s->port, pitr_quote_conf(s->dir), pitr_quote_conf(hba));
	append_file(psprintf("%s/postgresql.auto.conf", s->datadir), conf.data);
}

static char *
pg_ctl_path(void)
{
	char		bindir[MAXPGPATH];

	strlcpy(bindir, my_exec_path, sizeof(bindir));
	get_parent_directory(bindir);
	return psprintf("%s/pg_ctl", bindir);
}

/* The postmaster's pid from postmaster.pid, or 0. */
static pid_t
side_pid(PitrSideServer *s)
{
	FILE	   *f = fopen(psprintf("%s/postmaster.pid", s->datadir), "r");
	long		pid = 0;

	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return (pid_t) pid;
}

/* The end of the side server's log, for an error's detail. */
static char *
log_tail(PitrSideServer *s)
{
	FILE	   *f = fopen(s->logfile, "r");
	char		buf[2048];
	size_t		n;
	long		len;

	if (f == NULL)
		return pstrdup("(no log)");
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, len > (long) sizeof(buf) - 1 ? len - (long) sizeof(buf) + 1 : 0, SEEK_SET);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return pstrdup(buf);
}

static void
nap(void)
{
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					 100L, PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
}

static void
side_died(PitrSideServer *s, const char *when)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("the side server stopped %s", when),
			 errdetail("Its log ends with: %s", log_tail(s))));
}

/*
 * What pg_ctl starts must not inherit this backend's descriptors: the
 * client's socket above all, or the client of a backend killed while its
 * side server runs would wait as long as the side server lives.  From
 * PostgreSQL 16 a backend opens them close-on-exec; older ones do not.  A
 * backend never execs itself, so marking them all does it no harm.
 */
static void
descriptors_close_on_exec(void)
{
	DIR		   *d = opendir("/proc/self/fd");
	struct dirent *de;

	if (d == NULL)
	{
		for (int fd = 3; fd < 4096; fd++)
			(void) fcntl(fd, F_SETFD, FD_CLOEXEC);
		return;
	}
	while ((de = readdir(d)) != NULL)
	{
		int			fd = atoi(de->d_name);
		int			flags;

		if (fd > 2 && fd != dirfd(d) && (flags = fcntl(fd, F_GETFD)) >= 0)
			(void) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
	}
	closedir(d);
}

static void
start_server(PitrSideServer *s)
{
	char	   *cmd;
	int			rc;

	cmd = psprintf("%s start -W -D %s -l %s >>%s 2>&1",
				   pitr_quote_shell(pg_ctl_path()), pitr_quote_shell(s->datadir),
				   pitr_quote_shell(s->logfile), pitr_quote_shell(s->logfile));
	fflush(NULL);
	descriptors_close_on_exec();
	rc = system(cmd);
	s->started = true;
	if (rc != 0)
		side_died(s, "as it started");
}

/* Wait until it accepts connections, then connect to dbname. */
static void
connect_side(PitrSideServer *s, const char *dbname)
{
	const char *keys[] = {"host", "port", "dbname", "user", "application_name",
	"client_encoding", NULL};
	const char *vals[7];
	char		port[16];
	int			waited = 0;

	snprintf(port, sizeof(port), "%d", s->port);
	vals[0] = s->dir;
	vals[1] = port;
	vals[2] = dbname;
	vals[3] = GetUserNameFromId(BOOTSTRAP_SUPERUSERID, false);
	vals[4] = "pitr_restore";
	vals[5] = GetDatabaseEncodingName();
	vals[6] = NULL;
	for (;;)
	{
		pid_t		pid = side_pid(s);

		if (PQpingParams(keys, vals, 0) == PQPING_OK)
			break;
		if ((pid == 0 && waited > 600) || (pid != 0 && kill(pid, 0) != 0))
			side_died(s, "before reaching a consistent state");
		waited++;
		nap();
	}
	s->conn = PQconnectdbParams(keys, vals, 0);
	if (PQstatus(s->conn) != CONNECTION_OK)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("could not connect to the side server: %s",
						PQerrorMessage(s->conn))));
}

/* Names in what the catalog deparses come qualified. */
static void
side_session(PitrSideServer *s)
{
	PQclear(pitr_side_query(s, "SELECT pg_catalog.set_config('search_path', '', false), "
							"pg_catalog.set_config('datestyle', 'ISO', false), "
							"pg_catalog.set_config('extra_float_digits', '3', false)",
							PGRES_TUPLES_OK));
}

void
pitr_side_start_and_wait(PitrSideServer *s, const char *dbname)
{
	start_server(s);
	connect_side(s, dbname);
	for (;;)
	{
		PGresult   *res = pitr_side_query(s,
										  "SELECT pg_catalog.pg_is_in_recovery(), "
										  "pg_catalog.pg_get_wal_replay_pause_state()",
										  PGRES_TUPLES_OK);
		bool		paused = strcmp(PQgetvalue(res, 0, 0), "t") != 0 ||
			strcmp(PQgetvalue(res, 0, 1), "paused") == 0;

		PQclear(res);
		if (paused)
			break;
		nap();
	}

	/*
	 * Paused at the target, the transactions in progress there still hold
	 * their replayed locks (a DROP's AccessExclusiveLock on the very table
	 * wanted, when the target is just before it).  The copy is private:
	 * end recovery there, which aborts them, and read the promoted copy.
	 */
	PQclear(pitr_side_query(s, "SELECT pg_catalog.pg_wal_replay_resume()",
							PGRES_TUPLES_OK));
	for (;;)
	{
		PGresult   *res = pitr_side_query(s, "SELECT pg_catalog.pg_is_in_recovery()",
										  PGRES_TUPLES_OK);
		bool		done = strcmp(PQgetvalue(res, 0, 0), "f") == 0;

		PQclear(res);
		if (done)
			break;
		nap();
	}
	side_session(s);
}

PitrSideServer *
pitr_side_attach(const char *dir, int port, const char *dbname)
{
	PitrSideServer *s = palloc0(sizeof(PitrSideServer));

	s->dir = pstrdup(dir);
	s->datadir = psprintf("%s/data", dir);
	s->logfile = psprintf("%s/server.log", dir);
	s->port = port;
	connect_side(s, dbname);
	side_session(s);
	return s;
}

void
pitr_side_detach(PitrSideServer *s)
{
	if (s->conn)
		PQfinish(s->conn);
	s->conn = NULL;
}

PGresult *
pitr_side_query(PitrSideServer *s, const char *sql, ExecStatusType expect)
{
	PGresult   *res = PQexec(s->conn, sql);

	if (PQresultStatus(res) != expect)
	{
		char	   *msg = pstrdup(PQerrorMessage(s->conn));

		PQclear(res);
		if (PQstatus(s->conn) != CONNECTION_OK)
			side_died(s, "while being read");
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_EXCEPTION),
				 errmsg("query on the side server failed: %s", msg)));
	}
	return res;
}

/* Remove what we made; errors are only logged. */
void
pitr_side_destroy(PitrSideServer *s)
{
	pitr_side_detach(s);
	if (s->started)
	{
		char	   *cmd = psprintf("%s stop -D %s -m immediate -w >>%s 2>&1",
								   pitr_quote_shell(pg_ctl_path()),
								   pitr_quote_shell(s->datadir),
								   pitr_quote_shell(s->logfile));
		pid_t		pid = side_pid(s);

		fflush(NULL);
		if (system(cmd) != 0 && pid != 0 && kill(pid, 0) == 0)
		{
			/* pg_ctl could not: SIGQUIT is an immediate shutdown */
			(void) kill(pid, SIGQUIT);
			for (int i = 0; i < 100 && kill(pid, 0) == 0; i++)
				pg_usleep(100000L);
		}
		s->started = false;
	}
	if (s->dir && !rmtree(s->dir, true))
		elog(WARNING, "could not remove side server directory \"%s\"", s->dir);
	if (active == s)
		active = NULL;
	if (s->dir)
		pfree(s->dir);
	pfree(s->datadir);
	pfree(s->logfile);
	s->dir = NULL;
	pfree(s);
}
