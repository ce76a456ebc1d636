/*-------------------------------------------------------------------------
 *
 * tool_ini.c
 *	  INI files with JSON values, as pgBackRest writes them, and Barman's
 *	  key=value files.  JSON goes through the server's own parser
 *	  (common/jsonapi.h), as backup_manifest.c does for backup manifests.
 *
 *-------------------------------------------------------------------------
 */
/* Frontend too, for the fuzzing harness (test/fuzz/). */
#ifdef FRONTEND
#include "postgres_fe.h"
#else
#include "postgres.h"
#endif

#include "common/jsonapi.h"
#include "mb/pg_wchar.h"

#include "compat/pg_compat.h"
#include "format/tool_ini.h"

static char *
trim(char *s)
{
	char	   *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

PitrParseStatus
pitr_ini_parse(const char *buf, size_t len, bool allow_sectionless,
			   PitrIni *ini, char **msg)
{
	char	   *copy = palloc(len + 1);
	char	   *p = copy;
	char	   *section = NULL;
	int			cap = 32;
	int			lineno = 0;

	memcpy(copy, buf, len);
	copy[len] = '\0';
	if (memchr(buf, '\0', len) != NULL)
	{
		*msg = pstrdup("file contains a zero byte");
		return PITR_PARSE_SYNTAX;
	}
	ini->n = 0;
	ini->entries = palloc(sizeof(PitrIniEntry) * cap);

	while (*p)
	{
		char	   *nl = strchr(p, '\n');
		char	   *line;
		char	   *eq;

		if (nl)
			*nl = '\0';
		lineno++;
		line = trim(p);
		p = nl ? nl + 1 : p + strlen(p);

		if (*line == '\0' || *line == '#' || *line == ';')
			continue;
		if (*line == '[')
		{
			char	   *end = line + strlen(line) - 1;

			if (*end != ']' || end == line + 1)
			{
				*msg = psprintf("line %d: malformed section header", lineno);
				return PITR_PARSE_SYNTAX;
			}
			*end = '\0';
			section = line + 1;
			continue;
		}
		eq = strchr(line, '=');
		if (eq == NULL || eq == line)
		{
			*msg = psprintf("line %d: expected key=value", lineno);
			return PITR_PARSE_SYNTAX;
		}
		if (section == NULL && !allow_sectionless)
		{
			*msg = psprintf("line %d: key outside of any section", lineno);
			return PITR_PARSE_SYNTAX;
		}
		*eq = '\0';
		if (ini->n == cap)
		{
			cap *= 2;
			ini->entries = repalloc(ini->entries, sizeof(PitrIniEntry) * cap);
		}
		ini->entries[ini->n].section = section ? section : "";
		ini->entries[ini->n].key = trim(line);
		ini->entries[ini->n].value = trim(eq + 1);
		ini->n++;
	}
	return PITR_PARSE_OK;
}

const char *
pitr_ini_get(const PitrIni *ini, const char *section, const char *key)
{
	for (int i = ini->n - 1; i >= 0; i--)
		if (strcmp(ini->entries[i].section, section) == 0 &&
			strcmp(ini->entries[i].key, key) == 0)
			return ini->entries[i].value;
	return NULL;
}

const PitrIniEntry *
pitr_ini_next(const PitrIni *ini, const char *section, int *pos)
{
	while (*pos < ini->n)
	{
		const PitrIniEntry *e = &ini->entries[(*pos)++];

		if (strcmp(e->section, section) == 0)
			return e;
	}
	return NULL;
}

/* Parse state for the JSON helpers: the field being read. */
typedef struct JsonFieldState
{
	char	   *field;			/* current top-level field name */
	PitrJsonFields *out;
	int			cap;
	char	   *scalar;			/* a top-level scalar document */
	bool		scalar_null;
	bool		is_object;
} JsonFieldState;

static void
jf_open(void *arg, int level, bool is_array)
{
	if (level == 0 && !is_array)
		((JsonFieldState *) arg)->is_object = true;
}

static void
jf_field(void *arg, int level, char *fname)
{
	if (level == 1)
		((JsonFieldState *) arg)->field = fname;
}

static void
jf_scalar(void *arg, int level, char *token, JsonTokenType type)
{
	JsonFieldState *st = arg;

	if (level == 0)
	{
		st->scalar = token;
		st->scalar_null = (type == JSON_TOKEN_NULL);
		return;
	}
	if (level != 1 || st->field == NULL || st->out == NULL)
		return;
	if (st->out->n == st->cap)
	{
		st->cap = st->cap ? st->cap * 2 : 16;
		if (st->out->keys == NULL)
		{
			st->out->keys = palloc(sizeof(char *) * st->cap);
			st->out->values = palloc(sizeof(char *) * st->cap);
		}
		else
		{
			st->out->keys = repalloc(st->out->keys, sizeof(char *) * st->cap);
			st->out->values = repalloc(st->out->values, sizeof(char *) * st->cap);
		}
	}
	st->out->keys[st->out->n] = st->field;
	st->out->values[st->out->n] = (type == JSON_TOKEN_NULL) ? NULL : token;
	st->out->n++;
	st->field = NULL;
}

static const PitrJsonSem json_field_sem = {
	.open = jf_open,
	.field = jf_field,
	.scalar = jf_scalar,
};

static PitrParseStatus
json_walk(const char *json, JsonFieldState *st, char **msg)
{
	char	   *jerr;

	jerr = pitr_json_parse(pstrdup(json), strlen(json), &json_field_sem, st);
	if (jerr != NULL)
	{
		*msg = psprintf("invalid JSON value: %s", jerr);
		return PITR_PARSE_SYNTAX;
	}
	return PITR_PARSE_OK;
}

PitrParseStatus
pitr_json_scalar(const char *json, char **out, bool *isnull, char **msg)
{
	JsonFieldState st = {0};
	PitrParseStatus rc = json_walk(json, &st, msg);

	if (rc != PITR_PARSE_OK)
		return rc;
	if (st.scalar == NULL && !st.scalar_null)
	{
		*msg = psprintf("expected a JSON scalar, found \"%s\"", json);
		return PITR_PARSE_SYNTAX;
	}
	*out = st.scalar_null ? NULL : st.scalar;
	*isnull = st.scalar_null;
	return PITR_PARSE_OK;
}

PitrParseStatus
pitr_json_object_fields(const char *json, PitrJsonFields *out, char **msg)
{
	JsonFieldState st = {0};
	PitrParseStatus rc;

	memset(out, 0, sizeof(*out));
	st.out = out;
	rc = json_walk(json, &st, msg);
	if (rc != PITR_PARSE_OK)
		return rc;
	if (!st.is_object)
	{
		*msg = pstrdup("expected a JSON object");
		return PITR_PARSE_SYNTAX;
	}
	return PITR_PARSE_OK;
}

const char *
pitr_json_get(const PitrJsonFields *f, const char *key)
{
	for (int i = 0; i < f->n; i++)
		if (strcmp(f->keys[i], key) == 0)
			return f->values[i];
	return NULL;
}
