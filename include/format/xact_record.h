/*-------------------------------------------------------------------------
 *
 * xact_record.h
 *	  Records checked before the server's parsers read them, and what a
 *	  transaction end says (xact_record.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_XACT_RECORD_H
#define PITR_XACT_RECORD_H

#include "access/xlogreader.h"
#include "datatype/timestamp.h"

/*
 * NULL when the record's main data holds everything its flags and counts
 * announce, else why not.  Records the server would parse (transaction
 * ends, prepares, restore points ...) are checked before anyone reads them.
 */
extern const char *pitr_record_layout_error(XLogReaderState *reader);

/*
 * If the record ends a transaction (commit or abort, prepared ones too),
 * give its xid, time and whether it commits.  A record with an impossible
 * layout is not a transaction end.
 */
extern bool pitr_xact_end(XLogReaderState *reader, TransactionId *xid,
						  TimestampTz *time, bool *commit);

#endif							/* PITR_XACT_RECORD_H */
