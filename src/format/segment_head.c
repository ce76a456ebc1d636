/*-------------------------------------------------------------------------
 *
 * segment_head.c
 *	  Classify a WAL segment file by its first page (segment_head.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog_internal.h"

#include "segment_head.h"

void
pitr_decode_head(const char *page, PitrSegmentHead *h)
{
	XLogPageHeaderData ph;
	XLogLongPageHeaderData lph;

	memset(h, 0, sizeof(*h));
	memcpy(&ph, page, sizeof(ph));
	h->magic = ph.xlp_magic;
	h->info = ph.xlp_info;
	h->pageaddr = ph.xlp_pageaddr;
	if (ph.xlp_info & XLP_LONG_HEADER)
	{
		memcpy(&lph, page, sizeof(lph));
		h->sysid = lph.xlp_sysid;
		h->seg_size = lph.xlp_seg_size;
		h->blcksz = lph.xlp_xlog_blcksz;
	}
}

bool
pitr_head_is_wal(const PitrSegmentHead *h)
{
	return h->magic == XLOG_PAGE_MAGIC && (h->info & XLP_LONG_HEADER) &&
		h->blcksz == XLOG_BLCKSZ && IsValidWalSegSize(h->seg_size);
}

/* The PostgreSQL major version that writes a given WAL page magic. */
static const char *
magic_version(uint16 magic)
{
	switch (magic)
	{
		case 0xD101:
			return "12";
		case 0xD106:
			return "13";
		case 0xD10D:
			return "14";
		case 0xD110:
			return "15";
		case 0xD113:
			return "16";
		case 0xD116:
			return "17";
		case 0xD118:
			return "18";
	}
	return NULL;
}

PitrHeadStatus
pitr_classify_head(const PitrSegmentHead *h, const PitrArchiveFile *f,
				   uint64 sysid, int segsize, char **detail)
{
	const char *name = f->name;

	*detail = NULL;
	if (h->magic != XLOG_PAGE_MAGIC)
	{
		const char *v = magic_version(h->magic);

		*detail = v ?
			psprintf("invalid magic number 0x%04X in segment \"%s\": it was written by PostgreSQL %s, not " PG_MAJORVERSION,
					 h->magic, name, v) :
			psprintf("invalid magic number 0x%04X in segment \"%s\": it is not a PostgreSQL WAL segment",
					 h->magic, name);
		return v ? PITR_HEAD_WRONG_VERSION : PITR_HEAD_NOT_WAL;
	}
	if (!pitr_head_is_wal(h))
	{
		*detail = psprintf("segment \"%s\" does not start with a valid long page header", name);
		return PITR_HEAD_NOT_WAL;
	}
	if (segsize && h->seg_size != (uint32) segsize)
	{
		*detail = psprintf("segment \"%s\" has segment size %u bytes, but the archive's segments have %d bytes",
						   name, h->seg_size, segsize);
		return PITR_HEAD_WRONG_SEGMENT_SIZE;
	}
	if (sysid && h->sysid != sysid)
	{
		*detail = psprintf("segment \"%s\" belongs to database system " UINT64_FORMAT ", not to the archive's system " UINT64_FORMAT,
						   name, h->sysid, sysid);
		return PITR_HEAD_FOREIGN;
	}
	if (h->pageaddr != pitr_file_segno(f, h->seg_size) * (uint64) h->seg_size)
	{
		*detail = psprintf("segment \"%s\" starts with page address %X/%X, which does not match its name",
						   name, LSN_FORMAT_ARGS(h->pageaddr));
		return PITR_HEAD_MISPLACED;
	}
	return PITR_HEAD_OK;
}

const char *
pitr_head_status_name(PitrHeadStatus status)
{
	switch (status)
	{
		case PITR_HEAD_OK:
			return "ok";
		case PITR_HEAD_WRONG_VERSION:
			return "wrong_version";
		case PITR_HEAD_NOT_WAL:
			return "not_wal";
		case PITR_HEAD_WRONG_SEGMENT_SIZE:
			return "wrong_segment_size";
		case PITR_HEAD_FOREIGN:
			return "foreign";
		case PITR_HEAD_MISPLACED:
			return "corrupt";
	}
	return "corrupt";
}
