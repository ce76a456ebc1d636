/*-------------------------------------------------------------------------
 *
 * cleanup_actions.c
 *	  The built-in post-restore cleanup actions and the checking of their
 *	  options.
 *
 * Each action reads its options from jsonb and builds one statement: names
 * are resolved in the catalog and quoted, values are converted with the
 * column type's input function and bound as parameters.  Nothing from the
 * options is ever pasted into SQL as text, so a hook cannot inject SQL
 * (the "sql" action aside, which is SQL by definition).  The same code
 * checks a hook when it is added (mode CLEANUP_VALIDATE: build and prepare,
 * do not run) and runs it.
 *
 * Hooks never run user code with the privileges of whoever runs the hooks
 * (the worker is a superuser): a table action runs as the table's owner
 * inside a security-restricted operation with search_path pinned to
 * pg_catalog, pg_temp, as VACUUM and ANALYZE do, so the table's triggers,
 * defaults, domain checks and policies run with their owner's rights; a
 * "sql" hook runs as its run_as role (the database owner by default) the
 * same way.  reset_admin in role mode and disable_subscriptions stay with
 * the caller's rights and do catalog work only (ALTER ROLE, ALTER
 * SUBSCRIPTION ... DISABLE), which runs no user code.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_database.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "libpq/crypt.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/formatting.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "cleanup.h"
#include "compat/pg_compat.h"
#include "util/server_setting.h"
#include "util/pitr_spi.h"

typedef enum CleanupMode
{
	CLEANUP_VALIDATE,			/* check options, build and prepare only */
	CLEANUP_RUN,
	CLEANUP_DRY_RUN				/* run; the caller rolls back */
} CleanupMode;

#define CLEANUP_MAX_PARAMS 100

/* Who ran before a hook switched to a table owner or run_as role. */
typedef struct RunAs
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
} RunAs;

/* A statement being built, with its bound parameters. */
typedef struct SqlBuild
{
	RunAs		ra;				/* build_begin_as: whom to go back to */
	StringInfoData sql;
	int			nparams;
	Oid			types[CLEANUP_MAX_PARAMS];
	Datum		values[CLEANUP_MAX_PARAMS];
	char		nulls[CLEANUP_MAX_PARAMS];
	bool		has_where;
} SqlBuild;

/* The table an action works on, as its "table" option names it. */
typedef struct ActionTable
{
	const char *name;			/* as given, for messages */
	const char *quoted;			/* schema-qualified, for statements */
	Oid			relid;
} ActionTable;

/* A column of the target table. */
typedef struct ColumnInfo
{
	char	   *name;
	const char *quoted;
	Oid			typid;
	int32		typmod;
} ColumnInfo;

/* The search_path user code of a hook runs with (PostgreSQL 17's choice). */
#define CLEANUP_RESTRICTED_SEARCH_PATH "pg_catalog, pg_temp"
/* A sql hook's statement, unless its options say otherwise. */
#define CLEANUP_SQL_SEARCH_PATH "pg_catalog, public, pg_temp"

/* Options every action accepts. */
static const char *const common_options[] = {"stop_on_error", NULL};

/* ---- reading options ---- */

static JsonbValue *
opt_get(JsonbContainer *c, const char *key)
{
	JsonbValue *v = getKeyJsonValueFromContainer(c, key, strlen(key), NULL);

	return (v != NULL && v->type == jbvNull) ? NULL : v;
}

static void
opt_type_error(const char *key, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("cleanup option \"%s\" must be %s", key, what)));
}

static void
opt_missing(const char *key, const char *action)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("cleanup action \"%s\" requires option \"%s\"", action, key)));
}

/*
 * Options "a" and "b" of a two-mode action, given in the mode they have no
 * place in: an ERROR.  "mode" writes the option that chooses the second
 * mode as messages show it; "in_mode": we are in that mode (a and b are
 * the first mode's), else a and b are its own.
 */
static void
refuse_options(JsonbContainer *opts, const char *a, const char *b,
			   bool in_mode, const char *mode)
{
	if (opt_get(opts, a) == NULL && opt_get(opts, b) == NULL)
		return;
	if (in_mode)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cleanup option %s cannot be combined with \"%s\" or \"%s\"",
						mode, a, b)));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("cleanup options \"%s\" and \"%s\" need %s", a, b, mode)));
}

static char *
opt_text(JsonbContainer *c, const char *key, const char *action)
{
	JsonbValue *v = opt_get(c, key);

	if (v == NULL)
	{
		if (action != NULL)
			opt_missing(key, action);
		return NULL;
	}
	if (v->type != jbvString)
		opt_type_error(key, "a string");
	return pnstrdup(v->val.string.val, v->val.string.len);
}

static bool
opt_bool(JsonbContainer *c, const char *key, bool dflt)
{
	JsonbValue *v = opt_get(c, key);

	if (v == NULL)
		return dflt;
	if (v->type != jbvBool)
		opt_type_error(key, "a boolean");
	return v->val.boolean;
}

static bool
opt_int(JsonbContainer *c, const char *key, int64 *result)
{
	JsonbValue *v = opt_get(c, key);

	if (v == NULL)
		return false;
	if (v->type != jbvNumeric)
		opt_type_error(key, "an integer");
	*result = DatumGetInt64(DirectFunctionCall1(numeric_int8,
												NumericGetDatum(v->val.numeric)));
	return true;
}

/* A nested object or array, or NULL when absent. */
static JsonbContainer *
opt_container(JsonbContainer *c, const char *key, bool object,
			  const char *required_by)
{
	JsonbValue *v = opt_get(c, key);

	if (v == NULL)
	{
		if (required_by != NULL)
			opt_missing(key, required_by);
		return NULL;
	}
	if (v->type != jbvBinary ||
		(object ? !JsonContainerIsObject(v->val.binary.data) :
		 !JsonContainerIsArray(v->val.binary.data)))
		opt_type_error(key, object ? "an object" : "an array");
	return v->val.binary.data;
}

/* Text form of a JSON scalar, NULL for JSON null. */
static char *
scalar_text(JsonbValue *v, const char *key)
{
	switch (v->type)
	{
		case jbvNull:
			return NULL;
		case jbvString:
			return pnstrdup(v->val.string.val, v->val.string.len);
		case jbvNumeric:
			return DatumGetCString(DirectFunctionCall1(numeric_out,
													   NumericGetDatum(v->val.numeric)));
		case jbvBool:
			return pstrdup(v->val.boolean ? "true" : "false");
		default:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("values in cleanup option \"%s\" must be JSON scalars", key)));
	}
	return NULL;				/* keep compiler quiet */
}

/* Keys and values of an object, in jsonb's order, as two parallel lists. */
static void
object_pairs(JsonbContainer *c, List **keys, List **values)
{
	JsonbIterator *it = JsonbIteratorInit(c);
	JsonbValue	v;
	JsonbIteratorToken tok;

	*keys = NIL;
	*values = NIL;
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
			*keys = lappend(*keys, pnstrdup(v.val.string.val, v.val.string.len));
		else if (tok == WJB_VALUE)
		{
			JsonbValue *copy = palloc(sizeof(JsonbValue));

			*copy = v;
			*values = lappend(*values, copy);
		}
	}
}

static List *
array_elems(JsonbContainer *c)
{
	JsonbIterator *it = JsonbIteratorInit(c);
	JsonbValue	v;
	JsonbIteratorToken tok;
	List	   *result = NIL;

	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_ELEM)
		{
			JsonbValue *copy = palloc(sizeof(JsonbValue));

			*copy = v;
			result = lappend(result, copy);
		}
	}
	return result;
}

/* A typo in an option name is an error, not a silently ignored option. */
static void
check_keys(JsonbContainer *c, const char *action, const char *const *allowed)
{
	List	   *keys;
	List	   *values;
	ListCell   *lc;

	object_pairs(c, &keys, &values);
	foreach(lc, keys)
	{
		const char *key = lfirst(lc);
		const char *const *a;
		bool		found = false;

		for (a = allowed; *a != NULL && !found; a++)
			found = strcmp(*a, key) == 0;
		for (a = common_options; *a != NULL && !found; a++)
			found = strcmp(*a, key) == 0;
		if (!found)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown option \"%s\" for cleanup action \"%s\"",
							key, action)));
	}
}

/* ---- running as someone else ---- */

/*
 * Become role for what follows, in a security-restricted operation with a
 * pinned search_path.  An error aborts the (sub)transaction, which restores
 * the user and the settings; otherwise run_as_end does.
 */
static void
run_as_begin(RunAs *ra, Oid role, const char *search_path)
{
	GetUserIdAndSecContext(&ra->save_userid, &ra->save_sec_context);
	SetUserIdAndSecContext(role,
						   ra->save_sec_context | SECURITY_RESTRICTED_OPERATION);
	ra->save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", search_path,
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

static void
run_as_end(RunAs *ra)
{
	AtEOXact_GUC(false, ra->save_nestlevel);
	SetUserIdAndSecContext(ra->save_userid, ra->save_sec_context);
}

/*
 * The owner of a catalog row: "ownercol" of the row "cacheid" finds for
 * "objid" ("what" names its kind in the error).
 */
static Oid
catalog_owner(int cacheid, Oid objid, AttrNumber ownercol, const char *what)
{
	HeapTuple	tup = SearchSysCache1(cacheid, ObjectIdGetDatum(objid));
	bool		isnull;
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for %s %u", what, objid);
	owner = DatumGetObjectId(SysCacheGetAttr(cacheid, tup, ownercol, &isnull));
	Assert(!isnull);
	ReleaseSysCache(tup);
	return owner;
}

static Oid
table_owner(Oid relid)
{
	return catalog_owner(RELOID, relid, Anum_pg_class_relowner, "relation");
}

static Oid
database_owner(void)
{
	return catalog_owner(DATABASEOID, MyDatabaseId, Anum_pg_database_datdba,
						 "database");
}

/* ---- names and values ---- */

static Oid
resolve_table(const char *name, const char **quoted)
{
	RangeVar   *rv = makeRangeVarFromNameList(pitr_string_to_qualified_name_list(name));
	Oid			relid = RangeVarGetRelid(rv, NoLock, true);
	char		relkind;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"%s\" does not exist", name)));
	relkind = get_rel_relkind(relid);
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE &&
		relkind != RELKIND_VIEW && relkind != RELKIND_FOREIGN_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table or view", name)));
	*quoted = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
										 get_rel_name(relid));
	return relid;
}

static void
action_table(JsonbContainer *opts, const char *action, ActionTable *t)
{
	t->name = opt_text(opts, "table", action);
	t->relid = resolve_table(t->name, &t->quoted);
}

static void
resolve_column(const ActionTable *t, const char *column, ColumnInfo *ci)
{
	AttrNumber	attnum = get_attnum(t->relid, column);
	Oid			collid;

	if (attnum == InvalidAttrNumber || attnum < 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist",
						column, t->name)));
	ci->name = pstrdup(column);
	ci->quoted = quote_identifier(column);
	get_atttypetypmodcoll(t->relid, attnum, &ci->typid, &ci->typmod, &collid);
}

/*
 * Bind a value to a new parameter of the column's type; the type's input
 * function rejects a wrong value now, not when the hook runs.
 */
static int
bind_value(SqlBuild *b, Oid typid, int32 typmod, const char *text)
{
	int			i = b->nparams;

	if (i >= CLEANUP_MAX_PARAMS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a cleanup hook may bind at most %d values",
						CLEANUP_MAX_PARAMS)));
	b->types[i] = typid;
	if (text == NULL)
	{
		b->values[i] = (Datum) 0;
		b->nulls[i] = 'n';
	}
	else
	{
		Oid			typinput;
		Oid			typioparam;

		getTypeInputInfo(typid, &typinput, &typioparam);
		b->values[i] = OidInputFunctionCall(typinput, (char *) text,
											typioparam, typmod);
		b->nulls[i] = ' ';
	}
	b->nparams++;
	return b->nparams;
}

static int
bind_column(SqlBuild *b, ColumnInfo *ci, const char *text)
{
	return bind_value(b, ci->typid, ci->typmod, text);
}

static void
build_init(SqlBuild *b)
{
	memset(b, 0, sizeof(SqlBuild));
	initStringInfo(&b->sql);
}

static void
append_cond_start(SqlBuild *b)
{
	appendStringInfoString(&b->sql, b->has_where ? " AND " : " WHERE ");
	b->has_where = true;
}

/* "col = $n, ..." for an object of column: value. */
static void
append_assignments(SqlBuild *b, const ActionTable *t, JsonbContainer *set,
				   const char *key, bool first)
{
	List	   *keys;
	List	   *values;
	ListCell   *lk;
	ListCell   *lv;

	object_pairs(set, &keys, &values);
	forboth(lk, keys, lv, values)
	{
		ColumnInfo	ci;
		int			n;

		resolve_column(t, lfirst(lk), &ci);
		n = bind_column(b, &ci, scalar_text(lfirst(lv), key));
		appendStringInfo(&b->sql, "%s%s = $%d", first ? "" : ", ", ci.quoted, n);
		first = false;
	}
}

/*
 * Structured conditions: [{"column": c, "op": o, "value": v}, ...], ANDed.
 * Operators come from a fixed list; values are bound.
 */
static void
append_where(SqlBuild *b, const ActionTable *t, JsonbContainer *options)
{
	static const char *const cond_keys[] = {"column", "op", "value", NULL};
	static const char *const scalar_ops[] = {"=", "<>", "<", "<=", ">", ">=",
	"like", "not like", NULL};
	JsonbContainer *arr = opt_container(options, "where", false, NULL);
	ListCell   *lc;

	if (arr == NULL)
		return;
	foreach(lc, array_elems(arr))
	{
		JsonbValue *elem = lfirst(lc);
		JsonbContainer *cond;
		char	   *column;
		char	   *op;
		JsonbValue *value;
		ColumnInfo	ci;
		const char *const *o;

		if (elem->type != jbvBinary || !JsonContainerIsObject(elem->val.binary.data))
			opt_type_error("where", "an array of {\"column\", \"op\", \"value\"} objects");
		cond = elem->val.binary.data;
		check_keys(cond, "where", cond_keys);
		column = opt_text(cond, "column", "where");
		op = opt_text(cond, "op", NULL);
		if (op == NULL)
			op = "=";
		else if (strcmp(op, "!=") == 0)
			op = "<>";
		else
			op = asc_tolower(op, strlen(op));
		value = opt_get(cond, "value");
		resolve_column(t, column, &ci);
		append_cond_start(b);

		if (strcmp(op, "is null") == 0 || strcmp(op, "is not null") == 0)
		{
			if (value != NULL)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("condition \"%s\" on column \"%s\" takes no value",
								op, column)));
			appendStringInfo(&b->sql, "%s %s", ci.quoted,
							 op[3] == 'n' ? "IS NOT NULL" : "IS NULL");
			continue;
		}
		if (value == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("condition on column \"%s\" needs a non-null value", column),
					 errhint("Use op \"is null\" to match null values.")));

		if (strcmp(op, "in") == 0 || strcmp(op, "not in") == 0)
		{
			List	   *elems = NIL;
			ListCell   *le;
			bool		first = true;

			if (value->type == jbvBinary && JsonContainerIsArray(value->val.binary.data))
				elems = array_elems(value->val.binary.data);
			if (elems == NIL)
				opt_type_error("value", "a non-empty array for op \"in\"");
			appendStringInfo(&b->sql, "%s %s (", ci.quoted,
							 op[0] == 'n' ? "NOT IN" : "IN");
			foreach(le, elems)
			{
				appendStringInfo(&b->sql, "%s$%d", first ? "" : ", ",
								 bind_column(b, &ci, scalar_text(lfirst(le), "where")));
				first = false;
			}
			appendStringInfoChar(&b->sql, ')');
			continue;
		}

		for (o = scalar_ops; *o != NULL; o++)
			if (strcmp(*o, op) == 0)
				break;
		if (*o == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown operator \"%s\" in cleanup condition", op),
					 errhint("Use one of =, <>, <, <=, >, >=, like, not like, in, not in, is null, is not null.")));
		appendStringInfo(&b->sql, "%s %s $%d", ci.quoted,
						 (strcmp(op, "like") == 0) ? "LIKE" :
						 (strcmp(op, "not like") == 0) ? "NOT LIKE" : op,
						 bind_column(b, &ci, scalar_text(value, "where")));
	}
}

/* Run (or, when validating, only prepare) the built statement. */
static uint64
build_exec(SqlBuild *b, CleanupMode mode)
{
	int			rc;

	if (mode == CLEANUP_VALIDATE)
	{
		(void) pitr_spi_prepare(b->sql.data, b->nparams, b->types, false);
		return 0;
	}
	rc = SPI_execute_with_args(b->sql.data, b->nparams, b->types, b->values,
							   b->nulls, false, 0);
	pitr_spi_check(rc, 0, "running a cleanup action");
	return SPI_processed;
}

/*
 * A statement on a table, built (its values' input functions included) and
 * run as the table's owner: build_begin_as, then build_end_as.
 */
static void
build_begin_as(SqlBuild *b, Oid relid)
{
	build_init(b);
	run_as_begin(&b->ra, table_owner(relid), CLEANUP_RESTRICTED_SEARCH_PATH);
}

static uint64
build_end_as(SqlBuild *b, CleanupMode mode)
{
	uint64		n = build_exec(b, mode);

	run_as_end(&b->ra);
	return n;
}

static const char *
verb(CleanupMode mode, const char *done)
{
	return mode == CLEANUP_DRY_RUN ? psprintf("would be %s", done) : done;
}

/*
 * A server setting of the server the hook runs on, as its configuration
 * holds it (postgresql.conf, ALTER SYSTEM, the command line): never a value
 * the caller set in a session, for a role or for a database, so nobody who
 * may run the hooks chooses a password through them.  ERROR when unset.
 */
static const char *
target_setting(const char *name)
{
	bool		overridden;
	const char *value = pitr_server_setting(name, &overridden);

	if (value == NULL && overridden)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("setting \"%s\" is not taken from the server's configuration", name),
				 errdetail("A value set in a session, for a role or for a database is never used by a cleanup hook."),
				 errhint("Set it in postgresql.conf or with ALTER SYSTEM.")));
	if (value == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("setting \"%s\" is not set on this server", name),
				 errhint("Set it in the configuration of the server the restore runs on.")));
	return value;
}

/* ---- actions ---- */

/* set_column: {"table", "set": {col: value}, "where": [...]} */
static int64
action_set_column(JsonbContainer *opts, CleanupMode mode, char **detail)
{
	SqlBuild	b;
	ActionTable t;
	uint64		n;

	action_table(opts, "set_column", &t);
	build_begin_as(&b, t.relid);
	appendStringInfo(&b.sql, "UPDATE %s SET ", t.quoted);
	append_assignments(&b, &t,
					   opt_container(opts, "set", true, "set_column"), "set", true);
	if (b.nparams == 0)
		opt_type_error("set", "a non-empty object");
	append_where(&b, &t, opts);
	n = build_end_as(&b, mode);
	*detail = psprintf("%llu rows of %s %s", (unsigned long long) n, t.name,
					   verb(mode, "updated"));
	return (int64) n;
}

/* expect_rows: {"table", "where", "expected" | "min" | "max"} */
static int64
action_expect_rows(JsonbContainer *opts, CleanupMode mode, char **detail)
{
	SqlBuild	b;
	ActionTable t;
	int64		expected = 0,
				min = 0,
				max = 0,
				count;
	bool		has_expected = opt_int(opts, "expected", &expected);
	bool		has_min = opt_int(opts, "min", &min);
	bool		has_max = opt_int(opts, "max", &max);
	bool		isnull;

	if (!has_expected && !has_min && !has_max)
		opt_missing("expected", "expect_rows");
	action_table(opts, "expect_rows", &t);
	build_begin_as(&b, t.relid);
	appendStringInfo(&b.sql, "SELECT pg_catalog.count(*) FROM %s", t.quoted);
	append_where(&b, &t, opts);
	(void) build_end_as(&b, mode);
	if (mode == CLEANUP_VALIDATE)
		return 0;

	count = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
										SPI_tuptable->tupdesc, 1, &isnull));
	if ((has_expected && count != expected) ||
		(has_min && count < min) || (has_max && count > max))
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("%s has " INT64_FORMAT " matching rows, expected %s", t.name, count,
						has_expected ? psprintf(INT64_FORMAT, expected) :
						psprintf("%s%s%s",
								 has_min ? psprintf("at least " INT64_FORMAT, min) : "",
								 has_min && has_max ? " and " : "",
								 has_max ? psprintf("at most " INT64_FORMAT, max) : ""))));
	*detail = psprintf(INT64_FORMAT " matching rows in %s, as expected", count, t.name);
	return count;
}

/* pg_cron: close runs the restore interrupted; optionally pause every job. */
static int64
jobs_waiting_pg_cron(JsonbContainer *opts, CleanupMode mode, char **detail)
{
	const char *message = opt_text(opts, "message", NULL);
	bool		pause = opt_bool(opts, "pause_jobs", false);
	const char *runs;
	const char *jobs = NULL;
	SqlBuild	b;
	uint64		closed;
	uint64		paused = 0;
	Oid			runs_relid;
	Oid			jobs_relid = InvalidOid;

	if (message == NULL)
		message = "interrupted by a point-in-time restore; closed by pitr_restore cleanup";
	refuse_options(opts, "table", "from", true, "\"pg_cron\"");
	runs_relid = resolve_table("cron.job_run_details", &runs);
	if (pause)
		jobs_relid = resolve_table("cron.job", &jobs);

	build_begin_as(&b, runs_relid);
	appendStringInfo(&b.sql,
					 "UPDATE %s SET status = 'failed', return_message = $%d, "
					 "end_time = COALESCE(end_time, pg_catalog.now()) "
					 "WHERE status IN ('running', 'starting')",
					 runs, bind_value(&b, TEXTOID, -1, message));
	closed = build_end_as(&b, mode);
	if (pause)
	{
		build_begin_as(&b, jobs_relid);
		appendStringInfo(&b.sql, "UPDATE %s SET active = false WHERE active", jobs);
		paused = build_end_as(&b, mode);
	}
	*detail = psprintf("%llu pg_cron runs %s, %llu jobs %s",
					   (unsigned long long) closed, verb(mode, "closed as failed"),
					   (unsigned long long) paused, verb(mode, "paused"));
	return (int64) (closed + paused);
}

/*
 * jobs_waiting: {"table", "status_column", "from": [..], "to", "set"}, or
 * {"pg_cron": true, "pause_jobs", "message"}.
 */
static int64
action_jobs_waiting(JsonbContainer *opts, CleanupMode mode, char **detail)
{
	SqlBuild	b;
	ActionTable t;
	const char *status;
	ColumnInfo	ci;
	JsonbValue *to;
	JsonbContainer *set;
	List	   *from;
	ListCell   *lc;
	bool		first = true;
	uint64		n;

	if (opt_bool(opts, "pg_cron", false))
		return jobs_waiting_pg_cron(opts, mode, detail);
	refuse_options(opts, "pause_jobs", "message", false, "\"pg_cron\": true");

	action_table(opts, "jobs_waiting", &t);
	build_begin_as(&b, t.relid);
	status = opt_text(opts, "status_column", NULL);
	resolve_column(&t, status ? status : "status", &ci);
	if ((to = opt_get(opts, "to")) == NULL)
		opt_missing("to", "jobs_waiting");
	from = array_elems(opt_container(opts, "from", false, "jobs_waiting"));
	if (from == NIL)
		opt_type_error("from", "a non-empty array");

	appendStringInfo(&b.sql, "UPDATE %s SET %s = $%d", t.quoted, ci.quoted,
					 bind_column(&b, &ci, scalar_text(to, "to")));
	if ((set = opt_container(opts, "set", true, NULL)) != NULL)
		append_assignments(&b, &t, set, "set", false);
	appendStringInfo(&b.sql, " WHERE %s IN (", ci.quoted);
	foreach(lc, from)
	{
		appendStringInfo(&b.sql, "%s$%d", first ? "" : ", ",
						 bind_column(&b, &ci, scalar_text(lfirst(lc), "from")));
		first = false;
	}
	appendStringInfoChar(&b.sql, ')');
	n = build_end_as(&b, mode);
	*detail = psprintf("%llu jobs of %s %s", (unsigned long long) n, t.name,
					   verb(mode, "set back to waiting"));
	return (int64) n;
}

/* reset_admin, role mode: {"role", "password_setting", "login"} */
static int64
reset_admin_role(JsonbContainer *opts, CleanupMode mode, char **detail)
{
	const char *role = opt_text(opts, "role", "reset_admin");
	const char *setting = opt_text(opts, "password_setting", NULL);
	bool		login = opt_bool(opts, "login", true);
	StringInfoData sql;

	refuse_options(opts, "table", "key", true, "\"role\"");
	if (setting == NULL && !login)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cleanup action \"reset_admin\" on role \"%s\" has nothing to reset", role),
				 errhint("Give \"password_setting\" or leave \"login\" true.")));
	(void) get_role_oid(role, false);
	if (mode == CLEANUP_VALIDATE)
		return 0;

	initStringInfo(&sql);
	appendStringInfo(&sql, "ALTER ROLE %s%s", quote_identifier(role),
					 login ? " LOGIN" : "");
	if (setting != NULL)
	{
		const char *verifier = target_setting(setting);

		/* a clear-text password would end up in the role's catalog row */
		if (get_password_type(verifier) == PASSWORD_TYPE_PLAINTEXT)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("setting \"%s\" does not hold a password verifier", setting),
					 errdetail("Store a SCRAM-SHA-256 or MD5 verifier, not a clear-text password.")));
		/* utility statements take no parameters: quote the literal */
		appendStringInfo(&sql, " PASSWORD %s", quote_literal_cstr(verifier));
	}
	pitr_spi_check(SPI_execute(sql.data, false, 0), 0, "resetting a role");
	*detail = psprintf("role %s %s%s", role, verb(mode, "reset"),
					   setting ? psprintf(", password from setting %s", setting) : "");
	return 1;
}

/*
 * reset_admin, table mode: {"table", "key": {col: value}, "settings":
 * {col: setting name}, "set": {col: value}, "require_row"}.  Setting values
 * are those of the server the hook runs on.
 */
static int64
action_reset_admin(JsonbContainer *opts, CleanupMode mode, char **detail)
{
	SqlBuild	b;
	ActionTable t;
	JsonbContainer *settings;
	JsonbContainer *set;
	List	   *skeys,
			   *svals,
			   *kkeys,
			   *kvals;
	ListCell   *lk,
			   *lv;
	bool		first = true;
	uint64		n;

	if (opt_get(opts, "role") != NULL)
		return reset_admin_role(opts, mode, detail);
	refuse_options(opts, "password_setting", "login", false, "\"role\"");

	action_table(opts, "reset_admin", &t);
	object_pairs(opt_container(opts, "key", true, "reset_admin"), &kkeys, &kvals);
	if (kkeys == NIL)
		opt_type_error("key", "a non-empty object");
	settings = opt_container(opts, "settings", true, NULL);
	set = opt_container(opts, "set", true, NULL);
	if (settings == NULL && set == NULL)
		opt_missing("settings", "reset_admin");

	build_begin_as(&b, t.relid);
	appendStringInfo(&b.sql, "UPDATE %s SET ", t.quoted);
	if (settings != NULL)
	{
		object_pairs(settings, &skeys, &svals);
		forboth(lk, skeys, lv, svals)
		{
			JsonbValue *sv = lfirst(lv);
			ColumnInfo	ci;
			char	   *sname;

			if (sv->type != jbvString)
				opt_type_error("settings", "an object of column: setting name");
			sname = pnstrdup(sv->val.string.val, sv->val.string.len);
			resolve_column(&t, lfirst(lk), &ci);
			appendStringInfo(&b.sql, "%s%s = $%d", first ? "" : ", ", ci.quoted,
							 bind_column(&b, &ci, mode == CLEANUP_VALIDATE ? NULL :
										 target_setting(sname)));
			first = false;
		}
	}
	if (set != NULL)
		append_assignments(&b, &t, set, "set", first);
	forboth(lk, kkeys, lv, kvals)
	{
		ColumnInfo	ci;

		resolve_column(&t, lfirst(lk), &ci);
		append_cond_start(&b);
		appendStringInfo(&b.sql, "%s = $%d", ci.quoted,
						 bind_column(&b, &ci, scalar_text(lfirst(lv), "key")));
	}
	n = build_end_as(&b, mode);
	if (mode != CLEANUP_VALIDATE && n == 0 && opt_bool(opts, "require_row", true))
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("no row of %s matches the admin key", t.name)));
	*detail = psprintf("%llu admin rows of %s %s from server settings",
					   (unsigned long long) n, t.name, verb(mode, "reset"));
	return (int64) n;
}

/* disable_subscriptions: {"except": [names]} */
static int64
action_disable_subscriptions(JsonbContainer *opts, CleanupMode mode, char **detail)
{
	JsonbContainer *except_c;
	List	   *except = NIL;
	List	   *names = NIL;
	ListCell   *lc;
	SqlBuild	b;
	StringInfoData done;
	uint64		i;
	int64		n = 0;

	if ((except_c = opt_container(opts, "except", false, NULL)) != NULL)
	{
		foreach(lc, array_elems(except_c))
		{
			JsonbValue *v = lfirst(lc);

			if (v->type != jbvString)
				opt_type_error("except", "an array of subscription names");
			except = lappend(except, pnstrdup(v->val.string.val, v->val.string.len));
		}
	}

	build_init(&b);
	appendStringInfo(&b.sql,
					 "SELECT subname::text FROM pg_catalog.pg_subscription "
					 "WHERE subdbid = $%d AND subenabled ORDER BY 1",
					 bind_value(&b, OIDOID, -1, psprintf("%u", MyDatabaseId)));
	build_exec(&b, mode);
	if (mode == CLEANUP_VALIDATE)
		return 0;
	for (i = 0; i < SPI_processed; i++)
		names = lappend(names, SPI_getvalue(SPI_tuptable->vals[i],
											SPI_tuptable->tupdesc, 1));

	initStringInfo(&done);
	foreach(lc, names)
	{
		const char *name = lfirst(lc);
		ListCell   *le;
		bool		skip = false;

		CHECK_FOR_INTERRUPTS();
		foreach(le, except)
			skip = skip || strcmp(lfirst(le), name) == 0;
		if (skip)
			continue;
		/* disabling keeps the slot on the publisher; dropping would lose it */
		pitr_spi_check(SPI_execute(psprintf("ALTER SUBSCRIPTION %s DISABLE",
											quote_identifier(name)), false, 0),
					   0, "disabling a subscription");
		appendStringInfo(&done, "%s%s", n > 0 ? ", " : "", name);
		n++;
	}
	*detail = n == 0 ? pstrdup("no enabled subscription") :
		psprintf("subscriptions %s: %s", verb(mode, "disabled"), done.data);
	return n;
}

/*
 * sql: {"statement", "run_as", "search_path"}: one statement, run as is by
 * role run_as (default: the database owner), never implicitly as whoever
 * runs the hooks, with search_path (default pg_catalog, public, pg_temp).
 */
static int64
action_sql(JsonbContainer *opts, CleanupMode mode, char **detail)
{
	const char *stmt;
	const char *run_as;
	const char *search_path;
	Oid			role;
	List	   *parsed;
	int			rc;
	RunAs		ra;

	stmt = opt_text(opts, "statement", "sql");
	run_as = opt_text(opts, "run_as", NULL);
	role = run_as ? get_role_oid(run_as, false) : database_owner();
	search_path = opt_text(opts, "search_path", NULL);
	if (search_path == NULL)
		search_path = CLEANUP_SQL_SEARCH_PATH;
	parsed = raw_parser(stmt, RAW_PARSE_DEFAULT);
	if (list_length(parsed) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cleanup option \"statement\" must hold exactly one SQL statement")));
	if (IsA(((RawStmt *) linitial(parsed))->stmt, TransactionStmt))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cleanup option \"statement\" cannot be a transaction control statement")));
	if (mode == CLEANUP_VALIDATE)
	{
		/* catches unknown tables and columns now rather than at 3 a.m. */
		run_as_begin(&ra, role, search_path);
		(void) pitr_spi_prepare(stmt, 0, NULL, false);
		run_as_end(&ra);
		return 0;
	}
	if (mode == CLEANUP_DRY_RUN)
	{
		/* its effects may not be transactional: do not run it */
		*detail = pstrdup("statement not run in a dry run");
		return -1;
	}
	run_as_begin(&ra, role, search_path);
	rc = SPI_execute(stmt, false, 0);
	run_as_end(&ra);
	pitr_spi_check(rc, 0, "running a cleanup statement");
	*detail = psprintf("%s, %llu rows", SPI_result_code_string(rc) + strlen("SPI_OK_"),
					   (unsigned long long) SPI_processed);
	return (int64) SPI_processed;
}

/*
 * The actions, each with the options it takes (check_keys: a typo in an
 * option name is an error before the action reads any).
 */
typedef struct CleanupAction
{
	const char *name;
	int64		(*run) (JsonbContainer *opts, CleanupMode mode, char **detail);
	const char *keys[10];		/* NULL-terminated */
} CleanupAction;

static const CleanupAction actions[] = {
	{"set_column", action_set_column, {"table", "set", "where", NULL}},
	{"expect_rows", action_expect_rows,
	{"table", "where", "expected", "min", "max", NULL}},
	{"jobs_waiting", action_jobs_waiting,
	{"table", "status_column", "from", "to", "set", "pg_cron", "pause_jobs",
	"message", NULL}},
	{"reset_admin", action_reset_admin,
	{"table", "key", "settings", "set", "require_row", "role",
	"password_setting", "login", NULL}},
	{"disable_subscriptions", action_disable_subscriptions, {"except", NULL}},
	{"sql", action_sql, {"statement", "run_as", "search_path", NULL}},
};

static int64
dispatch(const char *action, Jsonb *options, CleanupMode mode, char **detail)
{
	JsonbContainer *opts = &options->root;

	if (!JB_ROOT_IS_OBJECT(options) || JB_ROOT_IS_SCALAR(options))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cleanup hook options must be a JSON object")));
	(void) opt_bool(opts, "stop_on_error", false);
	*detail = NULL;

	for (int i = 0; i < lengthof(actions); i++)
	{
		if (strcmp(action, actions[i].name) != 0)
			continue;
		check_keys(opts, action, actions[i].keys);
		return actions[i].run(opts, mode, detail);
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown cleanup action \"%s\"", action),
			 errhint("Known actions are reset_admin, jobs_waiting, disable_subscriptions, set_column, expect_rows and sql.")));
	return 0;					/* keep compiler quiet */
}

/*
 * The options with their "table" named by schema, as the caller's
 * search_path finds it now: hooks run with a pinned search_path, where an
 * unqualified name would find nothing (or, unpinned, someone else's table).
 */
Jsonb *
cleanup_qualify_options(Jsonb *options)
{
	JsonbValue *v;
	const char *quoted;
	char	   *table;
	StringInfoData json;

	if (!JB_ROOT_IS_OBJECT(options) || JB_ROOT_IS_SCALAR(options))
		return options;
	v = opt_get(&options->root, "table");
	if (v == NULL || v->type != jbvString)
		return options;
	table = pnstrdup(v->val.string.val, v->val.string.len);
	(void) resolve_table(table, &quoted);
	initStringInfo(&json);
	appendStringInfoString(&json, "{\"table\": ");
	escape_json(&json, quoted);
	appendStringInfoChar(&json, '}');
	return DatumGetJsonbP(DirectFunctionCall2(jsonb_concat, JsonbPGetDatum(options),
											  DirectFunctionCall1(jsonb_in,
																  CStringGetDatum(json.data))));
}

/* Needs SPI connected: the statement is prepared to check it. */
void
cleanup_validate(const char *action, Jsonb *options)
{
	char	   *detail;

	(void) dispatch(action, options, CLEANUP_VALIDATE, &detail);
}

int64
cleanup_execute(const char *action, Jsonb *options, bool dry_run, char **detail)
{
	return dispatch(action, options, dry_run ? CLEANUP_DRY_RUN : CLEANUP_RUN,
					detail);
}

bool
cleanup_stop_on_error(Jsonb *options)
{
	if (!JB_ROOT_IS_OBJECT(options) || JB_ROOT_IS_SCALAR(options))
		return false;
	return opt_bool(&options->root, "stop_on_error", false);
}
