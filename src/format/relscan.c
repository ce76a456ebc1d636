/*-------------------------------------------------------------------------
 *
 * relscan.c
 *	  Classify WAL records by what they do to relations: the heap rows a
 *	  record inserts, updates or deletes, the relation files it creates or
 *	  fills with whole pages, the files a transaction's end drops, and the
 *	  set of relation files a stretch of WAL touches.
 *
 * Only the main fork counts and only block 0 of a heap record (an update's
 * old page, block 1, is the same relation).  TOAST chunks are rows of the
 * TOAST relation's own file, so a caller that follows a table's heap file
 * does not count them.  Pure: reads the decoded record, never SPI.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam_xlog.h"
#include "access/rmgr.h"
#include "access/xact.h"
#include "access/xlog_internal.h"
#include "catalog/pg_control.h"
#include "catalog/storage_xlog.h"
#include "common/relpath.h"
#include "utils/memutils.h"

#include "compat/pg_compat.h"
#include "relscan.h"
#include "xact_record.h"

/* A relation's file as WAL records name it (compat/pg_compat.h maps 15). */
typedef RelFileLocator PitrWalRel;
#define WALREL_SET(dst, src) \
	((dst)->spc = PITR_RLOC_SPC(src), (dst)->db = PITR_RLOC_DB(src), \
	 (dst)->rel = PITR_RLOC_REL(src))
#define SMGR_CREATE_REL(xl) PITR_SMGR_CREATE_RLOC(xl)
#define PARSED_RELS(p) PITR_PARSED_XACT_RLOCS(p)

const char *
pitr_relop_name(PitrRelOp op)
{
	switch (op)
	{
		case PITR_RELOP_NONE:
			return "none";
		case PITR_RELOP_INSERT:
			return "insert";
		case PITR_RELOP_UPDATE:
			return "update";
		case PITR_RELOP_DELETE:
			return "delete";
		case PITR_RELOP_CREATE:
			return "created";
		case PITR_RELOP_WRITE:
			return "written";
	}
	return "?";
}

/* Block "id" of the record, main fork only. */
static bool
block_rel(XLogReaderState *r, int id, PitrRelFile *rel)
{
	PitrWalRel	wr;
	ForkNumber	fork;
	BlockNumber blk;

	if (!XLogRecGetBlockTagExtended(r, id, &wr, &fork, &blk, NULL) ||
		fork != MAIN_FORKNUM)
		return false;
	WALREL_SET(rel, wr);
	return true;
}

static PitrRelOp
classify_heap(XLogReaderState *r, uint8 info, int *rows)
{
	uint32		len = XLogRecGetDataLen(r);

	switch (info & XLOG_HEAP_OPMASK)
	{
		case XLOG_HEAP_INSERT:
			return PITR_RELOP_INSERT;
		case XLOG_HEAP_UPDATE:
		case XLOG_HEAP_HOT_UPDATE:
			return PITR_RELOP_UPDATE;
		case XLOG_HEAP_DELETE:
			{
				xl_heap_delete xlrec;

				if (len < SizeOfHeapDelete)
					return PITR_RELOP_NONE;
				memcpy(&xlrec, XLogRecGetData(r), SizeOfHeapDelete);
				/* An aborted speculative insertion is not a delete. */
				if (xlrec.flags & XLH_DELETE_IS_SUPER)
					return PITR_RELOP_NONE;
				return PITR_RELOP_DELETE;
			}
	}
	return PITR_RELOP_NONE;
}

PitrRelOp
pitr_relscan_classify(XLogReaderState *r, PitrRelFile *rel, int *rows)
{
	uint8		info = XLogRecGetInfo(r) & ~XLR_INFO_MASK;
	PitrRelOp	op = PITR_RELOP_NONE;

	*rows = 1;
	switch (XLogRecGetRmid(r))
	{
		case RM_HEAP_ID:
			op = classify_heap(r, info, rows);
			break;
		case RM_HEAP2_ID:
			if ((info & XLOG_HEAP_OPMASK) == XLOG_HEAP2_MULTI_INSERT)
			{
				xl_heap_multi_insert xlrec;

				if (XLogRecGetDataLen(r) < SizeOfHeapMultiInsert)
					return PITR_RELOP_NONE;
				memcpy(&xlrec, XLogRecGetData(r), SizeOfHeapMultiInsert);
				*rows = xlrec.ntuples;
				op = PITR_RELOP_INSERT;
			}
			break;
		case RM_SMGR_ID:
			if (info == XLOG_SMGR_CREATE &&
				XLogRecGetDataLen(r) >= sizeof(xl_smgr_create))
			{
				xl_smgr_create xlrec;

				memcpy(&xlrec, XLogRecGetData(r), sizeof(xlrec));
				if (xlrec.forkNum != MAIN_FORKNUM)
					return PITR_RELOP_NONE;
				WALREL_SET(rel, SMGR_CREATE_REL(&xlrec));
				*rows = 0;
				return PITR_RELOP_CREATE;
			}
			return PITR_RELOP_NONE;
		case RM_XLOG_ID:
			/* log_newpage: how a table rewrite fills its new file */
			if (info == XLOG_FPI && XLogRecHasBlockRef(r, 0))
				op = PITR_RELOP_WRITE;
			*rows = 0;
			break;
	}
	if (op == PITR_RELOP_NONE || !XLogRecHasBlockRef(r, 0) ||
		!block_rel(r, 0, rel))
		return PITR_RELOP_NONE;
	return op;
}

/* What a parsed commit or abort record tells of the database and files. */
static void
copy_xact_end(PitrXactEnd *end, uint32 xinfo, Oid db, int nsub,
			  TransactionId *sub, int nrels, PitrWalRel *rels)
{
	if (xinfo & XACT_XINFO_HAS_DBINFO)
		end->db = db;
	end->nsubxacts = nsub;
	end->subxacts = nsub > 0 ? palloc(sizeof(TransactionId) * nsub) : NULL;
	if (nsub > 0)
		memcpy(end->subxacts, sub, sizeof(TransactionId) * nsub);
	end->nrels = nrels;
	end->rels = nrels > 0 ? palloc(sizeof(PitrRelFile) * nrels) : NULL;
	for (int i = 0; i < nrels; i++)
	{
		PitrWalRel	wr;

		memcpy(&wr, &rels[i], sizeof(wr));
		WALREL_SET(&end->rels[i], wr);
	}
}

/* xl_xact_parsed_commit and xl_xact_parsed_abort name these fields alike. */
#define COPY_XACT_END(end, parsed) \
	copy_xact_end((end), (parsed).xinfo, (parsed).dbId, (parsed).nsubxacts, \
				  (parsed).subxacts, (parsed).nrels, PARSED_RELS(parsed))

bool
pitr_relscan_xact_end(XLogReaderState *r, PitrXactEnd *end)
{
	uint8		op = (XLogRecGetInfo(r) & ~XLR_INFO_MASK) & XLOG_XACT_OPMASK;

	memset(end, 0, sizeof(*end));
	/* pitr_xact_end checks the record's layout before it is parsed. */
	if (!pitr_xact_end(r, &end->xid, &end->time, &end->commit))
		return false;
	if (op == XLOG_XACT_COMMIT || op == XLOG_XACT_COMMIT_PREPARED)
	{
		xl_xact_parsed_commit parsed;

		ParseCommitRecord(XLogRecGetInfo(r),
						  (xl_xact_commit *) XLogRecGetData(r), &parsed);
		COPY_XACT_END(end, parsed);
	}
	else
	{
		xl_xact_parsed_abort parsed;

		ParseAbortRecord(XLogRecGetInfo(r),
						 (xl_xact_abort *) XLogRecGetData(r), &parsed);
		COPY_XACT_END(end, parsed);
	}
	return true;
}

/*
 * Does the transaction end drop files?  Read from its xinfo without parsing
 * it: most commits drop none, and every one passes here.
 */
static bool
xact_end_drops_files(XLogReaderState *r)
{
	uint8		info = XLogRecGetInfo(r);
	uint8		op = (info & ~XLR_INFO_MASK) & XLOG_XACT_OPMASK;
	xl_xact_xinfo xinfo;

	if (op != XLOG_XACT_COMMIT && op != XLOG_XACT_COMMIT_PREPARED &&
		op != XLOG_XACT_ABORT && op != XLOG_XACT_ABORT_PREPARED)
		return false;
	/* commit and abort records alike: the time, then the xinfo flags */
	StaticAssertStmt(MinSizeOfXactCommit == MinSizeOfXactAbort,
					 "commit and abort records begin alike");
	if (!(info & XLOG_XACT_HAS_INFO) ||
		XLogRecGetDataLen(r) < MinSizeOfXactCommit + sizeof(xinfo))
		return false;
	memcpy(&xinfo, XLogRecGetData(r) + MinSizeOfXactCommit, sizeof(xinfo));
	return (xinfo.xinfo & XACT_XINFO_HAS_RELFILELOCATORS) != 0;
}

/*
 * Note what a record touches: its block references (any resource manager),
 * the file an smgr record creates, the files a transaction's end drops.
 * It runs for every record of a scan, so the block references are read in
 * place and a transaction's end is parsed only when it drops files.
 */
void
pitr_relset_note_record(PitrRelSet *set, XLogReaderState *r)
{
	RmgrId		rmid = XLogRecGetRmid(r);
	PitrRelFile rel;
	int			rows;

	for (int id = 0; id <= XLogRecMaxBlockId(r); id++)
	{
		DecodedBkpBlock *b = XLogRecGetBlock(r, id);

		if (b->in_use && b->forknum == MAIN_FORKNUM)
			pitr_relset_add(set, PITR_RLOC_DB(PITR_BLOCK_RLOC(b)),
							PITR_RLOC_REL(PITR_BLOCK_RLOC(b)));
	}

	if (rmid == RM_SMGR_ID &&
		pitr_relscan_classify(r, &rel, &rows) == PITR_RELOP_CREATE)
		pitr_relset_add(set, rel.db, rel.rel);
	else if (rmid == RM_XACT_ID && xact_end_drops_files(r))
	{
		PitrXactEnd end;

		if (pitr_relscan_xact_end(r, &end))
		{
			for (int i = 0; i < end.nrels; i++)
				pitr_relset_add(set, end.rels[i].db, end.rels[i].rel);
			if (end.subxacts)
				pfree(end.subxacts);
			if (end.rels)
				pfree(end.rels);
		}
	}
}
