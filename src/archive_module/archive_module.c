/*-------------------------------------------------------------------------
 *
 * archive_module.c
 *	  archive_library = 'pitr_restore': archive each file into
 *	  pitr_restore.archive_dir, segments zstd-compressed, and write next to
 *	  each segment the summary scan_archive would make of it (a sidecar,
 *	  see format/sidecar.h), computed from the bytes already in memory.
 *
 * Every file goes to a temporary name, is fsynced, then renamed
 * (durable_rename fsyncs the directory).  A segment's sidecar is renamed
 * into place before the segment: it names the archived file's size, mtime
 * and CRC-32C, so a sidecar left behind by a crash can never be taken for
 * a description of another file.  Like basic_archive, a file already there
 * with the same content is success and one with other content is an ERROR
 * (nothing is overwritten); ERRORs are caught and reported, and the
 * archiver retries the file later.
 *
 * Records that cross into a segment from its predecessor (chosen as the
 * scan chooses it, by the timeline's history) are decoded from the
 * predecessor's bytes: kept in memory from the previous call when it
 * archived that segment (and the archived file is unchanged since), else
 * read back from the archive when its own sidecar vouches for it.  See
 * doc/archive_module.md.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <zstd.h>

#include "access/xlog.h"
#include "access/xlog_internal.h"
#include "common/int.h"
#include "miscadmin.h"
#include "port/pg_crc32c.h"
#include "postmaster/pgarch.h"
#include "storage/fd.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "archive_files.h"
#include "archive_module/archive_module.h"
#include "compat/pg_compat.h"
#include "format/sidecar.h"
#include "history.h"
#include "util/file_io.h"
#include "util/gucs.h"
#include "walscan.h"

/* Largest history or backup history file archived (they are tiny). */
#define SMALL_FILE_MAX (16 * 1024 * 1024)

/* A temporary file is new: never one someone else made. */
#define TEMP_FILE_FLAGS (O_CREAT | O_EXCL | O_WRONLY | PG_BINARY)

/* Chunk of compressed output written at a time. */
#define OUT_CHUNK (1024 * 1024)

int			pitr_archive_compression_level = 1;
static char *archive_compression_string = NULL;

/* Lives as long as the archiver: the segment buffers. */
static MemoryContext module_cxt = NULL;

/* Reset after every file, successful or not. */
static MemoryContext file_cxt = NULL;

/* Temporary files of the file being archived, removed if it fails. */
static char temp_paths[2][MAXPGPATH];

/*
 * The segment archived last, kept so that the next one can decode the
 * record crossing into it without reading the archive.  "cur" receives
 * the file being archived; the two buffers swap after success.
 */
typedef struct PrevSegment
{
	bool		valid;
	TimeLineID	tli;
	XLogSegNo	segno;
	char		path[MAXPGPATH];	/* the archived file */
	char		name[MAXPGPATH];
	dev_t		dev;
	ino_t		ino;
	off_t		size;
	struct timespec mtime;
	XLogRecPtr	next_lsn;		/* the scan's start for the next segment */
} PrevSegment;

static PrevSegment prev;
static char *prev_buf = NULL;
static char *cur_buf = NULL;

/* ---- settings ---- */

static bool
check_compression(char **newval, void **extra, GucSource source)
{
	int		   *level;
	char	   *end;
	long		v;

	if (pg_strcasecmp(*newval, "off") == 0 || pg_strcasecmp(*newval, "none") == 0)
		v = 0;
	else
	{
		errno = 0;
		v = strtol(*newval, &end, 10);
		if (errno != 0 || end == *newval || *end != '\0' || v < 1 || v > 19)
		{
			GUC_check_errdetail("Use \"off\" or a zstd level from 1 to 19.");
			return false;
		}
	}
	/* GUC "extra" is freed by the GUC machinery: allocate it its way. */
	level = pitr_guc_malloc(sizeof(int));
	if (level == NULL)
		return false;
	*level = (int) v;
	*extra = level;
	return true;
}

static void
assign_compression(const char *newval, void *extra)
{
	pitr_archive_compression_level = *((int *) extra);
}

void
pitr_archive_module_define_gucs(void)
{
	DefineCustomStringVariable("pitr_restore.archive_compression",
							   "zstd level of segments archived by archive_library = 'pitr_restore'.",
							   "\"off\" stores them plain; 1 (the default) to 19 "
							   "trade archiving speed for size.",
							   &archive_compression_string,
							   "1",
							   PGC_SIGHUP,
							   0,
							   check_compression, assign_compression, NULL);
}

/* ---- file helpers (all raise ERROR; the callback catches them) ---- */

/* read(), with an ERROR instead of -1. */
static ssize_t
read_or_error(int fd, void *buf, size_t len, const char *path)
{
	ssize_t		n = read(fd, buf, len);

	if (n < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read file \"%s\": %m", path)));
	return n;
}

/* Read a whole file of at most "max" bytes into buf; its length. */
static size_t
read_source(const char *path, char *buf, size_t max)
{
	int			fd;
	size_t		total = 0;

	fd = pitr_open_file(path, O_RDONLY | PG_BINARY);
	for (;;)
	{
		ssize_t		n = read_or_error(fd, buf + total, max - total, path);

		if (n == 0)
			break;
		total += n;
		if (total == max)
		{
			char		extra;

			if (read(fd, &extra, 1) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("file \"%s\" is larger than %zu bytes", path, max)));
			break;
		}
	}
	CloseTransientFile(fd);
	return total;
}

/* zstd states are malloc'ed: free them when the file's context goes. */
static void
free_cctx(void *arg)
{
	ZSTD_freeCCtx((ZSTD_CCtx *) arg);
}

static void
free_dctx(void *arg)
{
	ZSTD_freeDCtx((ZSTD_DCtx *) arg);
}

/*
 * A zstd state just created ("what" names its kind), freed with the file's
 * context by "free_state".  ERROR if zstd could not make it.
 */
static void *
owned_by_file(void *state, MemoryContextCallbackFunction free_state,
			  const char *what)
{
	MemoryContextCallback *cb;

	if (state == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Could not create a zstd %s context.", what)));
	cb = MemoryContextAlloc(file_cxt, sizeof(MemoryContextCallback));
	cb->func = free_state;
	cb->arg = state;
	MemoryContextRegisterResetCallback(file_cxt, cb);
	return state;
}

static ZSTD_CCtx *
make_cctx(int level)
{
	ZSTD_CCtx  *cctx = owned_by_file(ZSTD_createCCtx(), free_cctx,
									 "compression");
	size_t		r;

	r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
	if (ZSTD_isError(r))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not set zstd compression level %d: %s",
						level, ZSTD_getErrorName(r))));
	return cctx;
}

static ZSTD_DCtx *
make_dctx(void)
{
	return owned_by_file(ZSTD_createDCtx(), free_dctx, "decompression");
}

/*
 * Is the content of an archived file (decompressed when zstd) exactly
 * data[0..len)?  Streams the file, so nothing big is allocated.
 */
static bool
same_content(const char *path, bool zstd, const char *data, size_t len)
{
	int			fd;
	char	   *in = palloc(OUT_CHUNK);
	char	   *out = zstd ? palloc(ZSTD_DStreamOutSize()) : NULL;
	size_t		pos = 0;
	bool		same = true;
	bool		frame_done = true;
	ZSTD_DCtx  *dctx = zstd ? make_dctx() : NULL;

	fd = pitr_open_file(path, O_RDONLY | PG_BINARY);
	while (same)
	{
		ssize_t		n = read_or_error(fd, in, OUT_CHUNK, path);

		if (n == 0)
			break;
		if (!zstd)
		{
			if (pos + n > len || memcmp(data + pos, in, n) != 0)
				same = false;
			pos += n;
			continue;
		}
		{
			ZSTD_inBuffer ib = {in, (size_t) n, 0};

			while (same && ib.pos < ib.size)
			{
				ZSTD_outBuffer ob = {out, ZSTD_DStreamOutSize(), 0};
				size_t		r = ZSTD_decompressStream(dctx, &ob, &ib);

				if (ZSTD_isError(r))
				{
					same = false;	/* not even valid zstd: not the same */
					break;
				}
				frame_done = (r == 0);
				if (pos + ob.pos > len || memcmp(data + pos, out, ob.pos) != 0)
					same = false;
				pos += ob.pos;
			}
		}
		CHECK_FOR_INTERRUPTS();
	}
	CloseTransientFile(fd);
	return same && pos == len && frame_done;
}

static void
fsync_path(const char *path, bool isdir)
{
	fsync_fname(path, isdir);
}

/* A temporary name in the archive that listings never take for a file. */
static void
temp_name(char *buf, const char *dir, const char *file, int slot)
{
	struct timeval tv;
	uint64		epoch;

	gettimeofday(&tv, NULL);
	if (pg_mul_u64_overflow((uint64) 1000, (uint64) tv.tv_sec, &epoch) ||
		pg_add_u64_overflow(epoch, (uint64) (tv.tv_usec / 1000), &epoch))
		elog(ERROR, "could not generate temporary file name for archiving");
	snprintf(buf, MAXPGPATH, "%s/.pitrtmp.%s.%d." UINT64_FORMAT,
			 dir, file, MyProcPid, epoch);
	strlcpy(temp_paths[slot], buf, MAXPGPATH);
}

static void
finish_temp(int fd, const char *path, struct stat *st)
{
	if (pg_fsync(fd) != 0)
		ereport(data_sync_elevel(ERROR),
				(errcode_for_file_access(),
				 errmsg("could not fsync file \"%s\": %m", path)));
	if (st && fstat(fd, st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat file \"%s\": %m", path)));
	pitr_close_file(fd, path);
}

/*
 * Write data to a temporary file, compressed with zstd at "level" (0:
 * plain); give its CRC-32C, size and stat.
 */
static void
write_archive_temp(const char *tmp, const char *data, size_t len, int level,
				   uint32 *crc_out, struct stat *st)
{
	int			fd = pitr_open_file(tmp, TEMP_FILE_FLAGS);
	pg_crc32c	crc;

	INIT_CRC32C(crc);
	if (level == 0)
	{
		COMP_CRC32C(crc, data, len);
		pitr_write_file(fd, tmp, data, len);
	}
	else
	{
		ZSTD_CCtx  *cctx = make_cctx(level);
		char	   *out = palloc(OUT_CHUNK);
		ZSTD_inBuffer ib = {data, len, 0};
		size_t		r;

		do
		{
			ZSTD_outBuffer ob = {out, OUT_CHUNK, 0};

			CHECK_FOR_INTERRUPTS();
			r = ZSTD_compressStream2(cctx, &ob, &ib, ZSTD_e_end);
			if (ZSTD_isError(r))
				ereport(ERROR,
						(errcode(ERRCODE_INTERNAL_ERROR),
						 errmsg("could not compress file \"%s\": %s",
								tmp, ZSTD_getErrorName(r))));
			COMP_CRC32C(crc, out, ob.pos);
			pitr_write_file(fd, tmp, out, ob.pos);
		} while (r != 0);
	}
	FIN_CRC32C(crc);
	*crc_out = crc;
	finish_temp(fd, tmp, st);
}

/* ---- the summary ---- */

/* Pages of the segment in memory and of its predecessor, if known. */
typedef struct MemPages
{
	int			segsize;
	XLogSegNo	segno;
	TimeLineID	tli;
	const char *data;
	const char *prev_data;		/* NULL when the predecessor is not known */
	TimeLineID	prev_tli;
} MemPages;

static bool
mem_get_page(void *arg, XLogRecPtr pageptr, char *dest, TimeLineID *tli)
{
	MemPages   *m = (MemPages *) arg;
	XLogSegNo	segno;
	uint32		off;

	XLByteToSeg(pageptr, segno, m->segsize);
	off = XLogSegmentOffset(pageptr, m->segsize);
	if (segno == m->segno)
	{
		memcpy(dest, m->data + off, XLOG_BLCKSZ);
		*tli = m->tli;
		return true;
	}
	if (m->prev_data && segno + 1 == m->segno)
	{
		memcpy(dest, m->prev_data + off, XLOG_BLCKSZ);
		*tli = m->prev_tli;
		return true;
	}
	return false;				/* the next segment is not archived yet */
}

static bool
same_file(const struct stat *st, const PrevSegment *p)
{
	return st->st_dev == p->dev && st->st_ino == p->ino &&
		st->st_size == p->size &&
		st->st_mtim.tv_sec == p->mtime.tv_sec &&
		st->st_mtim.tv_nsec == p->mtime.tv_nsec;
}

/*
 * Segment segno - 1 of timeline "tli" as the predecessor: 1 when usable
 * (prev_buf holds its bytes, *start its summary's next_lsn), 0 when the
 * file is there but its summary cannot be had, -1 when there is no file.
 */
static int
use_predecessor(const char *dir, TimeLineID tli, XLogSegNo segno,
				XLogRecPtr *start, char **prev_name)
{
	char		name[MAXFNAMELEN];
	XLogRecPtr	prevstart;

	XLogFileName(name, tli, segno - 1, wal_segment_size);
	XLogSegNoOffsetToRecPtr(segno - 1, 0, wal_segment_size, prevstart);

	for (int i = 0; i < 2; i++)
	{
		char	   *file = psprintf("%s%s", name, i == 0 ? "" : ".zst");
		char	   *path = psprintf("%s/%s", dir, file);
		char	   *scpath = psprintf("%s%s", path, PITR_SIDECAR_SUFFIX);
		struct stat st;
		PitrSidecar sc;
		char	   *buf;
		char	   *why = NULL;
		int64		len;
		PitrReadStatus status;
		int64		disk = 0;
		int64		got = 0;
		PitrFileReader *r;

		if (lstat(path, &st) != 0)
			continue;
		if (!S_ISREG(st.st_mode))
			return 0;			/* not something to read: no predecessor */

		/* The file archived just before, unchanged since: use it. */
		if (prev.valid && prev.tli == tli && prev.segno == segno - 1 &&
			strcmp(prev.path, path) == 0 && same_file(&st, &prev))
		{
			if (XLogRecPtrIsInvalid(prev.next_lsn))
				return 0;
			*start = prev.next_lsn;
			*prev_name = pstrdup(file);
			return 1;
		}

		/*
		 * Else read it back, if its own sidecar vouches for it.  The sidecar
		 * is read as the scanner reads it (regular file, non-blocking,
		 * bounded): a directory, a FIFO or anything else in its place means
		 * no predecessor, never a stalled or hung archiver.
		 */
		prev.valid = false;
		if (lstat(scpath, &st) != 0)
			return 0;
		r = pitr_file_reader_create();
		buf = pitr_read_small_file(r, scpath, PITR_COMPRESS_NONE,
								   PITR_SIDECAR_MAX_SIZE, &len, &disk,
								   &status, &why);
		if (buf == NULL)
		{
			ereport(LOG,
					(errmsg("not using the summary of \"%s\": %s", file, why)));
			return 0;
		}
		if (pitr_sidecar_parse(buf, len, &sc, &why) != PITR_SIDECAR_OK ||
			!pitr_sidecar_matches(&sc, path, PITR_SIDECAR_CHECK_CONTENT, &why))
		{
			ereport(LOG,
					(errmsg("not using the summary of \"%s\": %s", file, why)));
			return 0;
		}
		if (!sc.sum.complete || sc.sum.records == 0 || sc.sum.next_lsn < prevstart)
			return 0;
		if (pitr_read_file(r, path, i == 0 ? PITR_COMPRESS_NONE : PITR_COMPRESS_ZSTD,
						   prev_buf, wal_segment_size, true, &disk, &got,
						   &why) != PITR_READ_OK || got != wal_segment_size)
		{
			ereport(LOG,
					(errmsg("not using \"%s\" to decode records crossing into the next segment: %s",
							file, why ? why : "short file")));
			return 0;
		}
		*start = sc.sum.next_lsn;
		*prev_name = pstrdup(file);
		return 1;
	}
	return -1;
}


/* The parsed history of a timeline, from the archive (NIL if none). */
static List *
archived_history(const char *dir, TimeLineID tli)
{
	char		name[MAXFNAMELEN];
	char	   *path;
	struct stat st;
	char	   *buf;
	size_t		len;
	List	   *entries = NIL;
	char	   *err = NULL;

	if (tli <= 1)
		return NIL;
	TLHistoryFileName(name, tli);
	path = psprintf("%s/%s", dir, name);
	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > SMALL_FILE_MAX)
		return NIL;
	buf = palloc(st.st_size + 1);
	len = read_source(path, buf, st.st_size + 1);
	if (!pitr_parse_history(buf, len, tli, &entries, &err))
	{
		ereport(LOG,
				(errmsg("not using timeline history file \"%s\": %s", path, err)));
		return NIL;
	}
	return entries;
}

/*
 * The predecessor of segment (tli, segno), chosen as scan_archive chooses
 * it (segment_source.c): the segment of the timeline itself if it began
 * before, else of its ancestors, newest first, by the timeline's history
 * file in the archive.  True when the summary of our segment can start at
 * the predecessor's next_lsn with its pages in prev_buf.
 */
static bool
find_predecessor(const char *dir, TimeLineID tli, XLogSegNo segno,
				 XLogRecPtr *start, char **prev_name, TimeLineID *prev_tli)
{
	List	   *entries;
	XLogRecPtr	begin;
	XLogSegNo	beginseg;
	int			r;

	if (segno == 0)
		return false;
	entries = archived_history(dir, tli);
	begin = entries ? ((PitrHistoryEntry *) llast(entries))->switchpoint : 0;
	XLByteToSeg(begin, beginseg, wal_segment_size);
	if (segno - 1 >= beginseg)
	{
		r = use_predecessor(dir, tli, segno, start, prev_name);
		if (r >= 0)
		{
			*prev_tli = tli;
			return r == 1;
		}
	}
	for (int i = list_length(entries) - 1; i >= 0; i--)
	{
		PitrHistoryEntry *e = list_nth(entries, i);

		begin = i > 0 ? ((PitrHistoryEntry *) list_nth(entries, i - 1))->switchpoint : 0;
		XLByteToSeg(begin, beginseg, wal_segment_size);
		if (segno - 1 >= beginseg)
		{
			r = use_predecessor(dir, e->tli, segno, start, prev_name);
			if (r >= 0)
			{
				*prev_tli = e->tli;
				return r == 1;
			}
		}
	}
	return false;
}

/* ---- archiving ---- */

/*
 * If the file is already archived under one of its names, check it is the
 * same content: true if so (a retry after a crash, or a file archived
 * twice), ERROR if not.  *existing gets the name found.
 */
static bool
already_archived(const char *dir, const char *file, const char *data,
				 size_t len, bool is_segment, char **existing)
{
	for (int i = 0; i < (is_segment ? 2 : 1); i++)
	{
		char	   *name = psprintf("%s%s", file, i == 0 ? "" : ".zst");
		char	   *path = psprintf("%s/%s", dir, name);
		struct stat st;

		if (lstat(path, &st) != 0)
		{
			if (errno != ENOENT)
				ereport(ERROR,
						(errcode_for_file_access(),
						 errmsg("could not stat file \"%s\": %m", path)));
			continue;
		}
		if (S_ISREG(st.st_mode) && same_content(path, i == 1, data, len))
		{
			ereport(WARNING,
					(errmsg("archive file \"%s\" already exists with identical contents",
							path)));
			fsync_path(path, false);
			fsync_path(dir, true);
			*existing = name;
			return true;
		}
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_FILE),
				 errmsg("archive file \"%s\" already exists with different contents",
						path),
				 errhint("Nothing was overwritten; the archiver will retry. "
						 "Check that no other server archives into \"%s\".", dir)));
	}
	return false;
}

/* Write (or rewrite) the sidecar of an archived segment file. */
static void
write_sidecar(const char *dir, const char *archived, PitrSidecar *sc)
{
	char		tmp[MAXPGPATH];
	char	   *final = psprintf("%s/%s%s", dir, archived, PITR_SIDECAR_SUFFIX);
	StringInfoData buf;
	int			fd;

	initStringInfo(&buf);
	pitr_sidecar_format(sc, &buf);
	temp_name(tmp, dir, psprintf("%s%s", archived, PITR_SIDECAR_SUFFIX), 1);
	fd = pitr_open_file(tmp, TEMP_FILE_FLAGS);
	pitr_write_file(fd, tmp, buf.data, buf.len);
	finish_temp(fd, tmp, NULL);
	(void) durable_rename(tmp, final, ERROR);
	temp_paths[1][0] = '\0';
}

static void
fill_head(PitrSidecar *sc, const char *data)
{
	XLogLongPageHeader h = (XLogLongPageHeader) data;

	sc->magic = h->std.xlp_magic;
	sc->info = h->std.xlp_info;
	sc->sysid = h->xlp_sysid;
	sc->seg_size = h->xlp_seg_size;
	sc->blcksz = h->xlp_xlog_blcksz;
	sc->pageaddr = h->std.xlp_pageaddr;
}

static void
archive_segment(const char *dir, const char *file, const char *path,
				PitrArchiveFile *f)
{
	size_t		len = read_source(path, cur_buf, wal_segment_size);
	XLogSegNo	segno;
	PitrSidecar sc;
	MemPages	pages;
	char	   *existing = NULL;
	char	   *archived;
	char	   *final;
	char		tmp[MAXPGPATH];
	struct stat st;
	int			level = pitr_archive_compression_level;

	if (len != (size_t) wal_segment_size)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("WAL file \"%s\" holds %zu bytes, not a whole segment of %d bytes",
						path, len, wal_segment_size)));
	XLogFromFileName(file, &f->tli, &segno, wal_segment_size);

	/* The summary, from the bytes in memory. */
	memset(&sc, 0, sizeof(sc));
	sc.version = PITR_SIDECAR_VERSION;
	sc.segment_name = pstrdup(file);
	fill_head(&sc, cur_buf);
	memset(&pages, 0, sizeof(pages));
	pages.segsize = wal_segment_size;
	pages.segno = segno;
	pages.tli = f->tli;
	pages.data = cur_buf;
	if (find_predecessor(dir, f->tli, segno, &sc.start, &sc.prev_file,
						 &pages.prev_tli))
		pages.prev_data = prev_buf;
	pitr_summarize_segment(wal_segment_size, sc.sysid, mem_get_page, &pages,
						   segno, sc.start, &sc.sum);

	if (already_archived(dir, file, cur_buf, len, true, &existing))
	{
		char	   *epath = psprintf("%s/%s", dir, existing);
		char	   *why;

		/* Make sure its sidecar is there and right (a crash may have
		 * come between the two renames, or it predates the module). */
		if (lstat(epath, &st) != 0 ||
			!pitr_file_crc32c(epath, &sc.crc, &sc.file_size, &why))
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read archived file \"%s\"", epath)));
		sc.file_name = existing;
		sc.compression = pitr_compression_of_name(existing, NULL);
		sc.mtime_sec = st.st_mtim.tv_sec;
		sc.mtime_nsec = st.st_mtim.tv_nsec;
		write_sidecar(dir, existing, &sc);
		archived = existing;
	}
	else
	{
		archived = level > 0 ? psprintf("%s.zst", file) : pstrdup(file);
		final = psprintf("%s/%s", dir, archived);
		temp_name(tmp, dir, archived, 0);
		write_archive_temp(tmp, cur_buf, len, level, &sc.crc, &st);
		sc.file_name = archived;
		sc.compression = level > 0 ? PITR_COMPRESS_ZSTD : PITR_COMPRESS_NONE;
		sc.file_size = st.st_size;
		sc.mtime_sec = st.st_mtim.tv_sec;
		sc.mtime_nsec = st.st_mtim.tv_nsec;

		/* Sidecar first: it can only ever match this file's bytes. */
		write_sidecar(dir, archived, &sc);
		(void) durable_rename(tmp, final, ERROR);
		temp_paths[0][0] = '\0';
	}

	/* Keep this segment for its successor. */
	{
		char	   *apath = psprintf("%s/%s", dir, archived);
		char	   *swap;
		XLogRecPtr	segstart;

		prev.valid = false;
		XLogSegNoOffsetToRecPtr(segno, 0, wal_segment_size, segstart);
		if (f->kind == PITR_FILE_SEGMENT && lstat(apath, &st) == 0)
		{
			swap = prev_buf;
			prev_buf = cur_buf;
			cur_buf = swap;
			prev.tli = f->tli;
			prev.segno = segno;
			strlcpy(prev.path, apath, MAXPGPATH);
			strlcpy(prev.name, archived, MAXPGPATH);
			prev.dev = st.st_dev;
			prev.ino = st.st_ino;
			prev.size = st.st_size;
			prev.mtime = st.st_mtim;
			prev.next_lsn = (sc.sum.complete && sc.sum.records > 0 &&
							 sc.sum.next_lsn >= segstart) ?
				sc.sum.next_lsn : InvalidXLogRecPtr;
			prev.valid = true;
		}
	}
}

/* History, backup history and anything else: copied plain. */
static void
archive_small(const char *dir, const char *file, const char *path)
{
	char	   *data = palloc(SMALL_FILE_MAX);
	size_t		len = read_source(path, data, SMALL_FILE_MAX);
	char	   *existing;
	char		tmp[MAXPGPATH];
	uint32		crc;

	if (already_archived(dir, file, data, len, false, &existing))
		return;
	temp_name(tmp, dir, file, 0);
	write_archive_temp(tmp, data, len, 0, &crc, NULL);
	(void) durable_rename(tmp, psprintf("%s/%s", dir, file), ERROR);
	temp_paths[0][0] = '\0';
}

static void
archive_one(const char *file, const char *path)
{
	PitrArchiveFile f;
	char	   *dir;

	if (pitr_archive_dir == NULL || pitr_archive_dir[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("\"pitr_restore.archive_dir\" is not set")));
	dir = pstrdup(pitr_archive_dir);
	canonicalize_path(dir);

	if (cur_buf == NULL)
	{
		cur_buf = MemoryContextAlloc(module_cxt, wal_segment_size);
		prev_buf = MemoryContextAlloc(module_cxt, wal_segment_size);
	}

	if (pitr_classify_file_name(file, &f) &&
		(f.kind == PITR_FILE_SEGMENT || f.kind == PITR_FILE_PARTIAL) &&
		f.compression == PITR_COMPRESS_NONE)
		archive_segment(dir, file, path, &f);
	else
		archive_small(dir, file, path);
}

static void
remove_temps(void)
{
	for (int i = 0; i < 2; i++)
	{
		if (temp_paths[i][0] != '\0')
			(void) unlink(temp_paths[i]);
		temp_paths[i][0] = '\0';
	}
}

/*
 * The archive callback: ERRORs are caught here, the way basic_archive
 * does, so that a failure is reported and retried, never a restart loop.
 * The archiver's own handler (16 and later have one) is put back after.
 */
bool
pitr_archive_file(const char *file, const char *path)
{
	sigjmp_buf	local_sigjmp_buf;
	sigjmp_buf *save_exception_stack = PG_exception_stack;
	ErrorContextCallback *save_context_stack = error_context_stack;
	MemoryContext oldcontext;

	oldcontext = MemoryContextSwitchTo(file_cxt);

	if (sigsetjmp(local_sigjmp_buf, 1) != 0)
	{
		/* Since not using PG_TRY, must reset error stack by hand */
		error_context_stack = save_context_stack;
		HOLD_INTERRUPTS();
		EmitErrorReport();
		FlushErrorState();

		/* Close files left open, drop half-written temporaries. */
		AtEOSubXact_Files(false, InvalidSubTransactionId, InvalidSubTransactionId);
		remove_temps();
		prev.valid = false;

		MemoryContextSwitchTo(oldcontext);
		MemoryContextReset(file_cxt);
		PG_exception_stack = save_exception_stack;
		RESUME_INTERRUPTS();
		return false;
	}
	PG_exception_stack = &local_sigjmp_buf;

	archive_one(file, path);

	PG_exception_stack = save_exception_stack;
	MemoryContextSwitchTo(oldcontext);
	MemoryContextReset(file_cxt);
	return true;
}

bool
pitr_archive_configured(void)
{
	return pitr_archive_dir != NULL && pitr_archive_dir[0] != '\0';
}

/* Called once when the archiver loads the module. */
void
pitr_archive_startup(void)
{
	if (module_cxt == NULL)
	{
		module_cxt = AllocSetContextCreate(TopMemoryContext,
										   "pitr_restore archive module",
										   ALLOCSET_DEFAULT_SIZES);
		file_cxt = AllocSetContextCreate(module_cxt,
										 "pitr_restore archived file",
										 ALLOCSET_DEFAULT_SIZES);
	}
}
