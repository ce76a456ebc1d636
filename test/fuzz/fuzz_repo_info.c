/*-------------------------------------------------------------------------
 *
 * fuzz_repo_info.c
 *	  libFuzzer harness for the pure parsers of backup tools' repository
 *	  files (src/format/: tool_ini.c, pgbackrest_info.c, barman_info.c,
 *	  repo_backup.c): every input goes through every parser, and whatever
 *	  parses goes through the backup chain check.  Built and run by
 *	  test/fuzz/run.sh.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "format/barman_info.h"
#include "format/pgbackrest_info.h"

#include <stddef.h>

#include "common/jsonapi.h"

#include "report.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The parsers palloc and leave freeing to the backend's memory contexts.
 * Here every allocation of one input goes into an arena freed after it, so
 * long runs do not run out of memory (these replace libpgcommon's
 * fe_memutils.o, which is then not linked).
 */
typedef struct Chunk
{
	size_t		slot;
	max_align_t align[];
} Chunk;

static Chunk **arena;
static size_t arena_n,
			arena_cap;

static void *
arena_alloc(size_t size, bool zero)
{
	Chunk	   *c = zero ? calloc(1, sizeof(Chunk) + size) : malloc(sizeof(Chunk) + size);

	if (c == NULL)
		abort();
	if (arena_n == arena_cap)
	{
		arena_cap = arena_cap ? arena_cap * 2 : 1024;
		arena = realloc(arena, sizeof(Chunk *) * arena_cap);
		if (arena == NULL)
			abort();
	}
	c->slot = arena_n;
	arena[arena_n++] = c;
	return c->align;
}

static void
arena_reset(void)
{
	for (size_t i = 0; i < arena_n; i++)
		free(arena[i]);
	arena_n = 0;
}

void *
palloc(Size size)
{
	return arena_alloc(size, false);
}

void *
palloc0(Size size)
{
	return arena_alloc(size, true);
}

void *
palloc_extended(Size size, int flags)
{
	return arena_alloc(size, (flags & MCXT_ALLOC_ZERO) != 0);
}

void *
repalloc(void *p, Size size)
{
	Chunk	   *c = (Chunk *) ((char *) p - offsetof(Chunk, align));
	size_t		slot = c->slot;

	c = realloc(c, sizeof(Chunk) + size);
	if (c == NULL)
		abort();
	arena[slot] = c;
	return c->align;
}

void
pfree(void *p)
{
	/* Freed with the arena. */
}

char *
pstrdup(const char *s)
{
	return strcpy(palloc(strlen(s) + 1), s);
}

char *
pnstrdup(const char *s, Size n)
{
	char	   *r;

	n = strnlen(s, n);
	r = palloc(n + 1);
	memcpy(r, s, n);
	r[n] = '\0';
	return r;
}

void *
pg_malloc(size_t size)
{
	return arena_alloc(size, false);
}

void *
pg_malloc0(size_t size)
{
	return arena_alloc(size, true);
}

void *
pg_malloc_extended(size_t size, int flags)
{
	return arena_alloc(size, (flags & MCXT_ALLOC_ZERO) != 0);
}

void *
pg_realloc(void *p, size_t size)
{
	return repalloc(p, size);
}

void
pg_free(void *p)
{
}

char *
pg_strdup(const char *s)
{
	return pstrdup(s);
}

/*
 * Debian's frontend libpgcommon.a lacks json_errdetail(); the message text
 * does not matter to the fuzzer.  Weak, so that a libpgcommon that has it
 * (18's, built from source) wins.
 */
char	   *json_errdetail(JsonParseErrorType error, JsonLexContext *lex) __attribute__((weak));

char *
json_errdetail(JsonParseErrorType error, JsonLexContext *lex)
{
	return psprintf("JSON error %d", (int) error);
}

/* What one parser said, for the replay (report.h). */
static void
report(const char *what, PitrParseStatus st, const char *msg)
{
	static const char *const names[] = {"ok", "syntax", "missing", "invalid"};

	if (st == PITR_PARSE_OK)
		fuzz_report("%s: ok", what);
	else
		fuzz_report("%s: %s: %s", what,
					(unsigned) st < 4 ? names[st] : "?", msg ? msg : "(no reason)");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *) data;
	char	   *msg;
	PitrPgbrArchiveInfo ai;
	PitrRepoBackup **backups;
	PitrRepoBackup one;
	PitrRepoLsEntry *entries;
	int			n;
	PitrParseStatus st;

	msg = NULL;
	st = pitr_parse_pgbackrest_archive_info(buf, size, &ai, &msg);
	report("pgbackrest archive.info", st, msg);
	msg = NULL;
	st = pitr_parse_pgbackrest_backup_info(buf, size, &backups, &n, &msg);
	report("pgbackrest backup.info", st, msg);
	if (st == PITR_PARSE_OK)
	{
		for (int i = 0; i < n; i++)
		{
			msg = NULL;
			if (pitr_repo_backup_usable(backups[i], backups, n, &msg))
				fuzz_report("  backup %d: usable", i);
			else
				fuzz_report("  backup %d: not usable: %s", i, msg ? msg : "(no reason)");
		}
	}
	msg = NULL;
	st = pitr_parse_pgbackrest_manifest(buf, size, &one, &msg);
	report("pgbackrest manifest", st, msg);
	msg = NULL;
	st = pitr_parse_barman_backup_info(buf, size, "id", &one, &msg);
	report("barman backup.info", st, msg);
	msg = NULL;
	st = pitr_parse_pgbackrest_repo_ls(buf, size, &entries, &n, &msg);
	report("pgbackrest repo-ls", st, msg);
	if (size < MAXPGPATH)
	{
		char		name[MAXPGPATH];
		char		wal[MAXPGPATH];
		char		sha1[41];
		const char *ext;

		memcpy(name, buf, size);
		name[size] = '\0';
		if (pitr_pgbackrest_file_name(name, wal, sha1, &ext))
			fuzz_report("pgbackrest file name: %s", wal);
		else
			fuzz_report("pgbackrest file name: no");
	}
	arena_reset();
	return 0;
}
