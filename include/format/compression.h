/*-------------------------------------------------------------------------
 *
 * compression.h
 *	  The compressions an archive file may carry, and the one rule that
 *	  decides which of several copies of a segment recovery fetches.
 *
 * The scanner indexes, for each segment name, the copy that comes first
 * in pitr_fetch_order; restore_command tries the copies in that same
 * order.  So what the index certifies is what recovery will read.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_COMPRESSION_H
#define PITR_COMPRESSION_H

typedef enum PitrCompression
{
	PITR_COMPRESS_NONE,
	PITR_COMPRESS_ZSTD,
	PITR_COMPRESS_GZIP,
	PITR_COMPRESS_LZ4,
	PITR_COMPRESS_BZIP2
} PitrCompression;

#define PITR_NUM_COMPRESSIONS 5

typedef struct PitrCompressionInfo
{
	PitrCompression c;
	const char *name;			/* as the index and segments() show it */
	const char *suffix;			/* appended to the file name; "" if none */
	const char *decompress;		/* shell command writing the content to
								 * stdout, the file name appended; NULL for
								 * plain files */
} PitrCompressionInfo;

/* Every compression, in the order recovery tries a segment's copies. */
extern const PitrCompressionInfo pitr_fetch_order[PITR_NUM_COMPRESSIONS];

extern const PitrCompressionInfo *pitr_compression_info(PitrCompression c);
extern const char *pitr_compression_name(PitrCompression c);

/*
 * The compression a file name's suffix says, and the length of the name
 * without it.
 */
extern PitrCompression pitr_compression_of_name(const char *name, int *baselen);

#endif							/* PITR_COMPRESSION_H */
