/*-------------------------------------------------------------------------
 *
 * relset.h
 *	  A set of relation files, (database oid, relfilenode) pairs: what a
 *	  stretch of WAL touches.  The scan adds to it for every block reference
 *	  of every record, so adding is an open-addressing probe of a flat array
 *	  of 64-bit keys, not a dynahash lookup.  Pure: no SPI, no ERROR but
 *	  out of memory.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_RELSET_H
#define PITR_RELSET_H

typedef struct PitrRelSet
{
	uint64	   *keys;			/* db << 32 | rel; 0 is an empty slot */
	int			shift;			/* 64 - log2(number of slots) */
	int			count;			/* pairs held, (0, 0) included */
	bool		has_zero;		/* the pair (0, 0), which a key 0 cannot be */
	uint64		last;			/* the last key added: records repeat it */
} PitrRelSet;

extern PitrRelSet *pitr_relset_create(void);
extern void pitr_relset_add_slow(PitrRelSet *set, uint64 key);

/* Add (db, rel); a repeat of the last pair added costs one compare. */
static inline void
pitr_relset_add(PitrRelSet *set, Oid db, Oid rel)
{
	uint64		key = ((uint64) db << 32) | rel;

	if (key != set->last || key == 0)
		pitr_relset_add_slow(set, key);
}

static inline int
pitr_relset_count(const PitrRelSet *set)
{
	return set->count;
}

/* The set as two parallel arrays, sorted by (db, rel); returns the count. */
extern int	pitr_relset_arrays(const PitrRelSet *set, Oid **dbs, Oid **rels);

#endif							/* PITR_RELSET_H */
