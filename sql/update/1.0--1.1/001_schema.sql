
/*
 * 1.0 let CREATE EXTENSION create the schema, so DROP EXTENSION left it
 * behind.  From 1.1 the install script creates it as a member of the
 * extension; an updated 1.0 is made the same.
 */
DELETE FROM pg_catalog.pg_depend
 WHERE classid = 'pg_catalog.pg_extension'::pg_catalog.regclass
   AND objid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'pitr_restore')
   AND refclassid = 'pg_catalog.pg_namespace'::pg_catalog.regclass;
UPDATE pg_catalog.pg_extension
   SET extnamespace = 'pg_catalog'::pg_catalog.regnamespace
 WHERE extname = 'pitr_restore';
ALTER EXTENSION pitr_restore ADD SCHEMA pitr_restore;
