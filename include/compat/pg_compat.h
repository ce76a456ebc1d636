/*-------------------------------------------------------------------------
 *
 * pg_compat.h
 *	  Every difference between the PostgreSQL major versions pitr_restore
 *	  builds against (15 through 18), in one place.
 *
 * Call sites use the names below and carry no PG_VERSION_NUM test of
 * their own.  Where PostgreSQL renamed something, the newest name is used
 * and mapped back for older servers; where a signature changed, a small
 * pitr_* wrapper takes the arguments every version needs.  Differences
 * that need code of their own live in src/compat/, one file per concern:
 * json.c (the JSON parser's callbacks), archive_module.c (the archive
 * module entry point) and guc.c (finding a setting).  See
 * doc/architecture.md.
 *
 * Safe to include from frontend code (the fuzzing harnesses): the parts
 * that need backend headers are inside #ifndef FRONTEND.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_PG_COMPAT_H
#define PITR_PG_COMPAT_H

#if PG_VERSION_NUM < 150000
#error "pitr_restore needs PostgreSQL 15 or later"
#endif

#include "common/jsonapi.h"

/* ---- JSON parser (common/jsonapi.h) ---- */

/*
 * 16 gave the lexer a caller-supplied struct (NULL: allocate one) and 17 a
 * size_t length; the JSON text is not modified on any version.
 */
static inline JsonLexContext *
pitr_json_lex_new(const char *json, size_t len, int encoding,
				  bool need_escapes)
{
#if PG_VERSION_NUM >= 170000
	return makeJsonLexContextCstringLen(NULL, json, len, encoding,
										need_escapes);
#elif PG_VERSION_NUM >= 160000
	return makeJsonLexContextCstringLen(NULL, unconstify(char *, json),
										(int) len, encoding, need_escapes);
#else
	return makeJsonLexContextCstringLen(unconstify(char *, json), (int) len,
										encoding, need_escapes);
#endif
}

/*
 * A parser's callbacks for pitr_json_parse() (src/compat/json.c), which
 * drives them from the server's JSON parser on every version (its semantic
 * actions return void on 15, a JsonParseErrorType from 16 on) and keeps
 * count of the containers open.  "level" is how many containers enclose
 * what the callback is told of: 0 for the top value, 1 for a field of the
 * top object.  A NULL callback is not called.  Field names and tokens are
 * palloc'd and belong to the callback (the lexer is never told to own
 * them).
 */
typedef void (*pitr_json_nest_action) (void *state, int level, bool is_array);
typedef void (*pitr_json_field_action) (void *state, int level, char *fname);
typedef void (*pitr_json_scalar_action) (void *state, int level, char *token,
										 JsonTokenType tokentype);

typedef struct PitrJsonSem
{
	pitr_json_nest_action open;		/* an object or array starts */
	pitr_json_nest_action close;	/* an object or array ends */
	pitr_json_field_action field;	/* an object's field name */
	pitr_json_scalar_action scalar;
} PitrJsonSem;

/*
 * Parse "len" bytes of UTF-8 JSON text, calling back "sem" with "state".
 * NULL if the text parses, else the parser's description of the error.
 */
extern char *pitr_json_parse(const char *json, size_t len,
							 const PitrJsonSem *sem, void *state);

/* ---- WAL records (access/xact.h) ---- */

/* 16 renamed RelFileNode to RelFileLocator, in commit records too. */
#if PG_VERSION_NUM < 160000
#define RelFileLocator RelFileNode
#define XACT_XINFO_HAS_RELFILELOCATORS XACT_XINFO_HAS_RELFILENODES
#endif

/* ... and its fields, in block tags, smgr records and transaction ends. */
#if PG_VERSION_NUM >= 160000
#define PITR_RLOC_SPC(l) ((l).spcOid)
#define PITR_RLOC_DB(l) ((l).dbOid)
#define PITR_RLOC_REL(l) ((l).relNumber)
#define PITR_SMGR_CREATE_RLOC(xl) ((xl)->rlocator)
#define PITR_PARSED_XACT_RLOCS(p) ((p).xlocators)
#define PITR_BLOCK_RLOC(b) ((b)->rlocator)
#else
#define PITR_RLOC_SPC(l) ((l).spcNode)
#define PITR_RLOC_DB(l) ((l).dbNode)
#define PITR_RLOC_REL(l) ((l).relNode)
#define PITR_SMGR_CREATE_RLOC(xl) ((xl)->rnode)
#define PITR_PARSED_XACT_RLOCS(p) ((p).xnodes)
#define PITR_BLOCK_RLOC(b) ((b)->rnode)
#endif

/* ---- files (storage/fd.h, common/file_utils.h) ---- */

/* 17 moved PG_TEMP_FILES_DIR and PG_TEMP_FILE_PREFIX to file_utils.h. */
#if PG_VERSION_NUM >= 170000
#include "common/file_utils.h"
#endif

#ifndef FRONTEND

/* ---- the current transaction (storage/proc.h) ---- */

/* 17 moved the local transaction id into PGPROC's vxid. */
#if PG_VERSION_NUM >= 170000
#define pitr_my_lxid() (MyProc->vxid.lxid)
#else
#define pitr_my_lxid() (MyProc->lxid)
#endif

/* ---- settings (utils/guc.h) ---- */

/*
 * Memory for a check hook's "extra": 16 keeps GUC memory in a memory
 * context and frees it with guc_free(), 15 with free().  NULL when out of
 * memory (reported at LOG), as the hook's callers expect.
 */
#if PG_VERSION_NUM >= 160000
#define pitr_guc_malloc(size) guc_malloc(LOG, (size))
#else
#define pitr_guc_malloc(size) malloc(size)
#endif

/*
 * A setting's record (utils/guc_tables.h), by name, or NULL: 16 exported
 * find_option(); 15 only lists the variables (src/compat/guc.c).
 */
struct config_generic;
extern struct config_generic *pitr_find_setting(const char *name);

/* ---- names (utils/regproc.h) ---- */

/* 16 added soft error reporting; NULL keeps the ERROR. */
#if PG_VERSION_NUM >= 160000
#define pitr_string_to_qualified_name_list(string) \
	stringToQualifiedNameList((string), NULL)
#else
#define pitr_string_to_qualified_name_list(string) \
	stringToQualifiedNameList(string)
#endif

/* ---- date and time input (utils/datetime.h) ---- */

/*
 * 16 added DateTimeErrorExtra, filled for the caller's message; the
 * return code alone is what pitr_restore needs.  A macro, so that only
 * files including utils/datetime.h need its types.
 */
#if PG_VERSION_NUM >= 160000
#define pitr_decode_datetime(field, ftype, nf, dtype, tm, fsec, tzp) \
	DecodeDateTime((field), (ftype), (nf), (dtype), (tm), (fsec), (tzp), \
				   &(DateTimeErrorExtra) {0})
#else
#define pitr_decode_datetime(field, ftype, nf, dtype, tm, fsec, tzp) \
	DecodeDateTime((field), (ftype), (nf), (dtype), (tm), (fsec), (tzp))
#endif

#endif							/* !FRONTEND */

#endif							/* PITR_PG_COMPAT_H */
