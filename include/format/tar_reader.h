/*-------------------------------------------------------------------------
 *
 * tar_reader.h
 *	  Reading a tar file, gzip, lz4 or zstd compressed or not, with libarchive:
 *	  the one reader behind backup scanning and restore building.
 *
 * libarchive's objects live outside memory contexts; the reader frees them
 * from a reset callback of its own memory context, a child of the one
 * current at pitr_tar_open, so an ERROR leaks nothing.  A query cancel
 * makes libarchive's read fail (a longjmp out of it would corrupt it) and
 * is then serviced by the reader with CHECK_FOR_INTERRUPTS.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_TAR_READER_H
#define PITR_TAR_READER_H

#include <archive.h>
#include <archive_entry.h>

typedef struct PitrTarReader PitrTarReader;

/* Flags of pitr_tar_open. */
#define PITR_TAR_SEEK		0x01	/* skip unread data by seeking while it
									 * is not compressed */
#define PITR_TAR_NOERROR	0x02	/* report failures through
									 * pitr_tar_error, not as an ERROR */

/*
 * Open the tar at "path"; "compression" is "none", "gzip", "lz4" or
 * "zstd".  A
 * failure is an ERROR, or with PITR_TAR_NOERROR a reader that returns no
 * entries and whose pitr_tar_error says why.  A pending cancel is always
 * an ERROR, as is running out of memory.
 */
extern PitrTarReader *pitr_tar_open(const char *path, const char *compression,
									int flags);

/* The next entry's header into *entry; false at the end or on failure. */
extern bool pitr_tar_next(PitrTarReader *r, struct archive_entry **entry);

/*
 * The next block of the current entry's data, at *offset within it; false
 * at the entry's end or on failure.
 */
extern bool pitr_tar_read_block(PitrTarReader *r, const void **block,
								size_t *size, int64 *offset);

/*
 * Exactly "len" bytes of the current entry's data into "buf"; false on
 * failure, and an entry that ends early is one.  "member" names the entry
 * in messages.
 */
extern bool pitr_tar_read(PitrTarReader *r, const char *member, void *buf,
						  size_t len);

/*
 * Why the reader failed in PITR_TAR_NOERROR mode, or NULL.  The message is
 * in the memory context that was current at pitr_tar_open, and outlives
 * pitr_tar_close.
 */
extern const char *pitr_tar_error(PitrTarReader *r);

/* Free libarchive and close the file. */
extern void pitr_tar_close(PitrTarReader *r);

#endif							/* PITR_TAR_READER_H */
