/*-------------------------------------------------------------------------
 *
 * json.c
 *	  pitr_json_parse(): the server's JSON parser driving a parser's
 *	  callbacks (PitrJsonSem), each told how deep it is.  The server's
 *	  semantic actions return void on PostgreSQL 15 and a JsonParseErrorType
 *	  from 16 on; the actions below are declared for the version built
 *	  against, so a parser in src/format keeps one set of callbacks, and
 *	  none of them counts containers itself.
 *
 *-------------------------------------------------------------------------
 */
/* Frontend too, for the fuzzing harnesses (test/fuzz/). */
#ifdef FRONTEND
#include "postgres_fe.h"
#else
#include "postgres.h"
#endif

#include "mb/pg_wchar.h"

#include "compat/pg_compat.h"

#if PG_VERSION_NUM >= 160000
#define ACTION_RESULT JsonParseErrorType
#define ACTION_DONE JSON_SUCCESS
#else
#define ACTION_RESULT void
#define ACTION_DONE
#endif

/* The semantic actions' state. */
typedef struct JsonWalk
{
	const PitrJsonSem *sem;
	void	   *state;
	int			depth;			/* containers open */
} JsonWalk;

static void
open_container(JsonWalk *w, bool is_array)
{
	if (w->sem->open)
		w->sem->open(w->state, w->depth, is_array);
	w->depth++;
}

static void
close_container(JsonWalk *w, bool is_array)
{
	w->depth--;
	if (w->sem->close)
		w->sem->close(w->state, w->depth, is_array);
}

/* The server's four container actions, each one of the two above. */
#define CONTAINER_ACTION(name, fn, is_array) \
static ACTION_RESULT name(void *w) { fn(w, is_array); return ACTION_DONE; }
CONTAINER_ACTION(walk_object_start, open_container, false)
CONTAINER_ACTION(walk_array_start, open_container, true)
CONTAINER_ACTION(walk_object_end, close_container, false)
CONTAINER_ACTION(walk_array_end, close_container, true)

static ACTION_RESULT
walk_field(void *arg, char *fname, bool isnull)
{
	JsonWalk   *w = arg;

	if (w->sem->field)
		w->sem->field(w->state, w->depth, fname);
	return ACTION_DONE;
}

static ACTION_RESULT
walk_scalar(void *arg, char *token, JsonTokenType tokentype)
{
	JsonWalk   *w = arg;

	if (w->sem->scalar)
		w->sem->scalar(w->state, w->depth, token, tokentype);
	return ACTION_DONE;
}

char *
pitr_json_parse(const char *json, size_t len, const PitrJsonSem *sem,
				void *state)
{
	JsonWalk	w = {sem, state, 0};
	JsonSemAction action = {
		.semstate = &w,
		.object_start = walk_object_start,
		.object_end = walk_object_end,
		.array_start = walk_array_start,
		.array_end = walk_array_end,
		.object_field_start = walk_field,
		.scalar = walk_scalar,
	};
	JsonLexContext *lex = pitr_json_lex_new(json, len, PG_UTF8, true);
	JsonParseErrorType rc = pg_parse_json(lex, &action);

	return rc == JSON_SUCCESS ? NULL : json_errdetail(rc, lex);
}
