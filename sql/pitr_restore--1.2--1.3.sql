/* pitr_restore 1.2 -> 1.3: only what changed, as DDL. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pitr_restore UPDATE TO '1.3'" to load this file. \quit

-- Each concern has its own section below, in this order; a section starts
-- with a comment that says what changed and why.

-- (reliability: sections for issue 19 go here)

-- (model and helpers: sections for issue 20 go here)

-- (moment before the mistake: sections for issue 22 go here)
