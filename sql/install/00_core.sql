/* pitr_restore install script, assembled from sql/install/ by the Makefile. */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION pitr_restore" to load this file. \quit

-- The schema belongs to the extension, so DROP EXTENSION removes it too.
CREATE SCHEMA pitr_restore;

-- Nothing in this schema is for PUBLIC: each object below states who may use it.
REVOKE ALL ON SCHEMA pitr_restore FROM PUBLIC;
GRANT USAGE ON SCHEMA pitr_restore TO pg_read_server_files, pg_write_server_files;
