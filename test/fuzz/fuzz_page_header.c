/*
 * fuzz_page_header.c
 *	  libFuzzer harness: the classification of a WAL segment file by its
 *	  first page (src/format/segment_head.c: pitr_decode_head,
 *	  pitr_head_is_wal, pitr_classify_head).
 *
 *	  Input: one XLOG_BLCKSZ page (shorter input is zero-padded), then
 *	  optionally 8 bytes of the archive's settled system identifier, 4 of
 *	  its segment size and 1 choosing the segment file's name.
 *
 *	  Asserts: an accepted head is a PostgreSQL 15 long page header of a
 *	  valid segment size, of the archive's system and segment size when
 *	  those are settled, whose page address is the one the name gives;
 *	  every refusal says why, naming the file.
 */
#include "postgres.h"

#include "access/xlog_internal.h"

#include "archive_files.h"
#include "segment_head.h"
#include "report.h"
#include "shim.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {
	"000000010000000000000001",
	"000000010000000000000002.zst",
	"00000002000000000000000A",
	"0000000100000001000000FF",
	"00000003000000000000003F.gz",
	"0000000100000000000000FF.lz4",
	"000000010000000000000003.partial",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	PitrSegmentHead h;
	PitrArchiveFile f;
	char	   *page = palloc0(XLOG_BLCKSZ);
	char	   *detail = (char *) 1;
	uint64		sysid = 0;
	uint32		segsize = 0;
	const char *name = names[0];
	PitrHeadStatus st;
	XLogLongPageHeaderData lph;

	memcpy(page, data, Min(size, XLOG_BLCKSZ));
	if (size >= XLOG_BLCKSZ + 12)
	{
		memcpy(&sysid, data + XLOG_BLCKSZ, 8);
		memcpy(&segsize, data + XLOG_BLCKSZ + 8, 4);
		/* the archive's segment size, once settled, is a valid one */
		if (!IsValidWalSegSize(segsize))
			segsize = 0;
	}
	if (size >= XLOG_BLCKSZ + 13)
		name = names[data[XLOG_BLCKSZ + 12] % lengthof(names)];
	memset(&f, 0, sizeof(f));
	if (!pitr_classify_file_name(name, &f))
		abort();
	f.name = pstrdup(name);		/* the lister sets it, not the classifier */

	pitr_decode_head(page, &h);
	st = pitr_classify_head(&h, &f, sysid, (int) segsize, &detail);
	if (pitr_head_status_name(st) == NULL)
		abort();
	memcpy(&lph, page, sizeof(lph));
	if (st == PITR_HEAD_OK)
	{
		if (detail != NULL)
			abort();
		if (!pitr_head_is_wal(&h))
			abort();
		if (lph.std.xlp_magic != XLOG_PAGE_MAGIC ||
			!(lph.std.xlp_info & XLP_LONG_HEADER) ||
			!IsValidWalSegSize(lph.xlp_seg_size) ||
			lph.xlp_xlog_blcksz != XLOG_BLCKSZ ||
			(sysid != 0 && lph.xlp_sysid != sysid) ||
			(segsize != 0 && lph.xlp_seg_size != segsize))
			abort();
		/* the page address is where the name puts the segment */
		if (lph.std.xlp_pageaddr !=
			pitr_file_segno(&f, lph.xlp_seg_size) * (uint64) lph.xlp_seg_size)
			abort();
	}
	else if (detail == NULL || strstr(detail, name) == NULL)
		abort();
	fuzz_report("as %s: %s", name, pitr_head_status_name(st));
	fuzz_reset();
	return 0;
}
