/*-------------------------------------------------------------------------
 *
 * relset.c
 *	  The set of relation files a stretch of WAL touches (see relset.h):
 *	  open addressing with linear probing over a power-of-two array of
 *	  64-bit keys, Fibonacci hashing, grown at half full.
 *
 * A segment touches a few dozen files and its records name them tens of
 * thousands of times, so the common case is "already there": one multiply,
 * one load, one compare.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "relset.h"

#define RELSET_INITIAL_BITS 6	/* 64 slots */

/* Fibonacci hashing: the top bits of key times 2^64 / phi (as relset.h). */
static inline uint32
slot_of(const PitrRelSet *set, uint64 key)
{
	return (uint32) ((key * UINT64CONST(0x9E3779B97F4A7C15)) >> set->shift);
}

PitrRelSet *
pitr_relset_create(void)
{
	PitrRelSet *set = palloc0(sizeof(PitrRelSet));

	set->shift = 64 - RELSET_INITIAL_BITS;
	set->keys = palloc0(sizeof(uint64) << RELSET_INITIAL_BITS);
	return set;
}

/* Put key (known absent, not 0) into its slot. */
static void
place(PitrRelSet *set, uint64 key)
{
	uint32		mask = (1U << (64 - set->shift)) - 1;
	uint32		i = slot_of(set, key);

	while (set->keys[i] != 0)
		i = (i + 1) & mask;
	set->keys[i] = key;
}

static void
grow(PitrRelSet *set)
{
	uint64	   *old = set->keys;
	uint32		oldn = 1U << (64 - set->shift);

	set->shift--;
	set->keys = palloc0(sizeof(uint64) * oldn * 2);
	for (uint32 i = 0; i < oldn; i++)
		if (old[i] != 0)
			place(set, old[i]);
	pfree(old);
}

void
pitr_relset_add_slow(PitrRelSet *set, uint64 key)
{
	uint32		mask = (1U << (64 - set->shift)) - 1;
	uint32		i;

	if (key == 0)
	{
		if (!set->has_zero)
			set->count++;
		set->has_zero = true;
		return;
	}
	for (i = slot_of(set, key); set->keys[i] != 0; i = (i + 1) & mask)
		if (set->keys[i] == key)
			return;
	set->keys[i] = key;
	set->count++;
	if ((uint32) set->count * 2 > mask + 1)
		grow(set);
}

static int
key_cmp(const void *a, const void *b)
{
	uint64		x = *(const uint64 *) a;
	uint64		y = *(const uint64 *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

int
pitr_relset_arrays(const PitrRelSet *set, Oid **dbs, Oid **rels)
{
	uint32		nslots = 1U << (64 - set->shift);
	uint64	   *keys = palloc(sizeof(uint64) * (set->count + 1));
	int			n = 0;

	if (set->has_zero)
		keys[n++] = 0;
	for (uint32 i = 0; i < nslots; i++)
		if (set->keys[i] != 0)
			keys[n++] = set->keys[i];
	Assert(n == set->count);
	qsort(keys, n, sizeof(uint64), key_cmp);
	*dbs = palloc(sizeof(Oid) * (n + 1));
	*rels = palloc(sizeof(Oid) * (n + 1));
	for (int j = 0; j < n; j++)
	{
		(*dbs)[j] = (Oid) (keys[j] >> 32);
		(*rels)[j] = (Oid) (keys[j] & 0xFFFFFFFF);
	}
	pfree(keys);
	return n;
}
