/*
 * fuzz_page_header.c
 *	  libFuzzer harness: the scanner's check of a segment's first page
 *	  (read_head and head_acceptable, static in the index scanner, so its
 *	  source is included here; build.sh passes its path as
 *	  PAGE_HEADER_SOURCE).  The page comes from the input instead of a
 *	  file: this harness supplies pitr_segsrc_read_head.
 *
 *	  Input: one XLOG_BLCKSZ page (shorter input is a short read), then
 *	  optionally 8 bytes of the archive's settled system identifier, 4 of
 *	  its segment size and 1 choosing the segment file's name.
 */
#include PAGE_HEADER_SOURCE

#include "shim.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *fuzz_data;
static size_t fuzz_size;

bool
pitr_segsrc_read_head(PitrSegmentSource *src, PitrArchiveFile *f, char *page,
					  char **err)
{
	if (fuzz_size < XLOG_BLCKSZ)
	{
		*err = psprintf("read only %zu of %d bytes", fuzz_size, XLOG_BLCKSZ);
		return false;
	}
	memcpy(page, fuzz_data, XLOG_BLCKSZ);
	return true;
}

static const char *const names[] = {
	"000000010000000000000001",
	"000000010000000000000002.zst",
	"00000002000000000000000A",
	"0000000100000001000000FF",
	"00000003000000000000003F.gz",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ArchiveScan st;
	SegmentHead h;
	PitrArchiveFile f;
	const char *status = NULL;
	char	   *detail = NULL;
	const uint8_t *tail = data + XLOG_BLCKSZ;
	const char *name = names[0];

	memset(&st, 0, sizeof(st));
	memset(&h, 0, sizeof(h));
	memset(&f, 0, sizeof(f));
	if (size >= XLOG_BLCKSZ + 12)
	{
		memcpy(&st.sysid, tail, 8);
		memcpy(&st.segsize, tail + 8, 4);
	}
	if (size >= XLOG_BLCKSZ + 13)
		name = names[tail[12] % lengthof(names)];
	if (!pitr_classify_file_name(name, &f))
		abort();
	fuzz_data = data;
	fuzz_size = size;
	h.file = &f;
	read_head(&st, &h);
	if (head_acceptable(&st, &h, &status, &detail))
	{
		/* accepted: a PostgreSQL 15 long header that matches the archive */
		XLogLongPageHeader lph = (XLogLongPageHeader) data;

		if (size < XLOG_BLCKSZ || lph->std.xlp_magic != XLOG_PAGE_MAGIC ||
			!(lph->std.xlp_info & XLP_LONG_HEADER) ||
			!IsValidWalSegSize(lph->xlp_seg_size) ||
			(st.sysid != 0 && lph->xlp_sysid != st.sysid))
			abort();
	}
	else if (status == NULL || detail == NULL)
		abort();
	fuzz_reset();
	return 0;
}
