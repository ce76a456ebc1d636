/*
 * fuzz_history.c
 *	  libFuzzer harness: timeline history files (pitr_parse_history).
 *	  The input is the file's content; it is parsed as the history of a
 *	  high and of a low timeline.  Checks what a success promises.
 */
#include "postgres.h"

#include "history.h"
#include "report.h"
#include "shim.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
parse_as(const uint8_t *data, size_t size, TimeLineID tli)
{
	List	   *entries;
	char	   *err;
	TimeLineID	last = 0;
	ListCell   *lc;

	if (!pitr_parse_history((const char *) data, size, tli, &entries, &err))
	{
		if (err == NULL)
			abort();			/* a failure always says why */
		fuzz_report("as timeline %u: rejected: %s", tli, err);
		return;
	}
	if (err != NULL || entries == NIL)
		abort();
	foreach(lc, entries)
	{
		PitrHistoryEntry *e = lfirst(lc);

		/* strictly ascending ancestors, all older than tli */
		if (e->tli <= last || e->tli >= tli || e->reason == NULL)
			abort();
		last = e->tli;
	}
	fuzz_report("as timeline %u: ok, %d entries, last parent %u", tli,
				list_length(entries), last);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	parse_as(data, size, 0xFFFFFFFF);
	parse_as(data, size, 3);
	fuzz_reset();
	return 0;
}
