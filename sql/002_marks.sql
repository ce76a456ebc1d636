-- Named restore marks: creation, refusals, privileges; and resolve_target's
-- argument checks.
CREATE EXTENSION pitr_restore;

SELECT pitr_restore.create_mark('before import 42', 'nightly import') IS NOT NULL AS created;
SELECT name, kind, lsn IS NOT NULL AS has_lsn, xid, created_by, description
  FROM pitr_restore.marks;

-- A second mark of a name is refused: recovery would stop at the first.
SELECT pitr_restore.create_mark('before import 42');

-- Names must be what a restore point accepts.
SELECT pitr_restore.create_mark('');
SELECT pitr_restore.create_mark(NULL);
SELECT pitr_restore.create_mark(repeat('x', 64));
SELECT pitr_restore.create_mark(repeat('x', 63)) IS NOT NULL AS longest_name_ok;
-- No control characters: the name lands in postgresql.auto.conf.
SELECT pitr_restore.create_mark(E'before\nimport');
SELECT pitr_restore.create_mark(E'before\rimport');
SELECT pitr_restore.mark_transaction(E'before\timport');
SELECT count(*) AS marks_with_control_characters FROM pitr_restore.marks WHERE name ~ '[[:cntrl:]]';

-- A marked transaction: the mark is part of the transaction.
BEGIN;
CREATE TABLE imported (id int);
INSERT INTO imported VALUES (1);
SELECT pitr_restore.mark_transaction('import 43', 'the import itself') = pg_current_xact_id() AS marks_this_transaction;
COMMIT;
SELECT name, kind, xid IS NOT NULL AS has_xid FROM pitr_restore.marks WHERE kind = 'transaction';

-- If the transaction aborts, there is no mark.
BEGIN;
SELECT pitr_restore.mark_transaction('import 44') IS NOT NULL AS marked;
ROLLBACK;
SELECT count(*) AS import_44_marks FROM pitr_restore.marks WHERE name = 'import 44';

-- Transaction mark names are unique too, across kinds.
SELECT pitr_restore.mark_transaction('before import 42');

-- A plain role cannot make marks unless granted.
CREATE ROLE pitr_app LOGIN;
SET ROLE pitr_app;
SELECT pitr_restore.create_mark('by app');
RESET ROLE;
GRANT USAGE ON SCHEMA pitr_restore TO pitr_app;
GRANT EXECUTE ON FUNCTION pitr_restore.create_mark(text, text) TO pitr_app;
SET ROLE pitr_app;
SELECT pitr_restore.create_mark('by app') IS NOT NULL AS created_by_app;
SELECT pitr_restore.mark_transaction('tx by app');
-- ... and still cannot read or write the marks table directly.
SELECT count(*) FROM pitr_restore.marks;
INSERT INTO pitr_restore.marks (name, kind) VALUES ('forged', 'restore_point');
RESET ROLE;
-- Readers see the marks but cannot forge one either.
SET ROLE pg_read_server_files;
SELECT count(*) > 0 AS reader_sees_marks FROM pitr_restore.marks;
INSERT INTO pitr_restore.marks (name, kind) VALUES ('forged', 'restore_point');
UPDATE pitr_restore.marks SET description = 'forged';
DELETE FROM pitr_restore.marks;
RESET ROLE;
SELECT name, created_by FROM pitr_restore.marks WHERE name = 'by app';
REVOKE ALL ON FUNCTION pitr_restore.create_mark(text, text) FROM pitr_app;
REVOKE USAGE ON SCHEMA pitr_restore FROM pitr_app;
DROP ROLE pitr_app;

-- resolve_target: malformed arguments are errors, with a hint.
SELECT * FROM pitr_restore.resolve_target();
SELECT * FROM pitr_restore.resolve_target(target_name => 'a', target_lsn => '0/1');
SELECT * FROM pitr_restore.resolve_target(target => 'latest');
SELECT * FROM pitr_restore.resolve_target(target_name => repeat('n', 64));
SELECT * FROM pitr_restore.resolve_target(target => 'immediate', recovery_action => 'explode');
SELECT * FROM pitr_restore.resolve_target(target_lsn => '0/1', mark_after => now());
SELECT * FROM pitr_restore.resolve_target(target => 'immediate', target_timeline => 0);
SELECT * FROM pitr_restore.resolve_target(target_lsn => 'junk');

DROP EXTENSION pitr_restore;
