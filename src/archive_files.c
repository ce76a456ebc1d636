/*-------------------------------------------------------------------------
 *
 * archive_files.c
 *	  The files of a WAL archive: which names PostgreSQL's archiver writes,
 *	  listing a directory, and reading a file's content whether it is stored
 *	  plain, zstd-compressed (.zst) or gzip-compressed (.gz).
 *
 * Decompression streams straight into the caller's buffer, so a segment is
 * never held twice.  The zstd and zlib states are malloc'ed by their
 * libraries; a memory context callback frees them on ERROR.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "access/xlog_internal.h"
#include "miscadmin.h"
#include "storage/fd.h"

#include "archive_files.h"

#define PITR_READ_CHUNK (256 * 1024)

struct PitrFileReader
{
	ZSTD_DCtx  *zstd;
	z_stream	gz;
	bool		gz_ready;
	char	   *inbuf;			/* PITR_READ_CHUNK bytes of compressed input */
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

	memset(f, 0, sizeof(*f));
	if (len >= sizeof(base))
		return false;
	strcpy(base, name);

	f->compression = PITR_COMPRESS_NONE;
	if (len > 4 && strcmp(base + len - 4, ".zst") == 0)
	{
		f->compression = PITR_COMPRESS_ZSTD;
		len -= 4;
	}
	else if (len > 3 && strcmp(base + len - 3, ".gz") == 0)
	{
		f->compression = PITR_COMPRESS_GZIP;
		len -= 3;
	}
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
	DIR		   *d;
	struct dirent *de;
	List	   *files = NIL;

	d = AllocateDir(dir);
	if (d == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open WAL archive directory \"%s\": %m", dir)));

	while ((de = ReadDir(d, dir)) != NULL)
	{
		PitrArchiveFile f;
		char		path[MAXPGPATH];
		struct stat st;

		CHECK_FOR_INTERRUPTS();
		if (!pitr_classify_file_name(de->d_name, &f))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) != 0)
		{
			if (errno == ENOENT)
				continue;		/* removed while we looked */
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not stat file \"%s\": %m", path)));
		}
		if (!S_ISREG(st.st_mode))
			continue;
		f.name = pstrdup(de->d_name);
		f.size = st.st_size;
		f.mtime = st.st_mtime;
		files = lappend(files, memcpy(palloc(sizeof(f)), &f, sizeof(f)));
	}
	FreeDir(d);

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
file_reader_free(void *arg)
{
	PitrFileReader *r = (PitrFileReader *) arg;

	if (r->zstd)
		ZSTD_freeDCtx(r->zstd);
	r->zstd = NULL;
	if (r->gz_ready)
		inflateEnd(&r->gz);
	r->gz_ready = false;
}

PitrFileReader *
pitr_file_reader_create(void)
{
	PitrFileReader *r = palloc0(sizeof(PitrFileReader));

	r->inbuf = palloc(PITR_READ_CHUNK);
	r->cb.func = file_reader_free;
	r->cb.arg = r;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &r->cb);
	return r;
}

/* Read plain content straight into buf. */
static int64
read_plain(int fd, char *buf, int64 want, bool exact, int64 *disk_bytes,
		   char **err)
{
	int64		got = 0;

	while (got < want)
	{
		ssize_t		n = read(fd, buf + got, Min(want - got, 4 * 1024 * 1024));

		CHECK_FOR_INTERRUPTS();
		if (n < 0)
		{
			*err = psprintf("could not read file: %m");
			return -1;
		}
		if (n == 0)
			break;
		got += n;
		*disk_bytes += n;
	}
	if (exact && got == want)
	{
		char		extra;

		if (read(fd, &extra, 1) == 1)
		{
			*err = psprintf("file is larger than %lld bytes", (long long) want);
			return -1;
		}
	}
	return got;
}

static int64
read_zstd(PitrFileReader *r, int fd, char *buf, int64 want, bool exact,
		  int64 *disk_bytes, char **err)
{
	ZSTD_outBuffer out = {buf, want, 0};
	size_t		ret = 0;
	bool		any = false;

	/* Reading a page or so needs only a little input. */
	size_t		chunk = exact ? PITR_READ_CHUNK : Min(PITR_READ_CHUNK, 16384);

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
		ssize_t		n = read(fd, r->inbuf, chunk);
		ZSTD_inBuffer in = {r->inbuf, 0, 0};

		CHECK_FOR_INTERRUPTS();
		if (n < 0)
		{
			*err = psprintf("could not read file: %m");
			return -1;
		}
		if (n == 0)
			break;
		any = true;
		*disk_bytes += n;
		in.size = n;
		while (in.pos < in.size)
		{
			if (out.pos == out.size)
			{
				/* All we wanted is there; anything more is too much. */
				if (!exact)
					return out.pos;
				*err = psprintf("decompressed content is larger than %lld bytes",
								   (long long) want);
				return -1;
			}
			ret = ZSTD_decompressStream(r->zstd, &out, &in);
			if (ZSTD_isError(ret))
			{
				*err = psprintf("could not decompress zstd data: %s",
								   ZSTD_getErrorName(ret));
				return -1;
			}
		}
		if (!exact && out.pos == out.size)
			return out.pos;
	}

	/* Flush what the decoder still holds. */
	while (ret != 0 && out.pos < out.size)
	{
		ZSTD_inBuffer in = {NULL, 0, 0};
		size_t		before = out.pos;

		ret = ZSTD_decompressStream(r->zstd, &out, &in);
		if (ZSTD_isError(ret))
		{
			*err = psprintf("could not decompress zstd data: %s",
							   ZSTD_getErrorName(ret));
			return -1;
		}
		if (out.pos == before)
			break;
	}
	if (!any)
	{
		*err = pstrdup("file is empty");
		return -1;
	}
	if (ret != 0 && (exact || out.pos < out.size))
	{
		*err = pstrdup("file ends with a truncated zstd frame");
		return -1;
	}
	return out.pos;
}

static int64
read_gzip(PitrFileReader *r, int fd, char *buf, int64 want, bool exact,
		  int64 *disk_bytes, char **err)
{
	int			zret = Z_OK;

	if (r->gz_ready)
		inflateEnd(&r->gz);
	memset(&r->gz, 0, sizeof(r->gz));
	if (inflateInit2(&r->gz, 16 + MAX_WBITS) != Z_OK)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Could not create a gzip decompression context.")));
	r->gz_ready = true;
	r->gz.next_out = (Bytef *) buf;
	r->gz.avail_out = want;

	while (zret != Z_STREAM_END)
	{
		ssize_t		n = read(fd, r->inbuf, PITR_READ_CHUNK);

		CHECK_FOR_INTERRUPTS();
		if (n < 0)
		{
			*err = psprintf("could not read file: %m");
			return -1;
		}
		if (n == 0)
		{
			*err = pstrdup("file ends with a truncated gzip stream");
			return -1;
		}
		*disk_bytes += n;
		r->gz.next_in = (Bytef *) r->inbuf;
		r->gz.avail_in = n;
		while (r->gz.avail_in > 0 && zret != Z_STREAM_END)
		{
			if (r->gz.avail_out == 0)
			{
				if (!exact)
					return want;
				*err = psprintf("decompressed content is larger than %lld bytes",
								   (long long) want);
				return -1;
			}
			zret = inflate(&r->gz, Z_NO_FLUSH);
			if (zret != Z_OK && zret != Z_STREAM_END)
			{
				*err = psprintf("could not decompress gzip data: %s",
								   r->gz.msg ? r->gz.msg : "invalid data");
				return -1;
			}
		}
		if (!exact && r->gz.avail_out == 0)
			return want;
	}
	return want - r->gz.avail_out;
}

int64
pitr_read_file(PitrFileReader *r, const char *path, PitrCompression compression,
			   char *buf, int64 want, bool exact, int64 *disk_bytes,
			   char **err)
{
	int			fd;
	int64		got = -1;

	*err = NULL;
	fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	if (fd < 0)
	{
		*err = psprintf("could not open file: %m");
		return -1;
	}

	switch (compression)
	{
		case PITR_COMPRESS_NONE:
			got = read_plain(fd, buf, want, exact, disk_bytes, err);
			break;
		case PITR_COMPRESS_ZSTD:
			got = read_zstd(r, fd, buf, want, exact, disk_bytes, err);
			break;
		case PITR_COMPRESS_GZIP:
			got = read_gzip(r, fd, buf, want, exact, disk_bytes, err);
			break;
		case PITR_COMPRESS_LZ4:
		case PITR_COMPRESS_BZIP2:
			*err = psprintf("%s files cannot be read yet",
							pitr_compression_name(compression));
			break;
	}
	CloseTransientFile(fd);
	return got;
}
