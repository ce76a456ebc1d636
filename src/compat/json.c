/*-------------------------------------------------------------------------
 *
 * json.c
 *	  pitr_json_parse(): the server's JSON parser over callbacks declared
 *	  as PostgreSQL 15 declares them (returning void).  From 16 on, every
 *	  semantic action returns a JsonParseErrorType: the adapters below call
 *	  the parser's own callback and report success, so a parser in
 *	  src/format keeps one set of callbacks for every version.
 *
 *-------------------------------------------------------------------------
 */
/* Frontend too, for the fuzzing harnesses (test/fuzz/). */
#ifdef FRONTEND
#include "postgres_fe.h"
#else
#include "postgres.h"
#endif

#include "compat/pg_compat.h"

#if PG_VERSION_NUM >= 160000

/* The adapters get the PitrJsonSem as their state. */
#define SEM(state) ((const PitrJsonSem *) (state))

static JsonParseErrorType
adapt_object_start(void *state)
{
	SEM(state)->object_start(SEM(state)->semstate);
	return JSON_SUCCESS;
}

static JsonParseErrorType
adapt_object_end(void *state)
{
	SEM(state)->object_end(SEM(state)->semstate);
	return JSON_SUCCESS;
}

static JsonParseErrorType
adapt_array_start(void *state)
{
	SEM(state)->array_start(SEM(state)->semstate);
	return JSON_SUCCESS;
}

static JsonParseErrorType
adapt_array_end(void *state)
{
	SEM(state)->array_end(SEM(state)->semstate);
	return JSON_SUCCESS;
}

static JsonParseErrorType
adapt_object_field_start(void *state, char *fname, bool isnull)
{
	SEM(state)->object_field_start(SEM(state)->semstate, fname, isnull);
	return JSON_SUCCESS;
}

static JsonParseErrorType
adapt_object_field_end(void *state, char *fname, bool isnull)
{
	SEM(state)->object_field_end(SEM(state)->semstate, fname, isnull);
	return JSON_SUCCESS;
}

static JsonParseErrorType
adapt_array_element_start(void *state, bool isnull)
{
	SEM(state)->array_element_start(SEM(state)->semstate, isnull);
	return JSON_SUCCESS;
}

static JsonParseErrorType
adapt_array_element_end(void *state, bool isnull)
{
	SEM(state)->array_element_end(SEM(state)->semstate, isnull);
	return JSON_SUCCESS;
}

static JsonParseErrorType
adapt_scalar(void *state, char *token, JsonTokenType tokentype)
{
	SEM(state)->scalar(SEM(state)->semstate, token, tokentype);
	return JSON_SUCCESS;
}

JsonParseErrorType
pitr_json_parse(JsonLexContext *lex, const PitrJsonSem *sem)
{
	JsonSemAction action = {0};

	/* an adapter only where the caller has a callback: NULL skips work */
	action.semstate = unconstify(PitrJsonSem *, sem);
	if (sem->object_start)
		action.object_start = adapt_object_start;
	if (sem->object_end)
		action.object_end = adapt_object_end;
	if (sem->array_start)
		action.array_start = adapt_array_start;
	if (sem->array_end)
		action.array_end = adapt_array_end;
	if (sem->object_field_start)
		action.object_field_start = adapt_object_field_start;
	if (sem->object_field_end)
		action.object_field_end = adapt_object_field_end;
	if (sem->array_element_start)
		action.array_element_start = adapt_array_element_start;
	if (sem->array_element_end)
		action.array_element_end = adapt_array_element_end;
	if (sem->scalar)
		action.scalar = adapt_scalar;
	return pg_parse_json(lex, &action);
}

#else							/* PG_VERSION_NUM < 160000 */

JsonParseErrorType
pitr_json_parse(JsonLexContext *lex, const PitrJsonSem *sem)
{
	/* the same callbacks, the same order: JsonSemAction as 15 has it */
	JsonSemAction action = {
		.semstate = sem->semstate,
		.object_start = sem->object_start,
		.object_end = sem->object_end,
		.array_start = sem->array_start,
		.array_end = sem->array_end,
		.object_field_start = sem->object_field_start,
		.object_field_end = sem->object_field_end,
		.array_element_start = sem->array_element_start,
		.array_element_end = sem->array_element_end,
		.scalar = sem->scalar,
	};

	return pg_parse_json(lex, &action);
}

#endif
