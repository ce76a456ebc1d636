/*-------------------------------------------------------------------------
 *
 * xact_record.c
 *	  Records checked before the server's parsers read them: whether a
 *	  record's main data holds everything its flags and counts announce,
 *	  and what a transaction end says (xid, time, commit or abort).  Used
 *	  by the WAL walk (walscan.c) and the relation classifier (relscan.c);
 *	  calls neither.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/rmgr.h"
#include "access/xact.h"
#include "access/xlog_internal.h"
#include "catalog/pg_control.h"
#include "storage/sinval.h"

#include "compat/pg_compat.h"
#include "xact_record.h"

/*
 * Does the record's main data hold everything its flags announce?  The
 * server's ParseCommitRecord, ParseAbortRecord and ParsePrepareRecord trust
 * the record (recovery only ever replays what the server itself wrote); a
 * file dropped into an archive is not so trusted, so every count and length
 * is checked against the data length first.  Returns NULL when the layout
 * is sound, else why not.
 */
static const char *
check_counted(const char **p, const char *end, uint64 elemsize)
{
	int32		n;

	if (end - *p < (ptrdiff_t) sizeof(int32))
		return "a count runs past the end of the record";
	memcpy(&n, *p, sizeof(int32));
	if (n < 0)
		return "a count is negative";
	if ((uint64) (end - *p) < sizeof(int32) + (uint64) n * elemsize)
		return "an array is longer than the record";
	*p += sizeof(int32) + (uint64) n * elemsize;
	return NULL;
}

static const char *
check_xact_end_layout(XLogReaderState *r, bool is_commit)
{
	const char *data = XLogRecGetData(r);
	const char *end = data + XLogRecGetDataLen(r);
	const char *p = data;
	uint32		xinfo = 0;
	const char *why;

	if (XLogRecGetDataLen(r) < sizeof(TimestampTz))
		return "the record is shorter than a transaction end";
	p += sizeof(TimestampTz);
	if (XLogRecGetInfo(r) & XLOG_XACT_HAS_INFO)
	{
		if (end - p < (ptrdiff_t) sizeof(xl_xact_xinfo))
			return "the xinfo field runs past the end of the record";
		memcpy(&xinfo, p, sizeof(uint32));
		p += sizeof(xl_xact_xinfo);
	}
	if (xinfo & XACT_XINFO_HAS_DBINFO)
	{
		if (end - p < (ptrdiff_t) sizeof(xl_xact_dbinfo))
			return "the database info runs past the end of the record";
		p += sizeof(xl_xact_dbinfo);
	}
	if ((xinfo & XACT_XINFO_HAS_SUBXACTS) &&
		(why = check_counted(&p, end, sizeof(TransactionId))) != NULL)
		return why;
	if ((xinfo & XACT_XINFO_HAS_RELFILELOCATORS) &&
		(why = check_counted(&p, end, sizeof(RelFileLocator))) != NULL)
		return why;
	if ((xinfo & XACT_XINFO_HAS_DROPPED_STATS) &&
		(why = check_counted(&p, end, sizeof(xl_xact_stats_item))) != NULL)
		return why;
	if (is_commit && (xinfo & XACT_XINFO_HAS_INVALS) &&
		(why = check_counted(&p, end, sizeof(SharedInvalidationMessage))) != NULL)
		return why;
	if (xinfo & XACT_XINFO_HAS_TWOPHASE)
	{
		if (end - p < (ptrdiff_t) sizeof(xl_xact_twophase))
			return "the two-phase info runs past the end of the record";
		p += sizeof(xl_xact_twophase);
		if (xinfo & XACT_XINFO_HAS_GID)
		{
			const char *nul = memchr(p, '\0', Min(end - p, GIDSIZE));

			if (nul == NULL)
				return "the transaction's GID is not terminated within the record";
			p = nul + 1;
		}
	}
	if ((xinfo & XACT_XINFO_HAS_ORIGIN) && end - p < (ptrdiff_t) sizeof(xl_xact_origin))
		return "the origin info runs past the end of the record";
	return NULL;
}

static const char *
check_prepare_layout(XLogReaderState *r)
{
	xl_xact_prepare hdr;
	uint64		need;
	uint32		len = XLogRecGetDataLen(r);

	if (len < sizeof(xl_xact_prepare))
		return "the record is shorter than a prepare header";
	memcpy(&hdr, XLogRecGetData(r), sizeof(hdr));
	if (hdr.gidlen == 0 || hdr.gidlen > GIDSIZE)
		return "the GID length is out of range";
	if (hdr.nsubxacts < 0 || hdr.ncommitrels < 0 || hdr.nabortrels < 0 ||
		hdr.ncommitstats < 0 || hdr.nabortstats < 0 || hdr.ninvalmsgs < 0)
		return "a count is negative";
	need = MAXALIGN(sizeof(xl_xact_prepare)) +
		MAXALIGN((uint64) hdr.gidlen) +
		MAXALIGN((uint64) hdr.nsubxacts * sizeof(TransactionId)) +
		MAXALIGN((uint64) hdr.ncommitrels * sizeof(RelFileLocator)) +
		MAXALIGN((uint64) hdr.nabortrels * sizeof(RelFileLocator)) +
		MAXALIGN((uint64) hdr.ncommitstats * sizeof(xl_xact_stats_item)) +
		MAXALIGN((uint64) hdr.nabortstats * sizeof(xl_xact_stats_item)) +
		MAXALIGN((uint64) hdr.ninvalmsgs * sizeof(SharedInvalidationMessage));
	if (need > len)
		return "its arrays are longer than the record";
	if (XLogRecGetData(r)[MAXALIGN(sizeof(xl_xact_prepare)) + hdr.gidlen - 1] != '\0')
		return "the transaction's GID is not terminated";
	return NULL;
}

const char *
pitr_record_layout_error(XLogReaderState *r)
{
	uint8		info = XLogRecGetInfo(r) & ~XLR_INFO_MASK;
	uint32		len = XLogRecGetDataLen(r);

	switch (XLogRecGetRmid(r))
	{
		case RM_XACT_ID:
			switch (info & XLOG_XACT_OPMASK)
			{
				case XLOG_XACT_COMMIT:
				case XLOG_XACT_COMMIT_PREPARED:
					return check_xact_end_layout(r, true);
				case XLOG_XACT_ABORT:
				case XLOG_XACT_ABORT_PREPARED:
					return check_xact_end_layout(r, false);
				case XLOG_XACT_PREPARE:
					return check_prepare_layout(r);
			}
			break;
		case RM_XLOG_ID:
			if ((info == XLOG_RESTORE_POINT && len < sizeof(xl_restore_point)) ||
				(info == XLOG_BACKUP_END && len < sizeof(XLogRecPtr)) ||
				(info == XLOG_END_OF_RECOVERY && len < sizeof(xl_end_of_recovery)) ||
				(info == XLOG_PARAMETER_CHANGE && len < sizeof(xl_parameter_change)))
				return "the record is shorter than its kind requires";
			break;
	}
	return NULL;
}

bool
pitr_xact_end(XLogReaderState *reader, TransactionId *xid,
			  TimestampTz *time, bool *commit)
{
	uint8		info = XLogRecGetInfo(reader) & ~XLR_INFO_MASK;
	uint8		op = info & XLOG_XACT_OPMASK;

	if (XLogRecGetRmid(reader) != RM_XACT_ID)
		return false;
	if (op != XLOG_XACT_COMMIT && op != XLOG_XACT_COMMIT_PREPARED &&
		op != XLOG_XACT_ABORT && op != XLOG_XACT_ABORT_PREPARED)
		return false;
	/* Never hand a lying record to the server's parsers. */
	if (pitr_record_layout_error(reader) != NULL)
		return false;

	if (op == XLOG_XACT_COMMIT || op == XLOG_XACT_COMMIT_PREPARED)
	{
		xl_xact_commit *xlrec = (xl_xact_commit *) XLogRecGetData(reader);
		xl_xact_parsed_commit parsed;

		ParseCommitRecord(XLogRecGetInfo(reader), xlrec, &parsed);
		*xid = (op == XLOG_XACT_COMMIT) ? XLogRecGetXid(reader) : parsed.twophase_xid;
		*time = xlrec->xact_time;
		*commit = true;
		return true;
	}
	else
	{
		xl_xact_abort *xlrec = (xl_xact_abort *) XLogRecGetData(reader);
		xl_xact_parsed_abort parsed;

		ParseAbortRecord(XLogRecGetInfo(reader), xlrec, &parsed);
		*xid = (op == XLOG_XACT_ABORT) ? XLogRecGetXid(reader) : parsed.twophase_xid;
		*time = xlrec->xact_time;
		*commit = false;
		return true;
	}
}
