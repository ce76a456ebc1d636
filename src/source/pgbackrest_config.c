/*-------------------------------------------------------------------------
 *
 * pgbackrest_config.c
 *	  Resolving "pgbackrest:stanza=<name> [config=<file>] [repo=<n>]" the way
 *	  pgBackRest's archive-get does: the configuration file (default
 *	  /etc/pgbackrest/pgbackrest.conf, else /etc/pgbackrest.conf, plus
 *	  the conf.d directory), options looked up in [<stanza>:archive-get],
 *	  [<stanza>], [global:archive-get], [global], and the lowest-numbered
 *	  repository configured unless repo= names one.
 *
 * Environment variables (PGBACKREST_REPO1_PATH...) of the server's
 * environment are not consulted: the DBA's shell and the server's rarely
 * agree, and the configuration file is what both read.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "storage/fd.h"
#include "utils/builtins.h"

#include "format/archive_files.h"
#include "format/tool_ini.h"
#include "source/pgbackrest_config.h"

#define PGBR_DEFAULT_CONFIG "/etc/pgbackrest/pgbackrest.conf"
#define PGBR_OLD_DEFAULT_CONFIG "/etc/pgbackrest.conf"
#define PGBR_DEFAULT_INCLUDE "/etc/pgbackrest/conf.d"
#define PGBR_DEFAULT_REPO_PATH "/var/lib/pgbackrest"
#define PGBR_MAX_REPO 256
/* A configuration file larger than this is no configuration file. */
#define PGBR_MAX_CONFIG_SIZE (1024 * 1024)

/* Append a file's content (the one bounded reader); false if it does not exist. */
static bool
append_file(StringInfo buf, const char *path, bool must_exist)
{
	int64		len;
	char	   *data = pitr_read_whole_file_or_error(path,
													 "pgBackRest configuration file",
													 PGBR_MAX_CONFIG_SIZE,
													 !must_exist, &len);

	if (data == NULL)
		return false;
	appendBinaryStringInfo(buf, data, len);
	appendStringInfoChar(buf, '\n');
	pfree(data);
	return true;
}

static int
name_cmp(const ListCell *a, const ListCell *b)
{
	return strcmp(lfirst(a), lfirst(b));
}

/* The include directory's .conf files, in name order, as pgBackRest reads them. */
static void
append_include_dir(StringInfo buf, const char *dir)
{
	DIR		   *d = AllocateDir(dir);
	struct dirent *de;
	List	   *names = NIL;
	ListCell   *lc;

	if (d == NULL)
		return;					/* pgBackRest ignores a missing default */
	while ((de = ReadDir(d, dir)) != NULL)
	{
		size_t		len = strlen(de->d_name);

		if (len > 5 && strcmp(de->d_name + len - 5, ".conf") == 0)
			names = lappend(names, pstrdup(de->d_name));
	}
	FreeDir(d);
	list_sort(names, name_cmp);
	foreach(lc, names)
		append_file(buf, psprintf("%s/%s", dir, (char *) lfirst(lc)), false);
}

/* An option as archive-get for the stanza sees it. */
static const char *
option(const PitrIni *ini, const char *stanza, const char *name)
{
	const char *sections[4];
	const char *v;

	sections[0] = psprintf("%s:archive-get", stanza);
	sections[1] = stanza;
	sections[2] = "global:archive-get";
	sections[3] = "global";
	for (int i = 0; i < lengthof(sections); i++)
		if ((v = pitr_ini_get(ini, sections[i], name)) != NULL)
			return v;
	return NULL;
}

static const char *
repo_option(const PitrIni *ini, const char *stanza, int n, const char *what)
{
	const char *v = option(ini, stanza, psprintf("repo%d-%s", n, what));

	/* repo-path, repo-type... are pgBackRest's old names for repo1. */
	if (v == NULL && n == 1)
		v = option(ini, stanza, psprintf("repo-%s", what));
	return v;
}

/* keyword=value words; values may be single-quoted with \' and \\. */
static void
parse_keywords(const char *s, PitrPgbrRepo *out)
{
	const char *p = s;

	while (*p)
	{
		StringInfoData key,
					val;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		initStringInfo(&key);
		initStringInfo(&val);
		while (*p && *p != '=' && *p != ' ' && *p != '\t')
			appendStringInfoChar(&key, *p++);
		if (*p != '=')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("missing \"=\" after \"%s\" in pgBackRest location \"pgbackrest:%s\"",
							key.data, s)));
		p++;
		if (*p == '\'')
		{
			for (p++; *p && *p != '\''; p++)
			{
				if (*p == '\\' && p[1])
					p++;
				appendStringInfoChar(&val, *p);
			}
			if (*p != '\'')
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("unterminated quoted value in pgBackRest location \"pgbackrest:%s\"",
								s)));
			p++;
		}
		else
			while (*p && *p != ' ' && *p != '\t')
				appendStringInfoChar(&val, *p++);

		if (strcmp(key.data, "stanza") == 0)
			out->stanza = val.data;
		else if (strcmp(key.data, "config") == 0)
			out->config = val.data;
		else if (strcmp(key.data, "repo") == 0)
		{
			char	   *end;
			long		n = strtol(val.data, &end, 10);

			if (*val.data == '\0' || *end != '\0' || n < 1 || n > PGBR_MAX_REPO)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid repo \"%s\" in pgBackRest location", val.data),
						 errhint("repo is a repository number from 1 to %d.",
								 PGBR_MAX_REPO)));
			out->repo = (int) n;
		}
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown keyword \"%s\" in pgBackRest location", key.data),
					 errhint("The keywords are stanza, config and repo.")));
	}
	if (out->stanza == NULL || out->stanza[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pgBackRest location \"pgbackrest:%s\" names no stanza", s),
				 errhint("Write \"pgbackrest:stanza=<name>\".")));
	if (strchr(out->stanza, '/') || strcmp(out->stanza, "..") == 0 ||
		strcmp(out->stanza, ".") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid stanza name \"%s\"", out->stanza)));
}

void
pitr_pgbackrest_resolve(const char *keywords, PitrPgbrRepo *out)
{
	StringInfoData text;
	PitrIni		ini;
	char	   *msg;
	const char *v;

	memset(out, 0, sizeof(*out));
	parse_keywords(keywords, out);

	initStringInfo(&text);
	if (out->config)
	{
		if (!is_absolute_path(out->config))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("pgBackRest configuration file \"%s\" is not an absolute path",
							out->config)));
		append_file(&text, out->config, true);
	}
	else if (!append_file(&text, PGBR_DEFAULT_CONFIG, false))
		append_file(&text, PGBR_OLD_DEFAULT_CONFIG, false);

	if (pitr_ini_parse(text.data, text.len, false, &ini, &msg) != PITR_PARSE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("could not parse pgBackRest configuration \"%s\"",
						out->config ? out->config : PGBR_DEFAULT_CONFIG),
				 errdetail("%s", msg)));

	/* config-include-path from the file, else the default when implicit. */
	v = pitr_ini_get(&ini, "global", "config-include-path");
	if (v != NULL || out->config == NULL)
	{
		int			before = text.len;

		append_include_dir(&text, v ? v : PGBR_DEFAULT_INCLUDE);
		if (text.len != before &&
			pitr_ini_parse(text.data, text.len, false, &ini, &msg) != PITR_PARSE_OK)
			ereport(ERROR,
					(errcode(ERRCODE_CONFIG_FILE_ERROR),
					 errmsg("could not parse pgBackRest configuration include files"),
					 errdetail("%s", msg)));
	}

	if (out->repo > 0)
		out->repo_index = out->repo;
	else
	{
		out->repo_index = 1;
		for (int n = 1; n <= PGBR_MAX_REPO; n++)
			if (repo_option(&ini, out->stanza, n, "path") ||
				repo_option(&ini, out->stanza, n, "type"))
			{
				out->repo_index = n;
				break;
			}
	}
	v = repo_option(&ini, out->stanza, out->repo_index, "type");
	out->type = pstrdup(v ? v : "posix");
	v = repo_option(&ini, out->stanza, out->repo_index, "path");
	out->path = pstrdup(v ? v : PGBR_DEFAULT_REPO_PATH);
	canonicalize_path(out->path);
	v = repo_option(&ini, out->stanza, out->repo_index, "cipher-type");
	out->cipher = pstrdup(v ? v : "none");
	out->local = (strcmp(out->type, "posix") == 0 ||
				  strcmp(out->type, "cifs") == 0) &&
		strcmp(out->cipher, "none") == 0;
	if (out->local && !is_absolute_path(out->path))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("pgBackRest repo%d-path \"%s\" is not an absolute path",
						out->repo_index, out->path)));
}

/*
 * The root of the local pgBackRest repository an archive location belongs
 * to, and its stanza: the keyword form's repoN-path when the repository is
 * local, or "<repo>" of a directory "<repo>/archive/<stanza>" holding
 * archive.info.  NULL for anything else (a flat archive, Barman, a remote
 * or encrypted repository).  Reads the configuration only, runs nothing.
 */
char *
pitr_pgbackrest_local_repo(const char *location, char **stanza)
{
	char	   *dir;
	char	   *slash;
	struct stat st;

	if (strncmp(location, "pgbackrest:", 11) == 0)
	{
		PitrPgbrRepo repo;

		pitr_pgbackrest_resolve(location + 11, &repo);
		if (!repo.local || repo.path == NULL)
			return NULL;
		*stanza = repo.stanza;
		dir = pstrdup(repo.path);
		canonicalize_path(dir);
		return dir;
	}
	if (!is_absolute_path(location) ||
		(stat(psprintf("%s/archive.info", location), &st) != 0 &&
		 stat(psprintf("%s/archive.info.copy", location), &st) != 0))
		return NULL;
	dir = pstrdup(location);
	canonicalize_path(dir);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return NULL;
	*stanza = pstrdup(slash + 1);
	*slash = '\0';
	slash = strrchr(dir, '/');
	if (slash == NULL || strcmp(slash, "/archive") != 0)
		return NULL;
	*slash = '\0';
	return dir[0] ? dir : pstrdup("/");
}

/*
 * _repository_backup_dir(location text): "<repo>/backup/<stanza>" of a
 * local pgBackRest repository, whichever form names it, else NULL; what
 * lets the directory and keyword forms list the same backups.
 */
PG_FUNCTION_INFO_V1(pitr_repository_backup_dir);
Datum
pitr_repository_backup_dir(PG_FUNCTION_ARGS)
{
	char	   *stanza;
	char	   *repo = pitr_pgbackrest_local_repo(text_to_cstring(PG_GETARG_TEXT_PP(0)),
												  &stanza);

	if (repo == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(strcmp(repo, "/") == 0 ?
									 psprintf("/backup/%s", stanza) :
									 psprintf("%s/backup/%s", repo, stanza)));
}
