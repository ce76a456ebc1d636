/*-------------------------------------------------------------------------
 *
 * history.h
 *	  Timeline history files (NNNNNNNN.history), parsed from a buffer.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_HISTORY_H
#define PITR_HISTORY_H

#include "access/xlogdefs.h"
#include "nodes/pg_list.h"

typedef struct PitrHistoryEntry
{
	TimeLineID	tli;			/* an ancestor timeline */
	XLogRecPtr	switchpoint;	/* first LSN that is no longer on it */
	char	   *reason;			/* free text after the LSN, trimmed */
} PitrHistoryEntry;

/*
 * Parse the history file of timeline "tli".  Entries come oldest first.
 * Returns false with *err set (palloc'd) when the content is malformed:
 * recovery itself would refuse such a file.
 */
extern bool pitr_parse_history(const char *buf, size_t len, TimeLineID tli,
							   List **entries, char **err);

#endif							/* PITR_HISTORY_H */
