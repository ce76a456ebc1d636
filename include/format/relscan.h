/*-------------------------------------------------------------------------
 *
 * relscan.h
 *	  What a WAL record does to relations: the relation files (relfilenodes)
 *	  it touches, the heap rows it inserts, updates or deletes, the files it
 *	  creates, and the files a transaction's end drops.  Pure: no SPI.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_RELSCAN_H
#define PITR_RELSCAN_H

#include "access/xlogreader.h"
#include "datatype/timestamp.h"
#include "utils/hsearch.h"

#include "relset.h"

/*
 * A relation file as WAL names it.  PostgreSQL 16 renamed RelFileNode to
 * RelFileLocator; relscan.c alone speaks either, everything above uses
 * this.
 */
typedef struct PitrRelFile
{
	Oid			spc;
	Oid			db;
	Oid			rel;
} PitrRelFile;

typedef enum PitrRelOp
{
	PITR_RELOP_NONE,
	PITR_RELOP_INSERT,
	PITR_RELOP_UPDATE,
	PITR_RELOP_DELETE,
	PITR_RELOP_CREATE,			/* the file's main fork is created */
	PITR_RELOP_WRITE			/* a whole page is written (a rewrite fills it) */
} PitrRelOp;

extern const char *pitr_relop_name(PitrRelOp op);

/*
 * What one record does to one relation file: a heap row change (with the
 * number of rows; a multi-insert carries many), a file creation or a full
 * page written into it.  PITR_RELOP_NONE for every other record.  A
 * speculative insertion's "super delete" is not a delete.
 */
extern PitrRelOp pitr_relscan_classify(XLogReaderState *r, PitrRelFile *rel,
									   int *rows);

/* A transaction's end: who, when, and the files it drops. */
typedef struct PitrXactEnd
{
	TransactionId xid;			/* top level (the prepared xid for 2PC) */
	TimestampTz time;
	bool		commit;
	Oid			db;				/* InvalidOid when the record does not say */
	int			nsubxacts;
	TransactionId *subxacts;	/* palloc'd copies */
	int			nrels;
	PitrRelFile *rels;			/* files dropped (commit) or undone (abort) */
} PitrXactEnd;

/* The record ends a transaction: fill *end (arrays in the current context). */
extern bool pitr_relscan_xact_end(XLogReaderState *r, PitrXactEnd *end);

/*
 * Note in set the relation files a record touches: every block reference
 * (main fork), the file an smgr record creates, the files a transaction's
 * end drops.  The record's layout must have been checked
 * (pitr_record_layout_error).
 */
extern void pitr_relset_note_record(PitrRelSet *set, XLogReaderState *r);

#endif							/* PITR_RELSCAN_H */
