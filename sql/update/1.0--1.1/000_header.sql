/* pitr_restore 1.0 -> 1.1, assembled from sql/update/1.0--1.1/ by the Makefile. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pitr_restore UPDATE TO '1.1'" to load this file. \quit
