/*-------------------------------------------------------------------------
 *
 * restore_target.c
 *	  Where a restore may be written.  A target directory is judged by its
 *	  real path (realpath of its parent), never by the string given, so a
 *	  symbolic link in the path cannot bring it inside the running server's
 *	  data directory, its tablespaces, the archive or the backups.  A
 *	  restore is built in a temporary sibling that carries a stamp; stale
 *	  temporary directories are removed only when they prove they are ours,
 *	  and without ever following a symbolic link.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file_perm.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "restore_target.h"
#include "util/gucs.h"
#include "source/pgbackrest_config.h"

/* Deeper than any data directory: removal gives up below this. */
#define MAX_REMOVE_DEPTH 64

/* First line of a stamp; the second is "pid <pid>". */
#define STAMP_HEADER "pitr_restore temporary directory\n"

static bool
path_within(const char *path, const char *dir)
{
	return strcmp(path, dir) == 0 || path_is_prefix_of_path(dir, path);
}

/*
 * The real path of "path", which need not exist: realpath of its nearest
 * existing ancestor, followed by the components below it.  NULL if even
 * "/" cannot be resolved.
 */
static char *
real_path_nearest(const char *path)
{
	char	   *head = pstrdup(path);
	char	   *tail = pstrdup("");

	canonicalize_path(head);
	for (;;)
	{
		char	   *real = realpath(head, NULL);
		char	   *slash;
		char	   *result;

		if (real != NULL)
		{
			if (tail[0] == '\0')
				result = pstrdup(real);
			else if (strcmp(real, "/") == 0)
				result = psprintf("/%s", tail);
			else
				result = psprintf("%s/%s", real, tail);
			free(real);
			canonicalize_path(result);
			return result;
		}
		slash = strrchr(head, '/');
		if (slash == NULL || strcmp(head, "/") == 0)
			return NULL;
		tail = tail[0] ? psprintf("%s/%s", slash + 1, tail) : pstrdup(slash + 1);
		if (slash == head)
			head[1] = '\0';
		else
			*slash = '\0';
	}
}

/* See restore_target.h. */
char *
restore_real_target(const char *target, char **parent)
{
	char	   *canon = pstrdup(target);
	char	   *par;
	char	   *real;
	const char *base;
	struct stat sb;

	canonicalize_path(canon);
	if (!is_absolute_path(canon))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("target directory \"%s\" is not an absolute path", target)));
	if (strcmp(canon, "/") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("target directory \"%s\" overlaps the data directory of the running server",
						canon)));
	if (lstat(canon, &sb) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_FILE),
				 errmsg("target directory \"%s\" already exists", canon),
				 errhint("Give a directory that does not exist yet; it is created complete or not at all.")));
	else if (errno != ENOENT)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat \"%s\": %m", canon)));

	par = pstrdup(canon);
	get_parent_directory(par);
	base = canon + strlen(par) + (strcmp(par, "/") == 0 ? 0 : 1);
	if (stat(par, &sb) != 0 || !S_ISDIR(sb.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("parent directory \"%s\" of the target directory does not exist",
						par)));
	real = realpath(par, NULL);
	if (real == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not resolve the real path of \"%s\": %m", par)));
	*parent = pstrdup(real);
	free(real);
	real = strcmp(*parent, "/") == 0 ? psprintf("/%s", base) :
		psprintf("%s/%s", *parent, base);
	if (strlen(real) >= MAXPGPATH - 64)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("target directory \"%s\" is too long", real)));
	return real;
}

/* ERROR if the real target and the real path of "dir" overlap. */
static void
check_clear_of(const char *target, const char *dir, const char *what)
{
	char	   *real;

	if (dir == NULL || dir[0] == '\0')
		return;
	real = real_path_nearest(dir);
	if (real == NULL)
		return;
	if (path_within(target, real) || path_within(real, target))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("target directory \"%s\" overlaps %s \"%s\"",
						target, what, real),
				 errdetail("A restore is never written inside the running server's data directory, its tablespaces, the archive or the base backups.")));
	pfree(real);
}

/* A directory setting as a path: relative ones are taken from DataDir. */
static char *
setting_path(const char *value)
{
	if (value == NULL || value[0] == '\0')
		return NULL;
	if (is_absolute_path(value))
		return pstrdup(value);
	/* "pgbackrest:stanza=..." and the like name no local directory here */
	if (strchr(value, ':') != NULL)
		return NULL;
	return psprintf("%s/%s", DataDir, value);
}

/*
 * The local pgBackRest repository of an archive location (keyword form or
 * "<repo>/archive/<stanza>"), NULL if it is none.  A Barman server
 * directory is the archive location itself, already kept clear.
 */
static char *
tool_repository(const char *location)
{
	char	   *stanza;

	if (location == NULL || location[0] == '\0')
		return NULL;
	return pitr_pgbackrest_local_repo(location, &stanza);
}

/* See restore_target.h. */
void
restore_check_target_clear(const char *target, const char *archive_dir,
						   const char *backup)
{
	char		tsdir[MAXPGPATH];
	DIR		   *dir;
	struct dirent *de;

	check_clear_of(target, DataDir, "the data directory of the running server");
	check_clear_of(target, psprintf("%s/pg_wal", DataDir),
				   "the WAL directory of the running server");

	/* each tablespace's real location, through its link in pg_tblspc */
	snprintf(tsdir, sizeof(tsdir), "%s/pg_tblspc", DataDir);
	dir = AllocateDir(tsdir);
	while (dir != NULL && (de = ReadDirExtended(dir, tsdir, LOG)) != NULL)
	{
		CHECK_FOR_INTERRUPTS();
		if (de->d_name[0] == '.')
			continue;
		check_clear_of(target, psprintf("%s/%s", tsdir, de->d_name),
					   "a tablespace of the running server");
	}
	if (dir != NULL)
		FreeDir(dir);

	check_clear_of(target, setting_path(pitr_archive_dir), "the archive");
	check_clear_of(target, setting_path(archive_dir), "the archive");
	/* a pgBackRest repository whole: archive/ and backup/, either form */
	check_clear_of(target, tool_repository(pitr_archive_dir),
				   "the pgBackRest repository");
	check_clear_of(target, tool_repository(archive_dir),
				   "the pgBackRest repository");
	check_clear_of(target, setting_path(pitr_backup_dir),
				   "the base backup directory");
	check_clear_of(target, backup, "the backup");
}

/* See restore_target.h. */
void
restore_make_tmpdir(const char *path)
{
	uint8		token[16];
	char		hex[sizeof(token) * 2 + 1];
	char		stamp[MAXPGPATH];
	char	   *content;
	int			fd;
	size_t		len;

	if (mkdir(path, pg_dir_create_mode) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create directory \"%s\": %m", path)));
	if (!pg_strong_random(token, sizeof(token)))
		memset(token, 0, sizeof(token));
	hex_encode((const char *) token, sizeof(token), hex);
	hex[sizeof(hex) - 1] = '\0';
	content = psprintf(STAMP_HEADER "pid %d\nstarted %s\ntoken %s\n",
					   MyProcPid, timestamptz_to_str(GetCurrentTimestamp()),
					   hex);
	len = strlen(content);
	snprintf(stamp, sizeof(stamp), "%s/%s", path, RESTORE_STAMP_FILE);
	fd = OpenTransientFile(stamp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | PG_BINARY);
	if (fd < 0 || write(fd, content, len) != (ssize_t) len)
	{
		int			save_errno = errno ? errno : ENOSPC;

		if (fd >= 0)
			CloseTransientFile(fd);
		restore_remove_tree(path);
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not write file \"%s\": %m", stamp)));
	}
	CloseTransientFile(fd);
	pfree(content);
}

/* See restore_target.h. */
void
restore_unstamp(const char *path)
{
	char		stamp[MAXPGPATH];

	snprintf(stamp, sizeof(stamp), "%s/%s", path, RESTORE_STAMP_FILE);
	if (unlink(stamp) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not remove file \"%s\": %m", stamp)));
}

/* Remove entry "name" of the directory open as dirfd, links not followed. */
static bool
remove_at(int dirfd, const char *name, int depth)
{
	struct stat st;
	int			fd;
	DIR		   *d;
	struct dirent *de;
	bool		ok = true;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) == 0 || errno == ENOENT;
	if (depth > MAX_REMOVE_DEPTH)
		return false;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	d = fdopendir(fd);
	if (d == NULL)
	{
		close(fd);
		return false;
	}
	while ((de = readdir(d)) != NULL)
	{
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (!remove_at(fd, de->d_name, depth + 1))
			ok = false;
	}
	closedir(d);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
		ok = false;
	return ok;
}

/* See restore_target.h. */
bool
restore_remove_tree(const char *path)
{
	char		parent[MAXPGPATH];
	char	   *slash;
	int			pfd;
	bool		ok;

	strlcpy(parent, path, sizeof(parent));
	slash = strrchr(parent, '/');
	if (slash == NULL || slash[1] == '\0')
		return false;
	if (slash == parent)
		strcpy(parent, "/");
	else
		*slash = '\0';
	pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return false;
	ok = remove_at(pfd, path + (slash - parent) + 1, 0);
	close(pfd);
	return ok;
}

/*
 * Why directory entry "name" of parentfd is not provably a temporary
 * directory of ours for "pid", or NULL when it is.
 */
static const char *
not_ours(int parentfd, const char *name, long pid)
{
	struct stat st;
	int			dfd;
	int			sfd;
	char		buf[256];
	char	   *expect;
	ssize_t		n;
	bool		match;

	if (fstatat(parentfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return "it cannot be examined";
	if (S_ISLNK(st.st_mode))
		return "it is a symbolic link";
	if (!S_ISDIR(st.st_mode))
		return "it is not a directory";
	if (st.st_uid != geteuid())
		return "it is owned by another user";
	dfd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return "it cannot be opened";
	sfd = openat(dfd, RESTORE_STAMP_FILE,
				 O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	close(dfd);
	if (sfd < 0)
		return "it has no pitr_restore stamp";
	if (fstat(sfd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid())
	{
		close(sfd);
		return "its stamp is not a regular file of ours";
	}
	n = read(sfd, buf, sizeof(buf) - 1);
	close(sfd);
	if (n < 0)
		return "its stamp cannot be read";
	if (n == 0)
		return "its stamp is empty";
	buf[n] = '\0';
	expect = psprintf(STAMP_HEADER "pid %ld\n", pid);
	match = strncmp(buf, expect, strlen(expect)) == 0;
	pfree(expect);
	return match ? NULL : "its stamp names another process";
}

/* See restore_target.h. */
void
restore_sweep_stale(const char *parent)
{
	restore_sweep_stale_with(parent, NULL);
}

/* See restore_target.h. */
void
restore_sweep_stale_with(const char *parent, restore_stale_hook before_remove)
{
	DIR		   *dir;
	struct dirent *de;
	int			pfd;

	pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open directory \"%s\": %m", parent)));
	dir = AllocateDir(parent);
	if (dir == NULL)
	{
		close(pfd);
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open directory \"%s\": %m", parent)));
	}
	while ((de = ReadDir(dir, parent)) != NULL)
	{
		char	   *suffix = strstr(de->d_name, RESTORE_TMP_SUFFIX);
		char	   *end;
		long		pid;
		const char *why;

		CHECK_FOR_INTERRUPTS();
		if (suffix == NULL)
			continue;
		suffix += strlen(RESTORE_TMP_SUFFIX);
		errno = 0;
		pid = strtol(suffix, &end, 10);
		if (errno != 0 || end == suffix || *end != '\0' || pid <= 0 ||
			pid > INT_MAX)
			continue;
		/* a live backend's build in progress */
		if (pid != MyProcPid && !(kill((pid_t) pid, 0) != 0 && errno == ESRCH))
			continue;
		why = not_ours(pfd, de->d_name, pid);

		/*
		 * A backend killed between mkdir and writing the stamp leaves an
		 * empty directory: rmdir removes only an empty directory, never
		 * through a link, so that needs no proof.
		 */
		if (why != NULL && unlinkat(pfd, de->d_name, AT_REMOVEDIR) == 0)
		{
			ereport(NOTICE,
					(errmsg("removed empty stale temporary directory \"%s/%s\"",
							parent, de->d_name)));
			continue;
		}
		if (why != NULL)
		{
			ereport(WARNING,
					(errmsg("not removing \"%s/%s\": %s",
							parent, de->d_name, why),
					 errdetail("Only temporary directories that pitr_restore provably made are removed.")));
			continue;
		}
		ereport(NOTICE,
				(errmsg("removing stale temporary directory \"%s/%s\"",
						parent, de->d_name)));
		if (before_remove != NULL)
		{
			int			dfd = openat(pfd, de->d_name,
									 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (dfd >= 0)
			{
				before_remove(dfd, psprintf("%s/%s", parent, de->d_name));
				close(dfd);
			}
		}
		if (!remove_at(pfd, de->d_name, 0))
		{
			close(pfd);
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not remove stale temporary directory \"%s/%s\": %m",
							parent, de->d_name)));
		}
	}
	FreeDir(dir);
	close(pfd);
}
