/*-------------------------------------------------------------------------
 *
 * local_hash.c
 *	  The backend-local hash tables of pitr_restore (see util/local_hash.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "util/local_hash.h"

HTAB *
pitr_hash_create(const char *name, long nelem, Size keysize, Size entrysize,
				 bool strings, MemoryContext cxt)
{
	HASHCTL		ctl;

	ctl.keysize = keysize;
	ctl.entrysize = entrysize;
	ctl.hcxt = cxt;
	return hash_create(name, nelem, &ctl,
					   HASH_ELEM | (strings ? HASH_STRINGS : HASH_BLOBS) |
					   HASH_CONTEXT);
}
