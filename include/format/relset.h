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
} PitrRelSet;

extern PitrRelSet *pitr_relset_create(void);
extern void pitr_relset_add_slow(PitrRelSet *set, uint64 key);

/*
 * Add (db, rel).  A pair already in its home slot (nearly every one: the
 * set is at most half full) costs a multiply and a compare, here; the
 * probe for anything else is out of line.
 */
static inline void
pitr_relset_add(PitrRelSet *set, Oid db, Oid rel)
{
	uint64		key = ((uint64) db << 32) | rel;

	if (key == 0 ||
		set->keys[(key * UINT64CONST(0x9E3779B97F4A7C15)) >> set->shift] != key)
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
