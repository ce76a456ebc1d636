/*-------------------------------------------------------------------------
 *
 * dir_reader.h
 *	  The one directory reader: the names a directory holds, with one
 *	  wording for a directory that cannot be read.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_DIR_READER_H
#define PITR_DIR_READER_H

#include "nodes/pg_list.h"

/* pitr_read_dir's flags */
#define PITR_DIR_MISSING_OK		0x01	/* no such directory: NIL */
#define PITR_DIR_SKIP_HIDDEN	0x02	/* leave out names starting with '.' */
#define PITR_DIR_SORTED			0x04	/* in strcmp order (else as read) */

/*
 * The names of the entries of "dir" (palloc'd strings), "." and ".." left
 * out.  A directory that cannot be opened or read is an ERROR, "could not
 * open <what> \"<dir>\": %m" ("what" NULL: "directory"), unless "err" is
 * given: then NIL with *err set to that sentence (a read error part way
 * through ends the list).  Checks for interrupts between entries.
 */
extern List *pitr_read_dir(const char *dir, const char *what, int flags,
						   char **err);

#endif							/* PITR_DIR_READER_H */
