/*-------------------------------------------------------------------------
 *
 * tar_reader.c
 *	  Read a tar file, gzip or zstd compressed or not, with libarchive: the
 *	  members of a base backup that backup.c scans, and the entries that
 *	  restore_copy.c extracts.
 *
 * Only the tar format and the built-in gzip, lz4 and zstd filters are
 * enabled; libarchive is never allowed to run an external decompressor.  See
 * tar_reader.h for how memory, errors and cancels are handled.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/memutils.h"

#include "tar_reader.h"

#define TAR_READ_BUFSIZE	(1024 * 1024)

/* State behind libarchive's read callbacks. */
struct PitrTarReader
{
	struct archive *archive;
	int			fd;
	int			flags;
	char	   *path;
	char	   *buf;			/* TAR_READ_BUFSIZE bytes */
	bool		interrupted;	/* a read failed for a pending cancel */
	bool		failed;			/* PITR_TAR_NOERROR: gave up, see error */
	char	   *error;			/* in callercxt */
	MemoryContext cxt;			/* the reader's own */
	MemoryContext callercxt;	/* current at pitr_tar_open */
	MemoryContextCallback cleanup;
};

/* Runs when the reader's memory context goes, on success or ERROR alike. */
static void
tar_reader_cleanup(void *arg)
{
	PitrTarReader *r = arg;

	if (r->archive != NULL)
	{
		archive_read_free(r->archive);
		r->archive = NULL;
	}
}

static la_ssize_t
tar_read_cb(struct archive *a, void *client_data, const void **buffer)
{
	PitrTarReader *r = client_data;
	ssize_t		n;

	/*
	 * A cancel cannot be serviced from inside libarchive (the longjmp would
	 * leave it half-updated): fail the read, and tar_fail calls
	 * CHECK_FOR_INTERRUPTS once libarchive has returned.
	 */
	if ((QueryCancelPending || ProcDiePending) &&
		INTERRUPTS_CAN_BE_PROCESSED())
	{
		r->interrupted = true;
		archive_set_error(a, EINTR, "interrupted");
		return -1;
	}
	do
	{
		n = read(r->fd, r->buf, TAR_READ_BUFSIZE);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
	{
		archive_set_error(a, errno, "read error: %s", strerror(errno));
		return -1;
	}
	*buffer = r->buf;
	return n;
}

/* Skip by seeking; libarchive only asks while the data is not compressed. */
static la_int64_t
tar_skip_cb(struct archive *a, void *client_data, la_int64_t request)
{
	PitrTarReader *r = client_data;
	off_t		cur;
	struct stat st;

	cur = lseek(r->fd, 0, SEEK_CUR);
	if (cur < 0 || fstat(r->fd, &st) < 0)
		return 0;				/* libarchive falls back to reading */
	if (request > st.st_size - cur)
		request = st.st_size - cur;
	if (request <= 0 || lseek(r->fd, request, SEEK_CUR) < 0)
		return 0;
	return request;
}

/* Give up in PITR_TAR_NOERROR mode; the first message (palloc'd) is kept. */
static void
tar_give_up(PitrTarReader *r, char *msg)
{
	r->failed = true;
	if (r->error == NULL)
		r->error = MemoryContextStrdup(r->callercxt, msg);
	pfree(msg);
}

/*
 * Reading the tar, or its entry "member" when not NULL, failed: "msg", or
 * libarchive's own message when that is NULL.  The pending cancel that
 * made a read fail is serviced first.  Then an ERROR, or in
 * PITR_TAR_NOERROR mode the reader's error.
 */
static void
tar_fail(PitrTarReader *r, const char *member, const char *msg)
{
	if (r->interrupted)
		CHECK_FOR_INTERRUPTS();
	if (msg == NULL && r->archive != NULL)
		msg = archive_error_string(r->archive);
	if (msg == NULL)
		msg = "unknown error";

	if ((r->flags & PITR_TAR_NOERROR) && member != NULL)
		tar_give_up(r, psprintf("could not read \"%s\" in \"%s\": %s",
								member, r->path, msg));
	else if (r->flags & PITR_TAR_NOERROR)
		tar_give_up(r, psprintf("could not read \"%s\": %s", r->path, msg));
	else if (member != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("could not read \"%s\" in \"%s\": %s",
						member, r->path, msg)));
	else
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("could not read \"%s\": %s", r->path, msg)));
}

/* A libarchive result: true for more, false at the end or on failure. */
static bool
tar_more(PitrTarReader *r, int rc)
{
	if (rc == ARCHIVE_OK || rc == ARCHIVE_WARN)
		return true;
	if (rc != ARCHIVE_EOF)
		tar_fail(r, NULL, NULL);
	return false;
}

static bool
is_regular_fd(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

/* See tar_reader.h. */
PitrTarReader *
pitr_tar_open(const char *path, const char *compression, int flags)
{
	MemoryContext cxt;
	PitrTarReader *r;
	struct archive *a;

	cxt = AllocSetContextCreate(CurrentMemoryContext,
								"pitr_restore tar reader",
								ALLOCSET_DEFAULT_SIZES);
	r = MemoryContextAllocZero(cxt, sizeof(PitrTarReader));
	r->fd = -1;
	r->flags = flags;
	r->path = MemoryContextStrdup(cxt, path);
	r->buf = MemoryContextAlloc(cxt, TAR_READ_BUFSIZE);
	r->cxt = cxt;
	r->callercxt = CurrentMemoryContext;
	r->cleanup.func = tar_reader_cleanup;
	r->cleanup.arg = r;
	MemoryContextRegisterResetCallback(cxt, &r->cleanup);

	/* non-blocking, and only a regular file: a FIFO must not hang us */
	r->fd = OpenTransientFile(path, O_RDONLY | O_NONBLOCK | PG_BINARY);
	if (r->fd >= 0 && !is_regular_fd(r->fd))
	{
		CloseTransientFile(r->fd);
		r->fd = -1;
		if (flags & PITR_TAR_NOERROR)
		{
			tar_give_up(r, psprintf("\"%s\" is not a regular file", path));
			return r;
		}
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("\"%s\" is not a regular file", path)));
	}
	if (r->fd < 0)
	{
		if (flags & PITR_TAR_NOERROR)
		{
			tar_give_up(r, psprintf("could not open file \"%s\": %m", path));
			return r;
		}
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\": %m", path)));
	}

	a = r->archive = archive_read_new();
	if (a == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	archive_read_support_format_tar(a);
	/* a warning means libarchive would run an external program: refuse */
	if ((strcmp(compression, "gzip") == 0 &&
		 archive_read_support_filter_gzip(a) != ARCHIVE_OK) ||
		(strcmp(compression, "zstd") == 0 &&
		 archive_read_support_filter_zstd(a) != ARCHIVE_OK) ||
		(strcmp(compression, "lz4") == 0 &&
		 archive_read_support_filter_lz4(a) != ARCHIVE_OK))
	{
		if (flags & PITR_TAR_NOERROR)
		{
			tar_give_up(r, psprintf("%s decompression is not available",
									compression));
			return r;
		}
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s decompression is not available", compression)));
	}
	if (archive_read_open2(a, r, NULL, tar_read_cb,
						   (flags & PITR_TAR_SEEK) ? tar_skip_cb : NULL,
						   NULL) != ARCHIVE_OK)
		tar_fail(r, NULL, NULL);
	return r;
}

/* See tar_reader.h. */
bool
pitr_tar_next(PitrTarReader *r, struct archive_entry **entry)
{
	if (r->failed)
		return false;
	CHECK_FOR_INTERRUPTS();
	return tar_more(r, archive_read_next_header(r->archive, entry));
}

/* See tar_reader.h. */
bool
pitr_tar_read_block(PitrTarReader *r, const void **block, size_t *size,
					int64 *offset)
{
	la_int64_t	off;

	if (r->failed)
		return false;
	CHECK_FOR_INTERRUPTS();
	if (!tar_more(r, archive_read_data_block(r->archive, block, size, &off)))
		return false;
	*offset = off;
	return true;
}

/* See tar_reader.h. */
bool
pitr_tar_read(PitrTarReader *r, const char *member, void *buf, size_t len)
{
	size_t		done = 0;

	while (done < len)
	{
		la_ssize_t	n;

		if (r->failed)
			return false;
		CHECK_FOR_INTERRUPTS();
		n = archive_read_data(r->archive, (char *) buf + done, len - done);
		if (n <= 0)
		{
			tar_fail(r, member, n == 0 ? "unexpected end of file" : NULL);
			return false;
		}
		done += n;
	}
	return true;
}

/* See tar_reader.h. */
const char *
pitr_tar_error(PitrTarReader *r)
{
	return r->error;
}

/* See tar_reader.h. */
void
pitr_tar_close(PitrTarReader *r)
{
	int			fd = r->fd;

	/* the callback frees libarchive, which still uses the file */
	MemoryContextDelete(r->cxt);
	if (fd >= 0)
		CloseTransientFile(fd);
}
