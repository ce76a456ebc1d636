/*-------------------------------------------------------------------------
 *
 * compression.c
 *	  The compressions an archive file may carry, and the order in which
 *	  recovery tries a segment's copies (see compression.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "format/compression.h"

/* Plain first: a plain copy is what a bare cp archive_command leaves. */
const PitrCompressionInfo pitr_fetch_order[PITR_NUM_COMPRESSIONS] = {
	{PITR_COMPRESS_NONE, "none", "", NULL},
	{PITR_COMPRESS_ZSTD, "zstd", ".zst", "zstd -dq -c"},
	{PITR_COMPRESS_GZIP, "gzip", ".gz", "gzip -dc"},
	{PITR_COMPRESS_LZ4, "lz4", ".lz4", "lz4 -dq -c"},
	{PITR_COMPRESS_BZIP2, "bzip2", ".bz2", "bzip2 -dc"},
};

const PitrCompressionInfo *
pitr_compression_info(PitrCompression c)
{
	for (int i = 0; i < PITR_NUM_COMPRESSIONS; i++)
		if (pitr_fetch_order[i].c == c)
			return &pitr_fetch_order[i];
	elog(ERROR, "unknown compression %d", (int) c);
	return NULL;				/* keep compiler quiet */
}

const char *
pitr_compression_name(PitrCompression c)
{
	return pitr_compression_info(c)->name;
}

PitrCompression
pitr_compression_of_name(const char *name, int *baselen)
{
	int			len = strlen(name);

	for (int i = 0; i < PITR_NUM_COMPRESSIONS; i++)
	{
		const char *suffix = pitr_fetch_order[i].suffix;
		int			slen = strlen(suffix);

		if (slen > 0 && len > slen && strcmp(name + len - slen, suffix) == 0)
		{
			if (baselen)
				*baselen = len - slen;
			return pitr_fetch_order[i].c;
		}
	}
	if (baselen)
		*baselen = len;
	return PITR_COMPRESS_NONE;
}
