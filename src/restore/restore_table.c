/*-------------------------------------------------------------------------
 *
 * restore_table.c
 *	  restore_table(): one table as it was at a recovery target, copied into
 *	  the live database under a new name.
 *
 * The target is resolved first (an unreachable one is an ERROR with the
 * resolver's reason), then prepare_restore builds a side server
 * (side_server.c, built by the steps in side_restore.c) that replays to
 * the target and pauses.  The table is
 * found there by its OID (the physical copy keeps OIDs), so it is the same
 * table whatever it was called at the time.  Its definition is read from
 * the side server's catalog with the server's own deparsers (format_type,
 * pg_get_expr, pg_get_constraintdef, pg_get_indexdef, with an empty
 * search_path so every name comes qualified), created here as new_name by
 * the caller (who owns it), filled by COPY streamed over libpq into the
 * server's own COPY FROM (no second login to this server, same
 * transaction), then given its constraints and indexes.  The copy never
 * draws on a live sequence: a default nextval() gets a new sequence of
 * its own, an identity column its own identity, each with the options
 * and the value the old one had at the target.  Foreign keys are added
 * last, in subtransactions: validated when the old rows satisfy them
 * (one to the table itself points to the copy), NOT VALID when they do
 * not, left out when what they reference is gone; a NOTICE names each
 * one not copied as it was.  The side server is stopped and removed
 * whatever happens.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/dbcommands.h"
#include "catalog/pg_authid.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/resowner.h"
#include "utils/varlena.h"

#include "restore/side_restore.h"
#include "util/privilege.h"
#include "util/subxact.h"

PG_FUNCTION_INFO_V1(pitr_restore_table);

/* Only who may read and write server files and run programs (privilege.c). */
static void
check_restore_privileges(void)
{
	pitr_check_side_server_privilege("restore a table");
}

/* new_name: its schema must exist, the table must not. */
static RangeVar *
check_new_name(text *new_name)
{
	RangeVar   *rv = makeRangeVarFromNameList(textToQualifiedNameList(new_name));
	Oid			nsp;

	if (rv->schemaname)
	{
		nsp = get_namespace_oid(rv->schemaname, true);
		if (!OidIsValid(nsp))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_SCHEMA),
					 errmsg("schema \"%s\" does not exist", rv->schemaname)));
	}
	else
	{
		nsp = RangeVarGetCreationNamespace(rv);
		rv->schemaname = get_namespace_name(nsp);
	}
	if (OidIsValid(get_relname_relid(rv->relname, nsp)))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("relation \"%s.%s\" already exists",
						rv->schemaname, rv->relname)));
	return rv;
}

/* Every table this database (or its journal) knew by that name. */
static List *
relation_oids(text *relation)
{
	Oid			types[1] = {TEXTOID};
	Datum		v[1];
	List	   *volatile oids = NIL;

	v[0] = PointerGetDatum(relation);
	if (SPI_execute_with_args(
							  "WITH p AS (SELECT pg_catalog.parse_ident($1) AS a) "
							  "SELECT DISTINCT o FROM ("
							  " SELECT j.reloid AS o FROM pitr_restore.relation_journal j, p"
							  "  WHERE j.relname OPERATOR(pg_catalog.=) p.a[pg_catalog.array_length(p.a, 1)]"
							  "    AND (pg_catalog.array_length(p.a, 1) OPERATOR(pg_catalog.=) 1"
							  "         OR j.nspname OPERATOR(pg_catalog.=) p.a[1])"
							  " UNION"
							  " SELECT c.oid FROM pg_catalog.pg_class c"
							  "   JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace, p"
							  "  WHERE c.relname OPERATOR(pg_catalog.=) p.a[pg_catalog.array_length(p.a, 1)]"
							  "    AND (pg_catalog.array_length(p.a, 1) OPERATOR(pg_catalog.=) 1"
							  "         OR n.nspname OPERATOR(pg_catalog.=) p.a[1])"
							  "    AND c.relkind OPERATOR(pg_catalog.=) 'r') s",
							  1, types, v, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not look up the relation");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		oids = lappend_oid(oids, DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
																SPI_tuptable->tupdesc, 1, &isnull)));
	}
	if (oids == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"%s\" was never seen in this database",
						text_to_cstring(relation))));
	return oids;
}

/* The table's OID and qualified name in the side server (as it was). */
static Oid
find_at_target(PitrSideServer *s, List *oids, const char *relation, char **name,
			   char **relname)
{
	StringInfoData sql;
	ListCell   *lc;
	PGresult   *res;
	Oid			found;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT c.oid, pg_catalog.format('%I.%I', n.nspname, c.relname), c.relname "
						   "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
						   "ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND c.oid IN (0");
	foreach(lc, oids)
		appendStringInfo(&sql, ", %u", lfirst_oid(lc));
	appendStringInfoChar(&sql, ')');
	res = pitr_side_query(s, sql.data, PGRES_TUPLES_OK);
	if (PQntuples(res) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"%s\" did not exist at the target", relation)));
	if (PQntuples(res) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_AMBIGUOUS_ALIAS),
				 errmsg("relation name \"%s\" is ambiguous at the target", relation),
				 errhint("Qualify it with its schema.")));
	found = (Oid) strtoul(PQgetvalue(res, 0, 0), NULL, 10);
	*name = pstrdup(PQgetvalue(res, 0, 1));
	*relname = pstrdup(PQgetvalue(res, 0, 2));
	PQclear(res);
	return found;
}

/* A name for a copied constraint or index: the new table's name first. */
static char *
copied_name(const char *oldrel, const char *newrel, const char *name)
{
	char	   *n;
	size_t		ol = strlen(oldrel);

	if (strncmp(name, oldrel, ol) == 0)
		n = psprintf("%s%s", newrel, name + ol);
	else
		n = psprintf("%s_%s", newrel, name);
	n[pg_mbcliplen(n, strlen(n), NAMEDATALEN - 1)] = '\0';
	return n;
}

static void
run_ddl(const char *sql)
{
	if (SPI_execute(sql, false, 0) < 0)
		elog(ERROR, "could not run \"%s\"", sql);
}

/* A sequence as it was at the target: options and value. */
typedef struct SideSequence
{
	char	   *att;			/* the column it feeds */
	char	   *oldname;		/* qualified, as the side server names it */
	char	   *options;		/* INCREMENT BY ... [NO] CYCLE */
	char	   *type;			/* its data type */
	char	   *last_value;
	bool		is_called;
	char	   *newname;		/* qualified: the copy's own (NULL: identity) */
} SideSequence;

static SideSequence *
side_sequence(PitrSideServer *s, const char *seqoid, const char *att)
{
	SideSequence *q = palloc0(sizeof(SideSequence));
	PGresult   *res;
	char		sql[1024];

	snprintf(sql, sizeof(sql),
			 "SELECT pg_catalog.format('%%I.%%I', n.nspname, c.relname), "
			 "pg_catalog.format_type(s.seqtypid, NULL), "
			 "pg_catalog.format('INCREMENT BY %%s MINVALUE %%s MAXVALUE %%s START WITH %%s CACHE %%s %%s', "
			 "  s.seqincrement, s.seqmin, s.seqmax, s.seqstart, s.seqcache, "
			 "  CASE WHEN s.seqcycle THEN 'CYCLE' ELSE 'NO CYCLE' END) "
			 "FROM pg_catalog.pg_sequence s JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid "
			 "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE s.seqrelid = %s",
			 seqoid);
	res = pitr_side_query(s, sql, PGRES_TUPLES_OK);
	if (PQntuples(res) != 1)
		elog(ERROR, "could not read sequence %s on the side server", seqoid);
	q->att = pstrdup(att);
	q->oldname = pstrdup(PQgetvalue(res, 0, 0));
	q->type = pstrdup(PQgetvalue(res, 0, 1));
	q->options = pstrdup(PQgetvalue(res, 0, 2));
	PQclear(res);
	res = pitr_side_query(s, psprintf("SELECT last_value, is_called FROM %s", q->oldname),
						  PGRES_TUPLES_OK);
	q->last_value = pstrdup(PQgetvalue(res, 0, 0));
	q->is_called = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	PQclear(res);
	return q;
}

/*
 * The column default "def" drawing on the copy's own new sequence instead
 * of "q"'s old one, which is created here; NULL (nothing created) if the
 * default does not name the old sequence as the deparser does.
 */
static char *
default_on_new_sequence(SideSequence *q, RangeVar *rv, const char *def)
{
	const char *from = psprintf("%s::regclass", quote_literal_cstr(q->oldname));
	const char *at = strstr(def, from);
	char	   *seqname;
	const char *to;

	if (at == NULL)
		return NULL;
	seqname = ChooseRelationName(rv->relname, q->att, "seq",
								 get_namespace_oid(rv->schemaname, false), false);
	q->newname = pstrdup(quote_qualified_identifier(rv->schemaname, seqname));
	run_ddl(psprintf("CREATE SEQUENCE %s AS %s %s", q->newname, q->type, q->options));
	to = psprintf("%s::regclass", quote_literal_cstr(q->newname));
	return psprintf("%.*s%s%s", (int) (at - def), def, to, at + strlen(from));
}

/*
 * After the rows: each new sequence belongs to its column, and every
 * sequence of the copy (identities too) stands where the old one stood at
 * the target, as a dump of the side server would set it.
 */
static void
place_sequences(RangeVar *rv, List *seqs)
{
	const char *newq = quote_qualified_identifier(rv->schemaname, rv->relname);
	ListCell   *lc;

	foreach(lc, seqs)
	{
		SideSequence *q = lfirst(lc);
		const char *seq = q->newname;

		if (seq == NULL)
			seq = psprintf("pg_catalog.pg_get_serial_sequence(%s, %s)::pg_catalog.regclass",
						   quote_literal_cstr(newq), quote_literal_cstr(q->att));
		else
		{
			run_ddl(psprintf("ALTER SEQUENCE %s OWNED BY %s.%s", seq, newq,
							 quote_identifier(q->att)));
			seq = quote_literal_cstr(seq);
		}
		run_ddl(psprintf("SELECT pg_catalog.setval(%s, %s, %s)", seq,
						 q->last_value, q->is_called ? "true" : "false"));
		if (q->newname)
			ereport(NOTICE,
					(errmsg("column %s draws on new sequence %s, at the value %s had at the target",
							quote_identifier(q->att), q->newname, q->oldname)));
	}
}

/* CREATE TABLE with its columns; the list of columns COPY fills. */
static void
create_table(PitrSideServer *s, Oid reloid, RangeVar *rv, StringInfo cols,
			 List **attnames, List **seqs)
{
	StringInfoData sql;
	PGresult   *res;
	char		q[2048];

	/* the sequence a default draws on, or an identity's own */
	snprintf(q, sizeof(q),
			 "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), "
			 "a.attnotnull, pg_catalog.pg_get_expr(d.adbin, d.adrelid), a.attidentity, "
			 "a.attgenerated, CASE WHEN a.attcollation <> t.typcollation "
			 "THEN pg_catalog.format('%%I.%%I', cn.nspname, co.collname) END, "
			 "(SELECT pg_catalog.min(dp.refobjid) FROM pg_catalog.pg_depend dp "
			 "  JOIN pg_catalog.pg_class sc ON sc.oid = dp.refobjid AND sc.relkind = 'S' "
			 "  WHERE dp.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass AND dp.objid = d.oid "
			 "    AND dp.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass), "
			 "(SELECT pg_catalog.min(dp.objid) FROM pg_catalog.pg_depend dp "
			 "  WHERE a.attidentity <> '' AND dp.classid = 'pg_catalog.pg_class'::pg_catalog.regclass "
			 "    AND dp.refobjid = a.attrelid AND dp.refobjsubid = a.attnum AND dp.deptype = 'i') "
			 "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
			 "LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
			 "LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation "
			 "LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace "
			 "WHERE a.attrelid = %u AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
			 reloid);
	res = pitr_side_query(s, q, PGRES_TUPLES_OK);
	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE TABLE %s (",
					 quote_qualified_identifier(rv->schemaname, rv->relname));
	for (int i = 0; i < PQntuples(res); i++)
	{
		const char *att = quote_identifier(PQgetvalue(res, i, 0));
		const char *def = PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3);
		const char *ident = PQgetvalue(res, i, 4);
		bool		generated = PQgetvalue(res, i, 5)[0] == 's';

		appendStringInfo(&sql, "%s%s %s", i ? ", " : "", att, PQgetvalue(res, i, 1));
		if (!PQgetisnull(res, i, 6))
			appendStringInfo(&sql, " COLLATE %s", PQgetvalue(res, i, 6));
		if (generated)
			appendStringInfo(&sql, " GENERATED ALWAYS AS (%s) STORED", def);
		else if (def && !PQgetisnull(res, i, 7))
		{
			SideSequence *q = side_sequence(s, PQgetvalue(res, i, 7), PQgetvalue(res, i, 0));
			char	   *newdef = default_on_new_sequence(q, rv, def);

			if (newdef == NULL)
				ereport(NOTICE,
						(errmsg("default of column %s is not copied: it draws on sequence %s in a way not understood",
								att, q->oldname),
						 errdetail("The default is: %s", def)));
			else
			{
				appendStringInfo(&sql, " DEFAULT %s", newdef);
				*seqs = lappend(*seqs, q);
			}
		}
		else if (def)
			appendStringInfo(&sql, " DEFAULT %s", def);
		if ((ident[0] == 'a' || ident[0] == 'd') && !PQgetisnull(res, i, 8))
		{
			SideSequence *q = side_sequence(s, PQgetvalue(res, i, 8), PQgetvalue(res, i, 0));

			appendStringInfo(&sql, " GENERATED %s AS IDENTITY (%s)",
							 ident[0] == 'a' ? "ALWAYS" : "BY DEFAULT", q->options);
			*seqs = lappend(*seqs, q);
		}
		if (strcmp(PQgetvalue(res, i, 2), "t") == 0)
			appendStringInfoString(&sql, " NOT NULL");
		if (!generated)
		{
			appendStringInfo(cols, "%s%s", cols->len ? ", " : "", att);
			*attnames = lappend(*attnames, makeString(pstrdup(PQgetvalue(res, i, 0))));
		}
	}
	appendStringInfoChar(&sql, ')');
	PQclear(res);
	if (SPI_execute(sql.data, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not create the table");
}

/* The copy a constraint or index is rebuilt on. */
typedef struct CopyTarget
{
	const char *oldrel;			/* the table's name at the target */
	RangeVar   *rv;				/* the copy */
	const char *newq;			/* the copy, quoted and qualified */
} CopyTarget;

/* A constraint (pg_get_constraintdef) added to the copy; not a foreign key. */
static char *
constraint_ddl(PGresult *res, int row, const CopyTarget *c)
{
	if (PQgetvalue(res, row, 1)[0] == 'f')
		return NULL;			/* after the indexes: add_foreign_keys */
	return psprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", c->newq,
					quote_identifier(copied_name(c->oldrel, c->rv->relname,
												 PQgetvalue(res, row, 0))),
					PQgetvalue(res, row, 2));
}

/* An index made on the copy: its definition after its "ON t ". */
static char *
index_ddl(PGresult *res, int row, const CopyTarget *c)
{
	const char *def = PQgetvalue(res, row, 2);
	const char *prefix = PQgetvalue(res, row, 3);

	if (strncmp(def, prefix, strlen(prefix)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("could not rebuild index \"%s\" from its definition", PQgetvalue(res, row, 0)),
				 errdetail("Its definition is: %s", def)));
	return psprintf("CREATE %sINDEX %s ON %s %s",
					strcmp(PQgetvalue(res, row, 1), "t") == 0 ? "UNIQUE " : "",
					quote_identifier(copied_name(c->oldrel, c->rv->relname,
												 PQgetvalue(res, row, 0))),
					c->newq, def + strlen(prefix));
}

/* Run on the copy the DDL "ddl" makes of each row "sql" finds at the target. */
static void
rebuild_each(PitrSideServer *s, const char *sql,
			 char *(*ddl) (PGresult *res, int row, const CopyTarget *c),
			 const CopyTarget *c)
{
	PGresult   *res = pitr_side_query(s, sql, PGRES_TUPLES_OK);

	for (int i = 0; i < PQntuples(res); i++)
	{
		char	   *stmt = ddl(res, i, c);

		if (stmt != NULL)
			run_ddl(stmt);
	}
	PQclear(res);
}

/* Constraints (but foreign keys) and indexes, under names of the new table. */
static void
copy_constraints(PitrSideServer *s, Oid reloid, const char *oldrel, RangeVar *rv)
{
	CopyTarget	c;

	c.oldrel = oldrel;
	c.rv = rv;
	c.newq = quote_qualified_identifier(rv->schemaname, rv->relname);

	rebuild_each(s, psprintf("SELECT conname, contype, pg_catalog.pg_get_constraintdef(oid) "
							 "FROM pg_catalog.pg_constraint WHERE conrelid = %u "
							 "AND contype IN ('p', 'u', 'x', 'c', 'f') ORDER BY contype <> 'p', conname",
							 reloid),
				 constraint_ddl, &c);
	/* then the indexes no constraint made */
	rebuild_each(s, psprintf("SELECT ic.relname, i.indisunique, pg_catalog.pg_get_indexdef(i.indexrelid), "
							 "pg_catalog.format('CREATE %%sINDEX %%I ON %%I.%%I ', "
							 "  CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END, ic.relname, n.nspname, c.relname) "
							 "FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
							 "JOIN pg_catalog.pg_class c ON c.oid = i.indrelid "
							 "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
							 "WHERE i.indrelid = %u AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k "
							 "  WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid) ORDER BY 1",
							 reloid),
				 index_ddl, &c);
}

/*
 * Run "sql" in a subtransaction.  NULL if it ran; its error if it failed
 * with one of the "expected" errcodes (the subtransaction rolled back);
 * any other error (a cancel among them) goes on up.
 */
static ErrorData *
try_ddl(const char *sql, const int *expected)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *volatile failed = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		run_ddl(sql);
		pitr_subxact_end(true, oldcxt, oldowner);
	}
	PG_CATCH();
	{
		ErrorData  *edata = pitr_subxact_catch(oldcxt, oldowner);
		bool		known = false;

		for (const int *e = expected; *e != 0; e++)
			known = known || edata->sqlerrcode == *e;
		if (!known)
			ReThrowError(edata);
		failed = edata;
	}
	PG_END_TRY();
	return failed;
}

/* What adding a foreign key may meet when what it references has changed. */
static const int fk_add_errors[] = {
	ERRCODE_UNDEFINED_TABLE, ERRCODE_UNDEFINED_COLUMN, ERRCODE_INVALID_FOREIGN_KEY,
	ERRCODE_DATATYPE_MISMATCH, ERRCODE_WRONG_OBJECT_TYPE,
	ERRCODE_INSUFFICIENT_PRIVILEGE, 0
};
static const int fk_validate_errors[] = {ERRCODE_FOREIGN_KEY_VIOLATION, 0};

/*
 * Foreign keys, last (a reference to the table itself needs the copy's
 * keys): one to the table itself points to the copy; one to another table
 * to that table as it is now.  Each is validated against the copied rows;
 * NOT VALID when they break it (rows of the past may reference rows that
 * are gone), left out when it cannot be added at all.
 */
static void
add_foreign_keys(PitrSideServer *s, Oid reloid, const char *oldname,
				 const char *oldrel, RangeVar *rv)
{
	const char *newq = quote_qualified_identifier(rv->schemaname, rv->relname);
	const char *selfref = psprintf(" REFERENCES %s(", oldname);
	PGresult   *res;
	char		q[512];

	snprintf(q, sizeof(q),
			 "SELECT conname, pg_catalog.pg_get_constraintdef(oid), confrelid = conrelid "
			 "FROM pg_catalog.pg_constraint WHERE conrelid = %u AND contype = 'f' ORDER BY conname",
			 reloid);
	res = pitr_side_query(s, q, PGRES_TUPLES_OK);
	for (int i = 0; i < PQntuples(res); i++)
	{
		const char *con = quote_identifier(copied_name(oldrel, rv->relname, PQgetvalue(res, i, 0)));
		char	   *def = pstrdup(PQgetvalue(res, i, 1));
		const char *at = strstr(def, selfref);
		size_t		len = strlen(def);
		bool		was_valid = true;
		ErrorData  *why;

		/* NOT VALID at the target: it stays so */
		if (len > 10 && strcmp(def + len - 10, " NOT VALID") == 0)
		{
			def[len - 10] = '\0';
			was_valid = false;
		}
		if (strcmp(PQgetvalue(res, i, 2), "t") == 0 && at != NULL)
			def = psprintf("%.*s REFERENCES %s(%s", (int) (at - def), def, newq,
						   at + strlen(selfref));
		why = try_ddl(psprintf("ALTER TABLE %s ADD CONSTRAINT %s %s NOT VALID", newq, con, def),
					  fk_add_errors);
		if (why != NULL)
		{
			ereport(NOTICE,
					(errmsg("foreign key %s is not copied: %s", con, why->message),
					 errdetail("Its definition was: %s", def)));
			continue;
		}
		if (!was_valid)
			continue;
		why = try_ddl(psprintf("ALTER TABLE %s VALIDATE CONSTRAINT %s", newq, con),
					  fk_validate_errors);
		if (why != NULL)
			ereport(NOTICE,
					(errmsg("foreign key %s is copied NOT VALID: rows of the target break it", con),
					 errdetail("%s", why->detail ? why->detail : why->message),
					 errhint("Once the rows it needs are back, run ALTER TABLE %s VALIDATE CONSTRAINT %s.",
							 newq, con)));
	}
	PQclear(res);
}

/*
 * restore_table(relation, new_name, <target arguments>, archive_dir)
 */
Datum
pitr_restore_table(PG_FUNCTION_ARGS)
{
	text	   *relation;
	RangeVar   *rv;
	List	   *oids;
	TupleDesc	tupdesc;
	Datum		values[PITR_SIDE_NRESOLUTION + 1];
	bool		nulls[PITR_SIDE_NRESOLUTION + 1];
	int64		backup_bytes;
	PitrSideServer *s;
	volatile uint64 rows = 0;

	check_restore_privileges();
	tupdesc = pitr_side_call_start(fcinfo, "relation");
	relation = PG_GETARG_TEXT_PP(0);
	rv = check_new_name(PG_GETARG_TEXT_PP(1));

	SPI_connect();
	oids = relation_oids(relation);
	pitr_side_resolve(fcinfo, values, nulls, &backup_bytes);

	s = pitr_side_create();
	PG_TRY();
	{
		char	   *oldname;
		Oid			reloid;
		StringInfoData cols;
		List	   *attnames = NIL;
		List	   *seqs = NIL;
		char	   *oldrel;

		pitr_side_build(fcinfo, s, backup_bytes, get_database_name(MyDatabaseId));
		reloid = find_at_target(s, oids, text_to_cstring(relation), &oldname,
								&oldrel);
		ereport(NOTICE, (errmsg("copying %s as it was into %s", oldname,
								quote_qualified_identifier(rv->schemaname, rv->relname))));
		initStringInfo(&cols);
		create_table(s, reloid, rv, &cols, &attnames, &seqs);
		rows = pitr_side_copy_rows(s, psprintf("SELECT %s FROM ONLY %s", cols.data, oldname),
								   rv, attnames);
		copy_constraints(s, reloid, oldrel, rv);
		add_foreign_keys(s, reloid, oldname, oldrel, rv);
		place_sequences(rv, seqs);
	}
	PG_FINALLY();
	{
		pitr_side_destroy(s);
	}
	PG_END_TRY();
	ereport(NOTICE, (errmsg("side server stopped and removed")));
	SPI_finish();

	values[PITR_SIDE_NRESOLUTION] = Int64GetDatum((int64) rows);
	nulls[PITR_SIDE_NRESOLUTION] = false;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}
