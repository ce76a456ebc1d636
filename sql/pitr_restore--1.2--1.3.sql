/* pitr_restore 1.2 -> 1.3: only what changed, as DDL. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pitr_restore UPDATE TO '1.3'" to load this file. \quit

-- Each concern has its own section below, in this order; a section starts
-- with a comment that says what changed and why.

-- (reliability: sections for issue 19 go here)

-- (model and helpers: sections for issue 20 go here)

-- walk_to_stop: nothing calls it since recovery_windows moved to C (1.2);
-- resolve_target asks the walk in C.  Its C symbol remains, raising an
-- error, only because the 1.1 script declares the function.
DROP FUNCTION pitr_restore.walk_to_stop(integer, integer[], pg_lsn[], pg_lsn,
										text, timestamptz, pg_lsn, bigint,
										text, boolean, pg_lsn);

-- (moment before the mistake: sections for issue 22 go here)
