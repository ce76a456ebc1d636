/*-------------------------------------------------------------------------
 *
 * local_hash.h
 *	  The backend-local hash tables of pitr_restore, made one way.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_LOCAL_HASH_H
#define PITR_LOCAL_HASH_H

#include "utils/hsearch.h"

/*
 * A hash table in memory context "cxt" (gone with it), for about "nelem"
 * entries of "entrysize" bytes, each beginning with its key of "keysize"
 * bytes: a NUL-terminated string when "strings", else compared as bytes.
 */
extern HTAB *pitr_hash_create(const char *name, long nelem, Size keysize,
							  Size entrysize, bool strings, MemoryContext cxt);

#endif							/* PITR_LOCAL_HASH_H */
