/*-------------------------------------------------------------------------
 *
 * subxact.h
 *	  Ending an internal subtransaction the way plpgsql's exception blocks
 *	  do: back in the caller's memory context and resource owner
 *	  (src/util/subxact.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_SUBXACT_H
#define PITR_SUBXACT_H

#include "utils/elog.h"
#include "utils/resowner.h"

/*
 * End the subtransaction opened by BeginInternalSubTransaction from memory
 * context "cxt" under resource owner "owner": released ("commit") or
 * rolled back, then back in "cxt" and "owner".
 */
extern void pitr_subxact_end(bool commit, MemoryContext cxt,
							 ResourceOwner owner);

/*
 * In the PG_CATCH of such a subtransaction: the error, copied into "cxt"
 * and flushed, with the subtransaction rolled back as pitr_subxact_end.
 */
extern ErrorData *pitr_subxact_catch(MemoryContext cxt, ResourceOwner owner);

#endif							/* PITR_SUBXACT_H */
