/* pitr_restore 1.2 -> 1.3: only what changed, as DDL. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pitr_restore UPDATE TO '1.3'" to load this file. \quit

-- Each concern has its own section below, in this order; a section starts
-- with a comment that says what changed and why.

-- (reliability: sections for issue 19 go here)

-- resolve speed: the per-file check of a certified path compares every
-- file with stamps a backend keeps in memory between calls; they are valid
-- exactly while the archive row's index_generation (and its row version)
-- is what they were read under.  Every change of an archive's
-- archive_file rows (INSERT, UPDATE, DELETE, TRUNCATE, by whoever) bumps
-- it in the same transaction, by this trigger (once per archive and
-- subtransaction: a scan writing 65,536 rows makes one new archive row).
-- Its query names everything with its schema, so it needs no pinned
-- search_path (which would cost a GUC save and restore on every row).
ALTER TABLE pitr_restore.archive
	ADD COLUMN index_generation bigint NOT NULL DEFAULT 0;

CREATE FUNCTION pitr_restore._index_changed()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'pitr_index_changed';
REVOKE ALL ON FUNCTION pitr_restore._index_changed() FROM PUBLIC;

CREATE TRIGGER index_changed
	AFTER INSERT OR UPDATE OR DELETE ON pitr_restore.archive_file
	FOR EACH ROW EXECUTE FUNCTION pitr_restore._index_changed();
CREATE TRIGGER index_truncated
	AFTER TRUNCATE ON pitr_restore.archive_file
	FOR EACH STATEMENT EXECUTE FUNCTION pitr_restore._index_changed();
-- also under session_replication_role = replica (a restore, a replica)
ALTER TABLE pitr_restore.archive_file ENABLE ALWAYS TRIGGER index_changed;
ALTER TABLE pitr_restore.archive_file ENABLE ALWAYS TRIGGER index_truncated;

-- (model and helpers: sections for issue 20 go here)

-- (moment before the mistake: sections for issue 22 go here)
