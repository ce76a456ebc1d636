/*-------------------------------------------------------------------------
 *
 * archive_files.c
 *	  The files of a WAL archive: which names PostgreSQL's archiver writes,
 *	  listing a directory, and reading a file's content whether it is stored
 *	  plain or compressed (zstd, gzip, lz4, bzip2).
 *
 * Decompression streams straight into the caller's buffer, so a segment is
 * never held twice.  The libraries' states are malloc'ed by them; a memory
 * context callback frees them on ERROR.
 *
 * A compressed file is read exactly as the decompression command in
 * restore_command would read it (compression.c): concatenated frames or
 * members add up, and what that command would reject (trailing garbage,
 * a truncated frame) is rejected here too, so the index never certifies a
 * file recovery cannot use.  Files are opened non-blocking and checked to
 * be regular before anything is read: a FIFO never hangs a scan.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bzlib.h>
#include <lz4frame.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "access/xlog_internal.h"
#include "miscadmin.h"
#include "storage/fd.h"

#include "archive_files.h"
#include "util/dir_reader.h"

#define PITR_READ_CHUNK (256 * 1024)

/* Output past what the caller wants goes here, only to see if there is any. */
#define PITR_SCRATCH 4096

struct PitrFileReader
{
	ZSTD_DCtx  *zstd;
	z_stream	gz;
	bool		gz_ready;
	LZ4F_dctx  *lz4;
	bz_stream	bz;
	bool		bz_ready;
	char	   *inbuf;			/* PITR_READ_CHUNK bytes of compressed input */
	char	   *scratch;		/* PITR_SCRATCH bytes */
	MemoryContextCallback cb;
};

static bool
all_hex(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

bool
pitr_classify_file_name(const char *name, PitrArchiveFile *f)
{
	size_t		len = strlen(name);
	char		base[MAXPGPATH];
	int			baselen;

	memset(f, 0, sizeof(*f));
	if (len >= sizeof(base))
		return false;
	strcpy(base, name);

	/* One rule for suffixes: the table recovery's fetch order uses. */
	f->compression = pitr_compression_of_name(base, &baselen);
	len = baselen;
	base[len] = '\0';

	if (len == XLOG_FNAME_LEN && all_hex(base, XLOG_FNAME_LEN))
		f->kind = PITR_FILE_SEGMENT;
	else if (len == XLOG_FNAME_LEN + 8 && all_hex(base, XLOG_FNAME_LEN) &&
			 strcmp(base + XLOG_FNAME_LEN, ".partial") == 0)
		f->kind = PITR_FILE_PARTIAL;
	else if (len == 8 + 8 && all_hex(base, 8) &&
			 strcmp(base + 8, ".history") == 0)
		f->kind = PITR_FILE_HISTORY;
	else if (len == XLOG_FNAME_LEN + 1 + 8 + 7 && all_hex(base, XLOG_FNAME_LEN) &&
			 base[XLOG_FNAME_LEN] == '.' &&
			 all_hex(base + XLOG_FNAME_LEN + 1, 8) &&
			 strcmp(base + XLOG_FNAME_LEN + 9, ".backup") == 0)
		f->kind = PITR_FILE_BACKUP;
	else
		return false;

	if (sscanf(base, "%08X", &f->tli) != 1)
		return false;
	if (f->kind != PITR_FILE_HISTORY &&
		sscanf(base + 8, "%08X%08X", &f->log, &f->seg) != 2)
		return false;
	/* TLI 0 does not exist; TLI 1 never has a history file. */
	if (f->tli == 0 || (f->kind == PITR_FILE_HISTORY && f->tli == 1))
		return false;
	return true;
}

static int
archive_file_cmp(const ListCell *a, const ListCell *b)
{
	return strcmp(((PitrArchiveFile *) lfirst(a))->name,
				  ((PitrArchiveFile *) lfirst(b))->name);
}

List *
pitr_list_archive(const char *dir)
{
	List	   *files = NIL;
	ListCell   *lc;

	foreach(lc, pitr_read_dir(dir, "WAL archive directory", 0, NULL))
	{
		char	   *name = lfirst(lc);
		PitrArchiveFile f;
		char		path[MAXPGPATH];
		struct stat st;

		if (!pitr_classify_file_name(name, &f))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		/* lstat: a symlink or FIFO is reported, never followed or opened. */
		if (lstat(path, &st) != 0)
		{
			if (errno == ENOENT)
				continue;		/* removed while we looked */
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not stat file \"%s\": %m", path)));
		}
		f.regular = S_ISREG(st.st_mode);
		f.name = name;
		f.size = st.st_size;
		f.mtime = st.st_mtime;
		files = lappend(files, memcpy(palloc(sizeof(f)), &f, sizeof(f)));
	}

	list_sort(files, archive_file_cmp);
	return files;
}

const char *
pitr_file_kind_name(PitrFileKind k)
{
	switch (k)
	{
		case PITR_FILE_SEGMENT:
			return "segment";
		case PITR_FILE_PARTIAL:
			return "partial";
		case PITR_FILE_HISTORY:
			return "history";
		case PITR_FILE_BACKUP:
			return "backup";
	}
	return "?";
}

XLogSegNo
pitr_file_segno(const PitrArchiveFile *f, int segsize)
{
	return (XLogSegNo) f->log * XLogSegmentsPerXLogId(segsize) + f->seg;
}

static void
bz_end(PitrFileReader *r)
{
	if (r->bz_ready)
		BZ2_bzDecompressEnd(&r->bz);
	r->bz_ready = false;
}

static void
file_reader_free(void *arg)
{
	PitrFileReader *r = (PitrFileReader *) arg;

	if (r->zstd)
		ZSTD_freeDCtx(r->zstd);
	r->zstd = NULL;
	if (r->gz_ready)
		inflateEnd(&r->gz);
	r->gz_ready = false;
	if (r->lz4)
		LZ4F_freeDecompressionContext(r->lz4);
	r->lz4 = NULL;
	bz_end(r);
}

PitrFileReader *
pitr_file_reader_create(void)
{
	PitrFileReader *r = palloc0(sizeof(PitrFileReader));

	r->inbuf = palloc(PITR_READ_CHUNK);
	r->scratch = palloc(PITR_SCRATCH);
	r->cb.func = file_reader_free;
	r->cb.arg = r;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &r->cb);
	return r;
}

/* What one read of a file found. */
typedef struct ReadState
{
	PitrFileReader *r;
	int			fd;
	char	   *buf;
	int64		want;
	bool		exact;
	int64	   *disk_bytes;
	char	  **msg;
	bool		any;			/* any input read yet */
} ReadState;

static PitrReadStatus
fail(ReadState *rs, PitrReadStatus status, char *msg)
{
	*rs->msg = msg;
	return status;
}

/* Read the next chunk of input; *n is 0 at the end of the file. */
static bool
next_chunk(ReadState *rs, size_t chunk, ssize_t *n)
{
	CHECK_FOR_INTERRUPTS();
	*n = read(rs->fd, rs->r->inbuf, chunk);
	if (*n < 0)
	{
		*rs->msg = psprintf("could not read file: %m");
		return false;
	}
	*rs->disk_bytes += *n;
	if (*n > 0)
		rs->any = true;
	return true;
}

/*
 * Only a prefix is wanted (not exact) and "pos" bytes fill it: *got is set
 * and the read is done.
 */
static bool
prefix_done(ReadState *rs, size_t pos, int64 *got)
{
	if (rs->exact || pos < (size_t) rs->want)
		return false;
	*got = pos;
	return true;
}

/*
 * The end of a compressed file, "pos" bytes decompressed: "cut" when the
 * last "unit" (zstd frame, gzip member...) is incomplete, which only a
 * prefix read that got all it wanted forgives.
 */
static PitrReadStatus
end_of_stream(ReadState *rs, bool cut, const char *unit, size_t pos,
			  int64 *got)
{
	if (!rs->any)
		return fail(rs, PITR_READ_TRUNCATED, pstrdup("file is empty"));
	if (cut && (rs->exact || pos < (size_t) rs->want))
		return fail(rs, PITR_READ_TRUNCATED,
					psprintf("file ends with a truncated %s", unit));
	*got = pos;
	return PITR_READ_OK;
}

static PitrReadStatus
too_large(ReadState *rs, const char *what)
{
	return fail(rs, PITR_READ_TOO_LARGE,
				psprintf("%s content is larger than %lld bytes", what,
						 (long long) rs->want));
}

/* Read plain content straight into buf. */
static PitrReadStatus
read_plain(ReadState *rs, int64 *got)
{
	*got = 0;
	while (*got < rs->want)
	{
		ssize_t		n;

		CHECK_FOR_INTERRUPTS();
		n = read(rs->fd, rs->buf + *got, Min(rs->want - *got, 4 * 1024 * 1024));
		if (n < 0)
			return fail(rs, PITR_READ_UNREADABLE, psprintf("could not read file: %m"));
		if (n == 0)
			break;
		*got += n;
		*rs->disk_bytes += n;
	}
	if (rs->exact && *got == rs->want)
	{
		char		extra;

		if (read(rs->fd, &extra, 1) == 1)
			return fail(rs, PITR_READ_TOO_LARGE,
						psprintf("file is larger than %lld bytes", (long long) rs->want));
	}
	return PITR_READ_OK;
}

/* A zstd error, said in a sentence with the library's words in brackets. */
static char *
zstd_error_text(size_t ret)
{
	const char *lib = ZSTD_getErrorName(ret);

	switch (ZSTD_getErrorCode(ret))
	{
		case ZSTD_error_prefix_unknown:
			return psprintf("the file holds data that is not a zstd frame, which \"zstd -d\" rejects (zstd: %s)", lib);
		case ZSTD_error_checksum_wrong:
			return psprintf("a zstd frame's checksum does not match its content: the file is damaged (zstd: %s)", lib);
		case ZSTD_error_corruption_detected:
			return psprintf("the zstd data is damaged (zstd: %s)", lib);
		case ZSTD_error_frameParameter_windowTooLarge:
			return psprintf("a zstd frame needs a larger window than \"zstd -d\" allows by default (zstd: %s)", lib);
		default:
			return psprintf("the zstd data cannot be decompressed (zstd: %s)", lib);
	}
}

static PitrReadStatus
read_zstd(ReadState *rs, int64 *got)
{
	PitrFileReader *r = rs->r;
	ZSTD_outBuffer out = {rs->buf, rs->want, 0};
	size_t		ret = 0;
	ssize_t		n;

	/* Reading a page or so needs only a little input. */
	size_t		chunk = rs->exact ? PITR_READ_CHUNK : 16384;

	if (r->zstd == NULL)
	{
		r->zstd = ZSTD_createDCtx();
		if (r->zstd == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("Could not create a zstd decompression context.")));
	}
	ZSTD_DCtx_reset(r->zstd, ZSTD_reset_session_only);

	for (;;)
	{
		ZSTD_inBuffer in;

		if (!next_chunk(rs, chunk, &n))
			return PITR_READ_UNREADABLE;
		if (n == 0)
			break;
		in.src = r->inbuf;
		in.size = n;
		in.pos = 0;
		while (in.pos < in.size)
		{
			if (out.pos == out.size)
			{
				ZSTD_outBuffer extra = {r->scratch, PITR_SCRATCH, 0};

				if (prefix_done(rs, out.pos, got))
					return PITR_READ_OK;

				/*
				 * All we want is there.  What follows may still be a frame's
				 * checksum or an empty frame; only content is too much.
				 */
				ret = ZSTD_decompressStream(r->zstd, &extra, &in);
				if (ZSTD_isError(ret))
					return fail(rs, PITR_READ_CORRUPT, zstd_error_text(ret));
				if (extra.pos > 0)
					return too_large(rs, "decompressed");
				continue;
			}
			ret = ZSTD_decompressStream(r->zstd, &out, &in);
			if (ZSTD_isError(ret))
				return fail(rs, PITR_READ_CORRUPT, zstd_error_text(ret));
		}
		if (prefix_done(rs, out.pos, got))
			return PITR_READ_OK;
	}
	/* Flush what the decoder still holds. */
	while (ret != 0)
	{
		ZSTD_inBuffer in = {NULL, 0, 0};
		ZSTD_outBuffer extra = {r->scratch, PITR_SCRATCH, 0};
		ZSTD_outBuffer *o = out.pos < out.size ? &out : &extra;
		size_t		before = o->pos;

		ret = ZSTD_decompressStream(r->zstd, o, &in);
		if (ZSTD_isError(ret))
			return fail(rs, PITR_READ_CORRUPT, zstd_error_text(ret));
		if (o == &extra && extra.pos > 0)
		{
			if (!rs->exact)
				break;
			return too_large(rs, "decompressed");
		}
		if (o->pos == before)
			break;
	}
	return end_of_stream(rs, ret != 0, "zstd frame", out.pos, got);
}

/*
 * gzip, as "gzip -dc" reads it: members are concatenated; after the last,
 * only zero bytes may follow (anything else makes gzip exit with status 2).
 */
static PitrReadStatus
read_gzip(ReadState *rs, int64 *got)
{
	PitrFileReader *r = rs->r;
	enum
	{
		GZ_MEMBER, GZ_BETWEEN, GZ_ZEROS
	}			state = GZ_MEMBER;
	ssize_t		n;

	if (!r->gz_ready)
	{
		memset(&r->gz, 0, sizeof(r->gz));
		if (inflateInit2(&r->gz, 16 + MAX_WBITS) != Z_OK)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("Could not create a gzip decompression context.")));
		r->gz_ready = true;
	}
	else
		inflateReset(&r->gz);
	r->gz.next_out = (Bytef *) rs->buf;
	r->gz.avail_out = rs->want;

	for (;;)
	{
		if (!next_chunk(rs, PITR_READ_CHUNK, &n))
			return PITR_READ_UNREADABLE;
		if (n == 0)
			break;
		r->gz.next_in = (Bytef *) r->inbuf;
		r->gz.avail_in = n;
		while (r->gz.avail_in > 0)
		{
			int			zret;

			if (state == GZ_BETWEEN)
			{
				/* Another member, or zero padding, or garbage. */
				if (r->gz.next_in[0] == 0)
					state = GZ_ZEROS;
				else if (r->gz.next_in[0] == 0x1f)
				{
					inflateReset(&r->gz);
					state = GZ_MEMBER;
				}
				else
					return fail(rs, PITR_READ_CORRUPT,
								pstrdup("the gzip data is followed by trailing garbage, which makes \"gzip -dc\" fail"));
				continue;
			}
			if (state == GZ_ZEROS)
			{
				if (r->gz.next_in[0] != 0)
					return fail(rs, PITR_READ_CORRUPT,
								pstrdup("the gzip data is followed by trailing garbage, which makes \"gzip -dc\" fail"));
				r->gz.next_in++;
				r->gz.avail_in--;
				continue;
			}

			if (r->gz.avail_out == 0)
			{
				Bytef	   *save = r->gz.next_out;

				if (prefix_done(rs, rs->want, got))
					return PITR_READ_OK;
				/* Anything decompressed now is more than wanted. */
				r->gz.next_out = (Bytef *) r->scratch;
				r->gz.avail_out = PITR_SCRATCH;
				zret = inflate(&r->gz, Z_NO_FLUSH);
				if (r->gz.avail_out != PITR_SCRATCH)
					return too_large(rs, "decompressed");
				r->gz.next_out = save;
				r->gz.avail_out = 0;
			}
			else
				zret = inflate(&r->gz, Z_NO_FLUSH);
			if (zret == Z_STREAM_END)
				state = GZ_BETWEEN;
			else if (zret != Z_OK)
				return fail(rs, PITR_READ_CORRUPT,
							psprintf("the gzip data is damaged (zlib: %s)",
									 r->gz.msg ? r->gz.msg : "invalid data"));
		}
		if (prefix_done(rs, rs->want - r->gz.avail_out, got))
			return PITR_READ_OK;
	}
	return end_of_stream(rs, state == GZ_MEMBER, "gzip member",
						 rs->want - r->gz.avail_out, got);
}

/* lz4, as "lz4 -dc" reads it: frames are concatenated, nothing may follow. */
static PitrReadStatus
read_lz4(ReadState *rs, int64 *got)
{
	PitrFileReader *r = rs->r;
	size_t		outpos = 0;
	size_t		hint = 1;
	ssize_t		n;

	if (r->lz4 == NULL)
	{
		if (LZ4F_isError(LZ4F_createDecompressionContext(&r->lz4, LZ4F_VERSION)))
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("Could not create an lz4 decompression context.")));
	}
	else
		LZ4F_resetDecompressionContext(r->lz4);

	for (;;)
	{
		size_t		inpos = 0;

		if (!next_chunk(rs, rs->exact ? PITR_READ_CHUNK : 16384, &n))
			return PITR_READ_UNREADABLE;
		if (n == 0)
			break;
		while (inpos < (size_t) n)
		{
			size_t		srcsize = n - inpos;
			bool		full = outpos == (size_t) rs->want;
			char	   *dst = full ? r->scratch : rs->buf + outpos;
			size_t		dstsize = full ? PITR_SCRATCH : rs->want - outpos;

			if (prefix_done(rs, outpos, got))
				return PITR_READ_OK;
			hint = LZ4F_decompress(r->lz4, dst, &dstsize,
								   r->inbuf + inpos, &srcsize, NULL);
			if (LZ4F_isError(hint))
				return fail(rs, PITR_READ_CORRUPT,
							psprintf("the file holds data that \"lz4 -d\" rejects: it is damaged or not an lz4 frame (lz4: %s)",
									 LZ4F_getErrorName(hint)));
			if (full && dstsize > 0)
				return too_large(rs, "decompressed");
			if (!full)
				outpos += dstsize;
			inpos += srcsize;
			if (srcsize == 0 && dstsize == 0 && !full)
				return fail(rs, PITR_READ_CORRUPT,
							pstrdup("the lz4 decoder made no progress: the file is damaged"));
		}
		if (prefix_done(rs, outpos, got))
			return PITR_READ_OK;
	}
	return end_of_stream(rs, hint != 0, "lz4 frame", outpos, got);
}

static void
bz_start(PitrFileReader *r)
{
	bz_end(r);
	memset(&r->bz, 0, sizeof(r->bz));
	if (BZ2_bzDecompressInit(&r->bz, 0, 0) != BZ_OK)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Could not create a bzip2 decompression context.")));
	r->bz_ready = true;
}

/*
 * Feed "len" bytes to the bzip2 decoder; *ended when the stream ended (the
 * unread rest is left in *used).
 */
static PitrReadStatus
bz_feed(ReadState *rs, char *data, size_t len, size_t *outpos, size_t *used,
		bool *ended)
{
	PitrFileReader *r = rs->r;

	r->bz.next_in = data;
	r->bz.avail_in = len;
	*ended = false;
	while (r->bz.avail_in > 0)
	{
		bool		full = *outpos == (size_t) rs->want;
		int			ret;

		if (full && !rs->exact)
			break;
		r->bz.next_out = full ? r->scratch : rs->buf + *outpos;
		r->bz.avail_out = full ? PITR_SCRATCH : Min(rs->want - *outpos, (int64) PG_INT32_MAX);
		{
			unsigned int before = r->bz.avail_out;

			ret = BZ2_bzDecompress(&r->bz);
			if (ret != BZ_OK && ret != BZ_STREAM_END)
				return fail(rs, PITR_READ_CORRUPT,
							psprintf("the bzip2 data is damaged (libbz2 error %d)", ret));
			if (full && r->bz.avail_out != before)
				return too_large(rs, "decompressed");
			if (!full)
				*outpos += before - r->bz.avail_out;
		}
		if (ret == BZ_STREAM_END)
		{
			*ended = true;
			break;
		}
	}
	*used = len - r->bz.avail_in;
	return PITR_READ_OK;
}

/*
 * bzip2, as "bzip2 -dc" reads it: streams are concatenated; after the
 * last, bytes that do not begin a stream are ignored (bzip2 only warns),
 * while a cut-off stream header is an error.
 */
static PitrReadStatus
read_bzip2(ReadState *rs, int64 *got)
{
	static const char magic[] = "BZh";
	PitrFileReader *r = rs->r;
	enum
	{
		BZ_IN_STREAM, BZ_BETWEEN, BZ_IGNORE
	}			state = BZ_IN_STREAM;
	char		head[4];
	int			nhead = 0;
	size_t		outpos = 0;
	ssize_t		n;
	PitrReadStatus status;

	bz_start(r);
	for (;;)
	{
		size_t		pos = 0;

		if (!next_chunk(rs, PITR_READ_CHUNK, &n))
			return PITR_READ_UNREADABLE;
		if (n == 0)
			break;
		while (pos < (size_t) n && state != BZ_IGNORE)
		{
			if (state == BZ_BETWEEN)
			{
				char		c = r->inbuf[pos++];
				bool		ok = nhead < 3 ? c == magic[nhead] : (c >= '1' && c <= '9');

				if (!ok)
				{
					state = BZ_IGNORE;
					break;
				}
				head[nhead++] = c;
				if (nhead == 4)
				{
					size_t		used;
					bool		ended;

					bz_start(r);
					state = BZ_IN_STREAM;
					status = bz_feed(rs, head, 4, &outpos, &used, &ended);
					if (status != PITR_READ_OK)
						return status;
				}
				continue;
			}
			else
			{
				size_t		used;
				bool		ended;

				status = bz_feed(rs, r->inbuf + pos, n - pos, &outpos, &used, &ended);
				if (status != PITR_READ_OK)
					return status;
				pos += used;
				if (ended)
				{
					state = BZ_BETWEEN;
					nhead = 0;
				}
				else if (prefix_done(rs, outpos, got))
					return PITR_READ_OK;
			}
		}
		if (state == BZ_IGNORE)
			break;
	}
	return end_of_stream(rs, state == BZ_IN_STREAM ||
						 (state == BZ_BETWEEN && nhead > 0),
						 "bzip2 stream", outpos, got);
}

int
pitr_open_regular(const char *path, char **msg)
{
	int			fd;
	struct stat st;

	/*
	 * Non-blocking, no symlinks: opening a FIFO must not wait for a writer
	 * (that wait cannot be cancelled).  Then only a regular file is read.
	 */
	fd = OpenTransientFile(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | PG_BINARY);
	if (fd < 0)
	{
		if (errno == ELOOP)
		{
			*msg = pstrdup("the file is a symbolic link, which is not followed");
			return -2;
		}
		*msg = psprintf("could not open file: %m");
		return -1;
	}
	if (fstat(fd, &st) != 0)
	{
		*msg = psprintf("could not stat file: %m");
		CloseTransientFile(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode))
	{
		*msg = pstrdup(S_ISFIFO(st.st_mode) ? "the file is a FIFO, not a regular file" :
					   S_ISDIR(st.st_mode) ? "the file is a directory, not a regular file" :
					   "the file is not a regular file");
		CloseTransientFile(fd);
		errno = EINVAL;
		return -2;
	}
	return fd;
}

/*
 * The one reader of small configuration and metadata files: see
 * archive_files.h.  Regular files only, opened without blocking and without
 * following a symlink, at most "max" bytes, interrupts checked per chunk.
 */
char *
pitr_read_whole_file(const char *path, const char *what, int64 max,
					 int64 *len, int *err_no, char **msg)
{
	int			fd;
	struct stat st;
	char	   *buf;
	int64		size;
	int64		done = 0;
	char	   *why = NULL;

	*err_no = 0;
	*msg = NULL;
	fd = OpenTransientFile(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | PG_BINARY);
	if (fd < 0)
	{
		*err_no = errno;
		if (errno == ELOOP)
			*msg = psprintf("\"%s\" is a symbolic link, which is not followed", path);
		else
			*msg = psprintf("could not open %s \"%s\": %m", what, path);
		return NULL;
	}
	if (fstat(fd, &st) != 0)
		why = psprintf("could not stat %s \"%s\": %m", what, path);
	else if (!S_ISREG(st.st_mode))
		why = psprintf("\"%s\" is not a regular file", path);
	else if (st.st_size > max)
		why = psprintf("%s \"%s\" is larger than %lld bytes", what, path,
					   (long long) max);
	if (why != NULL)
	{
		CloseTransientFile(fd);
		*msg = why;
		return NULL;
	}

	/* The size is a hint: read until the end, never more than max. */
	size = Max(st.st_size, 1024);
	buf = palloc(size + 1);
	for (;;)
	{
		ssize_t		n;

		CHECK_FOR_INTERRUPTS();
		if (done == size)
		{
			if (size > max)
			{
				CloseTransientFile(fd);
				pfree(buf);
				*msg = psprintf("%s \"%s\" is larger than %lld bytes", what,
								path, (long long) max);
				return NULL;
			}
			size = Min(size * 2, max + 1);
			buf = repalloc(buf, size + 1);
		}
		n = read(fd, buf + done, Min(size - done, 1024 * 1024));
		if (n < 0)
		{
			*msg = psprintf("could not read %s \"%s\": %m", what, path);
			CloseTransientFile(fd);
			pfree(buf);
			return NULL;
		}
		if (n == 0)
			break;
		done += n;
	}
	CloseTransientFile(fd);
	if (done > max)
	{
		pfree(buf);
		*msg = psprintf("%s \"%s\" is larger than %lld bytes", what, path,
						(long long) max);
		return NULL;
	}
	buf[done] = '\0';
	*len = done;
	return buf;
}

char *
pitr_read_whole_file_or_error(const char *path, const char *what, int64 max,
							  bool missing_ok, int64 *len)
{
	int			err_no;
	char	   *msg;
	char	   *buf = pitr_read_whole_file(path, what, max, len, &err_no, &msg);

	if (buf != NULL)
		return buf;
	if (err_no == ENOENT && missing_ok)
		return NULL;
	if (err_no != 0 && err_no != ELOOP)
	{
		errno = err_no;
		ereport(ERROR, (errcode_for_file_access(), errmsg_internal("%s", msg)));
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg_internal("%s", msg),
			 errdetail("Configuration and metadata files are read only when they are regular files of a bounded size.")));
	return NULL;				/* keep compiler quiet */
}

PitrReadStatus
pitr_read_file(PitrFileReader *r, const char *path, PitrCompression compression,
			   char *buf, int64 want, bool exact, int64 *disk_bytes,
			   int64 *got, char **msg)
{
	ReadState	rs;
	PitrReadStatus status = PITR_READ_CORRUPT;

	*msg = NULL;
	*got = 0;
	rs.r = r;
	rs.buf = buf;
	rs.want = want;
	rs.exact = exact;
	rs.disk_bytes = disk_bytes;
	rs.msg = msg;
	rs.any = false;
	rs.fd = pitr_open_regular(path, msg);
	if (rs.fd == -2)
		return PITR_READ_NOT_REGULAR;
	if (rs.fd < 0)
		return PITR_READ_UNREADABLE;

	switch (compression)
	{
		case PITR_COMPRESS_NONE:
			status = read_plain(&rs, got);
			break;
		case PITR_COMPRESS_ZSTD:
			status = read_zstd(&rs, got);
			break;
		case PITR_COMPRESS_GZIP:
			status = read_gzip(&rs, got);
			break;
		case PITR_COMPRESS_LZ4:
			status = read_lz4(&rs, got);
			break;
		case PITR_COMPRESS_BZIP2:
			status = read_bzip2(&rs, got);
			break;
	}
	CloseTransientFile(rs.fd);
	if (status != PITR_READ_OK)
		*got = -1;
	return status;
}

char *
pitr_read_small_file(PitrFileReader *r, const char *path,
					 PitrCompression compression, int64 max, int64 *len,
					 int64 *disk_bytes, PitrReadStatus *status, char **msg)
{
	char	   *buf = palloc(max + 1);
	int64		dummy = 0;

	*status = pitr_read_file(r, path, compression, buf, max, true,
							 disk_bytes ? disk_bytes : &dummy, len, msg);
	if (*status != PITR_READ_OK)
	{
		pfree(buf);
		return NULL;
	}
	buf[*len] = '\0';
	return buf;
}

const char *
pitr_read_status_name(PitrReadStatus status)
{
	switch (status)
	{
		case PITR_READ_OK:
			return "ok";
		case PITR_READ_UNREADABLE:
			return "unreadable";
		case PITR_READ_NOT_REGULAR:
			return "not_regular";
		case PITR_READ_TRUNCATED:
			return "truncated";
		case PITR_READ_TOO_LARGE:
			return "too_large";
		case PITR_READ_CORRUPT:
			return "corrupt";
	}
	return "corrupt";
}
