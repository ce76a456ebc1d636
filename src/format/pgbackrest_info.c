/*-------------------------------------------------------------------------
 *
 * pgbackrest_info.c
 *	  pgBackRest's repository files, read without pgBackRest: archive.info
 *	  (which database the archive holds, and its archive id "15-1"),
 *	  backup.info (every backup and the prior it depends on), a backup's
 *	  backup.manifest, and the names of archived files
 *	  ("<segment>-<sha1>.zst").
 *
 * The files are INI with JSON values.  Their backrest-checksum is not
 * verified here (pgBackRest keeps a .copy of each; the caller falls back to
 * it when the main file does not parse).
 *
 *-------------------------------------------------------------------------
 */
/* Frontend too, for the fuzzing harness (test/fuzz/). */
#ifdef FRONTEND
#include "postgres_fe.h"
#else
#include "postgres.h"
#endif

#include "access/xlog_internal.h"
#include "common/jsonapi.h"
#include "common/string.h"
#include "mb/pg_wchar.h"

#include "compat/pg_compat.h"
#include "format/pgbackrest_info.h"

/* A required key's value as a JSON scalar. */
static PitrParseStatus
get_scalar(const PitrIni *ini, const char *section, const char *key,
		   bool required, char **out, char **msg)
{
	const char *raw = pitr_ini_get(ini, section, key);
	bool		isnull;
	PitrParseStatus rc;

	*out = NULL;
	if (raw == NULL)
	{
		if (!required)
			return PITR_PARSE_OK;
		*msg = psprintf("key \"%s\" is missing from section [%s]", key, section);
		return PITR_PARSE_MISSING;
	}
	rc = pitr_json_scalar(raw, out, &isnull, msg);
	if (rc != PITR_PARSE_OK)
		*msg = psprintf("[%s] %s: %s", section, key, *msg);
	return rc;
}

static bool
parse_uint64(const char *s, uint64 *v)
{
	char	   *end;

	if (s == NULL || !isdigit((unsigned char) *s))
		return false;
	errno = 0;
	*v = strtou64(s, &end, 10);
	return errno == 0 && *end == '\0';
}

static bool
parse_int(const char *s, int *v)
{
	uint64		u;

	if (!parse_uint64(s, &u) || u > PG_INT32_MAX)
		return false;
	*v = (int) u;
	return true;
}

/* A db-version ("15", "9.6"): it starts an archive id, "15-1". */
static bool
is_db_version(const char *v)
{
	return v != NULL && !strchr(v, '/') && !strchr(v, '-') && strlen(v) <= 16;
}

PitrParseStatus
pitr_parse_pgbackrest_archive_info(const char *buf, size_t len,
								   PitrPgbrArchiveInfo *out, char **msg)
{
	PitrIni		ini;
	const PitrIniEntry *e;
	PitrParseStatus rc;
	char	   *v;

	memset(out, 0, sizeof(*out));
	if ((rc = pitr_ini_parse(buf, len, false, &ini, msg)) != PITR_PARSE_OK)
		return rc;

	if ((rc = get_scalar(&ini, "db", "db-id", true, &v, msg)) != PITR_PARSE_OK)
		return rc;
	if (!parse_int(v, &out->current.id))
		goto invalid_id;
	if ((rc = get_scalar(&ini, "db", "db-system-id", true, &v, msg)) != PITR_PARSE_OK)
		return rc;
	if (!parse_uint64(v, &out->current.system_identifier))
	{
		*msg = psprintf("[db] db-system-id \"%s\" is not a number", v);
		return PITR_PARSE_INVALID;
	}
	if ((rc = get_scalar(&ini, "db", "db-version", true, &v, msg)) != PITR_PARSE_OK)
		return rc;
	if (!is_db_version(v))
	{
		*msg = psprintf("[db] db-version \"%s\" is not a version", v ? v : "null");
		return PITR_PARSE_INVALID;
	}
	out->current.version = v;
	out->current.archive_id = psprintf("%s-%d", v, out->current.id);

	/* [db:history]: "<id>={"db-id":<system id>,"db-version":"15"}" */
	out->history = palloc(sizeof(PitrPgbrDb) * (ini.n + 1));
	for (int i = 0; (e = pitr_ini_next(&ini, "db:history", &i)) != NULL;)
	{
		PitrJsonFields f;
		PitrPgbrDb *h = &out->history[out->n_history];
		const char *ver;

		if (!parse_int(e->key, &h->id))
		{
			*msg = psprintf("[db:history] key \"%s\" is not a number", e->key);
			return PITR_PARSE_INVALID;
		}
		if ((rc = pitr_json_object_fields(e->value, &f, msg)) != PITR_PARSE_OK)
			return rc;
		ver = pitr_json_get(&f, "db-version");
		if (!parse_uint64(pitr_json_get(&f, "db-id"), &h->system_identifier) ||
			!is_db_version(ver))
		{
			*msg = psprintf("[db:history] entry %d is malformed", h->id);
			return PITR_PARSE_INVALID;
		}
		h->version = pstrdup(ver);
		h->archive_id = psprintf("%s-%d", ver, h->id);
		out->n_history++;
	}
	return PITR_PARSE_OK;

invalid_id:
	*msg = psprintf("[db] db-id \"%s\" is not a number", v ? v : "null");
	return PITR_PARSE_INVALID;
}

/* Fill a backup from its JSON fields (backup.info) or INI keys (manifest). */
typedef const char *(*field_getter) (const void *src, const char *key);

static const char *
json_getter(const void *src, const char *key)
{
	return pitr_json_get((const PitrJsonFields *) src, key);
}

/* A backup's LSN field, "X/X". */
static PitrParseStatus
get_backup_lsn(const char *label, field_getter get, const void *src,
			   const char *key, XLogRecPtr *lsn, char **msg)
{
	const char *s = get(src, key);

	if (s != NULL && pitr_parse_lsn_text(s, lsn))
		return PITR_PARSE_OK;
	*msg = psprintf("backup %s: %s is missing or malformed", label, key);
	return s ? PITR_PARSE_INVALID : PITR_PARSE_MISSING;
}

/* A backup's WAL file name field, palloc'd; NULL if it is not one. */
static char *
get_backup_wal_name(const char *label, field_getter get, const void *src,
					const char *key, char **msg)
{
	const char *s = get(src, key);

	if (s == NULL || strlen(s) != XLOG_FNAME_LEN ||
		strspn(s, "0123456789ABCDEF") != XLOG_FNAME_LEN)
	{
		*msg = psprintf("backup %s: %s is missing or malformed", label, key);
		return NULL;
	}
	return pstrdup(s);
}

static PitrParseStatus
fill_backup(PitrRepoBackup *b, const char *label, field_getter get,
			const void *src, char **msg)
{
	const char *type = get(src, "backup-type");
	const char *s;
	PitrParseStatus rc;

	b->format = "pgbackrest";
	b->label = pstrdup(label);

	if (type == NULL)
	{
		*msg = psprintf("backup %s: backup-type is missing", label);
		return PITR_PARSE_MISSING;
	}
	if (strcmp(type, "full") == 0)
		b->type = PITR_REPO_BACKUP_FULL;
	else if (strcmp(type, "diff") == 0)
		b->type = PITR_REPO_BACKUP_DIFF;
	else if (strcmp(type, "incr") == 0)
		b->type = PITR_REPO_BACKUP_INCR;
	else
	{
		*msg = psprintf("backup %s: unknown backup-type \"%s\"", label, type);
		return PITR_PARSE_INVALID;
	}
	s = get(src, "backup-prior");
	b->prior = s ? pstrdup(s) : NULL;
	if (b->type != PITR_REPO_BACKUP_FULL && b->prior == NULL)
	{
		*msg = psprintf("backup %s: %s backup without backup-prior", label, type);
		return PITR_PARSE_MISSING;
	}

	/* Old offline backups have no LSNs; they are of no use for PITR. */
	rc = get_backup_lsn(label, get, src, "backup-lsn-start", &b->start_lsn, msg);
	if (rc != PITR_PARSE_OK)
		return rc;
	rc = get_backup_lsn(label, get, src, "backup-lsn-stop", &b->stop_lsn, msg);
	if (rc != PITR_PARSE_OK)
		return rc;
	b->wal_start = get_backup_wal_name(label, get, src, "backup-archive-start", msg);
	if (b->wal_start == NULL)
		return PITR_PARSE_INVALID;
	sscanf(b->wal_start, "%08X", &b->tli);
	b->wal_stop = get_backup_wal_name(label, get, src, "backup-archive-stop", msg);
	if (b->wal_stop == NULL)
		return PITR_PARSE_INVALID;
	if (b->tli == 0 || b->stop_lsn < b->start_lsn)
	{
		*msg = psprintf("backup %s: timeline or LSN range is invalid", label);
		return PITR_PARSE_INVALID;
	}

	s = get(src, "backup-timestamp-start");
	if (s)
		b->start_epoch = strtoi64(s, NULL, 10);
	s = get(src, "backup-timestamp-stop");
	if (s)
		b->stop_epoch = strtoi64(s, NULL, 10);
	s = get(src, "backup-error");
	b->error = (s != NULL && strcmp(s, "true") == 0);
	b->status = pstrdup(b->error ? "error" : "ok");
	return PITR_PARSE_OK;
}

PitrParseStatus
pitr_parse_pgbackrest_backup_info(const char *buf, size_t len,
								  PitrRepoBackup ***backups, int *n,
								  char **msg)
{
	PitrIni		ini;
	const PitrIniEntry *e;
	PitrParseStatus rc;

	*backups = NULL;
	*n = 0;
	if ((rc = pitr_ini_parse(buf, len, false, &ini, msg)) != PITR_PARSE_OK)
		return rc;
	if (pitr_ini_get(&ini, "db", "db-system-id") == NULL)
	{
		*msg = pstrdup("key \"db-system-id\" is missing from section [db]");
		return PITR_PARSE_MISSING;
	}

	*backups = palloc(sizeof(PitrRepoBackup *) * (ini.n + 1));
	for (int i = 0; (e = pitr_ini_next(&ini, "backup:current", &i)) != NULL;)
	{
		PitrJsonFields f;
		PitrRepoBackup *b;
		const char *dbid;

		if ((rc = pitr_json_object_fields(e->value, &f, msg)) != PITR_PARSE_OK)
		{
			*msg = psprintf("backup %s: %s", e->key, *msg);
			return rc;
		}
		b = palloc0(sizeof(PitrRepoBackup));
		if ((rc = fill_backup(b, e->key, json_getter, &f, msg)) != PITR_PARSE_OK)
			return rc;

		/* The system identifier of the backup's db-id, from [db:history]. */
		dbid = pitr_json_get(&f, "db-id");
		if (dbid != NULL)
		{
			const char *h = pitr_ini_get(&ini, "db:history", dbid);
			PitrJsonFields hf;
			char	   *ignore;

			if (h != NULL &&
				pitr_json_object_fields(h, &hf, &ignore) == PITR_PARSE_OK)
				parse_uint64(pitr_json_get(&hf, "db-system-id"),
							 &b->system_identifier);
		}
		(*backups)[(*n)++] = b;
	}
	return PITR_PARSE_OK;
}

/* The manifest's [backup] values are JSON scalars, one per key. */
typedef struct ManifestSrc
{
	const PitrIni *ini;
	char	   *err;
} ManifestSrc;

static const char *
manifest_getter(const void *src, const char *key)
{
	ManifestSrc *m = (ManifestSrc *) src;
	char	   *v;

	if (get_scalar(m->ini, "backup", key, false, &v, &m->err) != PITR_PARSE_OK)
		return NULL;
	return v;
}

PitrParseStatus
pitr_parse_pgbackrest_manifest(const char *buf, size_t len,
							   PitrRepoBackup *out, char **msg)
{
	PitrIni		ini;
	PitrParseStatus rc;
	ManifestSrc m;
	char	   *label;
	char	   *v;

	memset(out, 0, sizeof(*out));
	if ((rc = pitr_ini_parse(buf, len, false, &ini, msg)) != PITR_PARSE_OK)
		return rc;
	if ((rc = get_scalar(&ini, "backup", "backup-label", true, &label, msg)) != PITR_PARSE_OK)
		return rc;
	if (label == NULL)
	{
		*msg = pstrdup("[backup] backup-label is null");
		return PITR_PARSE_INVALID;
	}
	m.ini = &ini;
	m.err = NULL;
	if ((rc = fill_backup(out, label, manifest_getter, &m, msg)) != PITR_PARSE_OK)
		return rc;
	if (get_scalar(&ini, "backup:db", "db-system-id", false, &v, msg) == PITR_PARSE_OK &&
		v != NULL)
		parse_uint64(v, &out->system_identifier);
	return PITR_PARSE_OK;
}

bool
pitr_pgbackrest_file_name(const char *name, char *wal_name, char *sha1,
						  const char **ext)
{
	size_t		len = strlen(name);
	const char *dot;

	*ext = "";
	sha1[0] = '\0';
	/* .history and .backup files keep their own names. */
	if ((len == 16 && strcmp(name + 8, ".history") == 0) ||
		(len == XLOG_FNAME_LEN + 16 && strcmp(name + len - 7, ".backup") == 0))
	{
		strcpy(wal_name, name);
		return true;
	}
	/* <24 hex>[.partial]-<40 hex sha1>[.ext] */
	{
		const char *dash = strchr(name, '-');
		size_t		base;

		if (dash == NULL)
			return false;
		base = dash - name;
		if (base != XLOG_FNAME_LEN && base != XLOG_FNAME_LEN + 8)
			return false;
		if (strspn(dash + 1, "0123456789abcdef") != 40)
			return false;
		dot = dash + 41;
		if (*dot != '\0' && *dot != '.')
			return false;
		memcpy(wal_name, name, base);
		wal_name[base] = '\0';
		memcpy(sha1, dash + 1, 40);
		sha1[40] = '\0';
		*ext = dot;
	}
	return true;
}

/* repo-ls JSON: {"<path>":{"type":"file","size":N,"time":N}, ...} */
typedef struct RepoLsState
{
	char	   *attr;
	PitrRepoLsEntry *entries;
	int			n;
	int			cap;
	bool		bad;
} RepoLsState;

static void
rl_open(void *arg, int level, bool is_array)
{
	if (is_array)
		((RepoLsState *) arg)->bad = true;	/* repo-ls has no arrays */
}

static void
rl_field(void *arg, int level, char *fname)
{
	RepoLsState *st = arg;

	if (level == 1)
	{
		if (st->n == st->cap)
		{
			st->cap = st->cap ? st->cap * 2 : 64;
			st->entries = st->entries ?
				repalloc(st->entries, sizeof(PitrRepoLsEntry) * st->cap) :
				palloc(sizeof(PitrRepoLsEntry) * st->cap);
		}
		memset(&st->entries[st->n], 0, sizeof(PitrRepoLsEntry));
		st->entries[st->n].path = fname;
		st->n++;
	}
	else if (level == 2)
		st->attr = fname;
}

static void
rl_scalar(void *arg, int level, char *token, JsonTokenType type)
{
	RepoLsState *st = arg;
	PitrRepoLsEntry *e;

	if (level != 2 || st->n == 0 || st->attr == NULL)
	{
		st->bad = true;
		return;
	}
	e = &st->entries[st->n - 1];
	if (strcmp(st->attr, "type") == 0)
		e->is_file = (strcmp(token, "file") == 0);
	else if (strcmp(st->attr, "size") == 0 && type == JSON_TOKEN_NUMBER)
		e->size = strtoi64(token, NULL, 10);
	else if (strcmp(st->attr, "time") == 0 && type == JSON_TOKEN_NUMBER)
		e->mtime = strtoi64(token, NULL, 10);
	st->attr = NULL;
}

static const PitrJsonSem repo_ls_sem = {
	.open = rl_open,
	.field = rl_field,
	.scalar = rl_scalar,
};

PitrParseStatus
pitr_parse_pgbackrest_repo_ls(const char *buf, size_t len,
							  PitrRepoLsEntry **entries, int *n, char **msg)
{
	RepoLsState st = {0};
	char	   *jerr;

	jerr = pitr_json_parse(pnstrdup(buf, len), len, &repo_ls_sem, &st);
	if (jerr != NULL)
	{
		*msg = psprintf("invalid repo-ls output: %s", jerr);
		return PITR_PARSE_SYNTAX;
	}
	if (st.bad)
	{
		*msg = pstrdup("repo-ls output is not an object of path entries");
		return PITR_PARSE_SYNTAX;
	}
	*entries = st.entries;
	*n = st.n;
	return PITR_PARSE_OK;
}
