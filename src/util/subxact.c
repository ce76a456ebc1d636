/*-------------------------------------------------------------------------
 *
 * subxact.c
 *	  The one way an internal subtransaction ends (cleanup hooks, the
 *	  relation journal, a restored table's DDL); see subxact.h.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"

#include "util/subxact.h"

void
pitr_subxact_end(bool commit, MemoryContext cxt, ResourceOwner owner)
{
	if (commit)
		ReleaseCurrentSubTransaction();
	else
		RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
}

ErrorData *
pitr_subxact_catch(MemoryContext cxt, ResourceOwner owner)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(cxt);
	edata = CopyErrorData();
	FlushErrorState();
	pitr_subxact_end(false, cxt, owner);
	return edata;
}
