/*-------------------------------------------------------------------------
 *
 * segment_source.c
 *	  Whole WAL segments out of an archive directory.
 *
 * Segments are looked up the way recovery does it (XLogFileReadAnyTLI):
 * along the history of the followed timeline, newest timeline first,
 * skipping timelines that begin after the segment.  Plain files are read a
 * page at a time straight into the reader's buffer.  Decompressed segments
 * are kept in two buffers, enough for a walk that reads the tail of one
 * segment and the head of the next without decompressing anything twice,
 * and little enough to keep memory flat whatever the archive's size.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <unistd.h>

#include "access/xlog_internal.h"
#include "storage/fd.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "history.h"
#include "segment_source.h"
#include "source/archive_source.h"
#include "util/local_hash.h"

#define PITR_CACHE_SLOTS 2

typedef struct SegKey
{
	TimeLineID	tli;
	XLogSegNo	segno;
} SegKey;

typedef struct SegEntry
{
	SegKey		key;
	PitrArchiveFile *file;
} SegEntry;

/* A stored file of a backup tool's archive, by PostgreSQL's name. */
typedef struct StoredEntry
{
	char		name[MAXFNAMELEN];
	PitrSourceFile *sf;
} StoredEntry;

typedef struct HistEntry
{
	TimeLineID	tli;
	List	   *entries;		/* PitrHistoryEntry *, oldest first */
} HistEntry;

typedef struct CacheSlot
{
	PitrArchiveFile *file;
	char	   *buf;
	uint64		used;
} CacheSlot;

struct PitrSegmentSource
{
	char	   *dir;
	PitrArchiveSource *archive; /* a backup tool's archive, or NULL */
	HTAB	   *stored;			/* name -> StoredEntry, with archive */
	int			segsize;
	MemoryContext cxt;			/* where the buffers live */
	HTAB	   *files;
	HTAB	   *histories;
	TimeLineID	follow;
	PitrArchiveFile *pinned;
	XLogSegNo	pinned_segno;
	PitrFileReader *reader;
	CacheSlot	slots[PITR_CACHE_SLOTS];
	PitrArchiveFile *open_file;	/* the plain file open in open_fd */
	int			open_fd;
	uint64		clock;
	int64		bytes_read;
};

PitrSegmentSource *
pitr_segsrc_create(const char *dir, int segsize)
{
	PitrSegmentSource *src = palloc0(sizeof(PitrSegmentSource));

	src->dir = pstrdup(dir);
	src->segsize = segsize;
	src->cxt = CurrentMemoryContext;

	src->files = pitr_hash_create("pitr_restore segments", 1024,
			sizeof(SegKey), sizeof(SegEntry),
			false, CurrentMemoryContext);

	src->histories = pitr_hash_create("pitr_restore histories", 16,
			sizeof(TimeLineID), sizeof(HistEntry),
			false, CurrentMemoryContext);

	src->reader = pitr_file_reader_create();
	src->open_fd = -1;
	return src;
}

static int
fetch_rank(PitrCompression c)
{
	for (int i = 0; i < PITR_NUM_COMPRESSIONS; i++)
		if (pitr_fetch_order[i].c == c)
			return i;
	return PITR_NUM_COMPRESSIONS;
}

static PitrArchiveFile *lookup(PitrSegmentSource *src, TimeLineID tli,
							   XLogSegNo segno);

void
pitr_segsrc_use_source(PitrSegmentSource *src, PitrArchiveSource *archive,
					   List *files)
{
	ListCell   *lc;

	src->archive = archive;
	src->stored = pitr_hash_create("pitr_restore stored files", 1024,
			MAXFNAMELEN, sizeof(StoredEntry),
			true, src->cxt);
	foreach(lc, files)
	{
		PitrSourceFile *sf = lfirst(lc);
		StoredEntry *e;
		bool		found;

		if (strlen(sf->f.name) >= MAXFNAMELEN)
			continue;
		e = hash_search(src->stored, sf->f.name, HASH_ENTER, &found);
		if (!found)
			e->sf = sf;			/* the first listed copy serves */
	}
}

/*
 * Where a file of a backup tool's archive is stored; NULL for a flat
 * archive.  ERROR if the tool's archive no longer lists it.
 */
static PitrSourceFile *
stored_file(PitrSegmentSource *src, PitrArchiveFile *f)
{
	StoredEntry *e;

	if (src->archive == NULL)
		return NULL;
	e = strlen(f->name) < MAXFNAMELEN ?
		hash_search(src->stored, f->name, HASH_FIND, NULL) : NULL;
	if (e == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("WAL archive \"%s\" no longer holds file \"%s\"",
						src->archive->location, f->name),
				 errhint("Run pitr_restore.scan_archive() to bring the index up to date.")));
	return e->sf;
}

/*
 * Read a file whole or its head (pitr_read_file's contract), from the
 * directory or through the tool's archive source.
 */
static PitrReadStatus
read_any(PitrSegmentSource *src, PitrArchiveFile *f, char *buf, int64 want,
		 bool exact, int64 *got, char **err)
{
	PitrSourceFile *sf = stored_file(src, f);
	char		path[MAXPGPATH];

	if (sf != NULL)
	{
		*got = pitr_source_read(src->archive, src->reader, sf, buf, want,
								exact, &src->bytes_read, err);
		return *got < 0 ? PITR_READ_UNREADABLE : PITR_READ_OK;
	}
	snprintf(path, sizeof(path), "%s/%s", src->dir, f->name);
	return pitr_read_file(src->reader, path, f->compression, buf, want, exact,
						  &src->bytes_read, got, err);
}

/* Can a page of this file be read in place? */
static bool
read_in_place(PitrSegmentSource *src, PitrArchiveFile *f)
{
	PitrSourceFile *sf = stored_file(src, f);

	if (sf != NULL)
		return sf->f.compression == PITR_COMPRESS_NONE &&
			!src->archive->through_binary;
	return f->compression == PITR_COMPRESS_NONE;
}

void
pitr_segsrc_add(PitrSegmentSource *src, PitrArchiveFile *f)
{
	SegKey		key;
	SegEntry   *e;
	bool		found;

	Assert(f->kind == PITR_FILE_SEGMENT);
	memset(&key, 0, sizeof(key));
	key.tli = f->tli;
	key.segno = pitr_file_segno(f, src->segsize);
	e = hash_search(src->files, &key, HASH_ENTER, &found);

	/*
	 * Several copies of one segment ("X", "X.zst" ...): the one recovery's
	 * restore_command fetches is the first in pitr_fetch_order.
	 */
	if (!found || fetch_rank(f->compression) < fetch_rank(e->file->compression))
		e->file = f;
}

bool
pitr_segsrc_is_fetched(PitrSegmentSource *src, PitrArchiveFile *f)
{
	return lookup(src, f->tli, pitr_file_segno(f, src->segsize)) == f;
}

void
pitr_segsrc_set_history(PitrSegmentSource *src, TimeLineID tli, List *entries)
{
	HistEntry  *h = hash_search(src->histories, &tli, HASH_ENTER, NULL);

	h->entries = entries;
}

void
pitr_segsrc_follow(PitrSegmentSource *src, TimeLineID tli)
{
	src->follow = tli;
}

void
pitr_segsrc_pin(PitrSegmentSource *src, PitrArchiveFile *f)
{
	src->pinned = f;
	if (f)
		src->pinned_segno = pitr_file_segno(f, src->segsize);
}

static PitrArchiveFile *
lookup(PitrSegmentSource *src, TimeLineID tli, XLogSegNo segno)
{
	SegKey		key;
	SegEntry   *e;

	memset(&key, 0, sizeof(key));
	key.tli = tli;
	key.segno = segno;
	e = hash_search(src->files, &key, HASH_FIND, NULL);
	return e ? e->file : NULL;
}

PitrArchiveFile *
pitr_segsrc_find(PitrSegmentSource *src, TimeLineID tli, XLogSegNo segno)
{
	HistEntry  *h = hash_search(src->histories, &tli, HASH_FIND, NULL);
	List	   *entries = h ? h->entries : NIL;
	XLogRecPtr	begin;
	XLogSegNo	beginseg;

	/* The followed timeline itself begins at its last switchpoint. */
	begin = entries ? ((PitrHistoryEntry *) llast(entries))->switchpoint : 0;
	XLByteToSeg(begin, beginseg, src->segsize);
	if (segno >= beginseg)
	{
		PitrArchiveFile *f = lookup(src, tli, segno);

		if (f)
			return f;
	}

	/* Then its ancestors, newest first. */
	for (int i = list_length(entries) - 1; i >= 0; i--)
	{
		PitrHistoryEntry *e = list_nth(entries, i);

		begin = i > 0 ? ((PitrHistoryEntry *) list_nth(entries, i - 1))->switchpoint : 0;
		XLByteToSeg(begin, beginseg, src->segsize);
		if (segno >= beginseg)
		{
			PitrArchiveFile *f = lookup(src, e->tli, segno);

			if (f)
				return f;
		}
	}
	return NULL;
}

static const char *
load(PitrSegmentSource *src, PitrArchiveFile *f, PitrReadStatus *status,
	 char **err)
{
	CacheSlot  *slot = NULL;
	int64		got;

	*err = NULL;
	*status = PITR_READ_OK;
	for (int i = 0; i < PITR_CACHE_SLOTS; i++)
	{
		if (src->slots[i].file == f)
		{
			src->slots[i].used = ++src->clock;
			return src->slots[i].buf;
		}
		if (slot == NULL || src->slots[i].used < slot->used)
			slot = &src->slots[i];
	}

	if (slot->buf == NULL)
		slot->buf = MemoryContextAllocHuge(src->cxt, src->segsize);
	slot->file = NULL;
	*status = read_any(src, f, slot->buf, src->segsize, true, &got, err);
	if (*status != PITR_READ_OK)
		return NULL;
	if (got != src->segsize)
	{
		*status = PITR_READ_TRUNCATED;
		*err = psprintf("file holds %lld bytes, not a whole segment of %d bytes",
						(long long) got, src->segsize);
		return NULL;
	}
	slot->file = f;
	slot->used = ++src->clock;
	return slot->buf;
}

const char *
pitr_segsrc_load(PitrSegmentSource *src, PitrArchiveFile *f, char **err)
{
	PitrReadStatus status;

	return load(src, f, &status, err);
}

static bool
read_plain_page(PitrSegmentSource *src, PitrArchiveFile *f, XLogRecPtr pageptr,
				char *dest, char **err)
{
	off_t		off = XLogSegmentOffset(pageptr, src->segsize);
	ssize_t		n;

	if (src->open_file != f)
	{
		char		path[MAXPGPATH];

		if (src->open_fd >= 0)
			CloseTransientFile(src->open_fd);
		src->open_file = NULL;
		if (src->archive)
			strlcpy(path, stored_file(src, f)->path, sizeof(path));
		else
			snprintf(path, sizeof(path), "%s/%s", src->dir, f->name);
		src->open_fd = pitr_open_regular(path, err);
		if (src->open_fd < 0)
		{
			src->open_fd = -1;
			return false;
		}
		src->open_file = f;
	}
	n = pg_pread(src->open_fd, dest, XLOG_BLCKSZ, off);
	if (n != XLOG_BLCKSZ)
	{
		*err = n < 0 ? psprintf("could not read file: %m") :
			psprintf("file ends at offset %lld, inside a segment", (long long) (off + Max(n, 0)));
		return false;
	}
	src->bytes_read += n;
	return true;
}

bool
pitr_segsrc_read_page(PitrSegmentSource *src, PitrArchiveFile *f,
					  XLogRecPtr pageptr, char *dest, char **err)
{
	const char *buf;

	*err = NULL;
	if (read_in_place(src, f))
		return read_plain_page(src, f, pageptr, dest, err);
	buf = pitr_segsrc_load(src, f, err);
	if (buf == NULL)
		return false;
	memcpy(dest, buf + XLogSegmentOffset(pageptr, src->segsize), XLOG_BLCKSZ);
	return true;
}

bool
pitr_segsrc_get_page(PitrSegmentSource *src, PitrArchiveFile *f,
					 XLogRecPtr pageptr, char *dest, TimeLineID *tli)
{
	char	   *err;

	if (f == NULL || !pitr_segsrc_read_page(src, f, pageptr, dest, &err))
		return false;
	*tli = f->tli;
	return true;
}

bool
pitr_segsrc_get(void *arg, XLogRecPtr pageptr, char *dest, TimeLineID *tli)
{
	PitrSegmentSource *src = (PitrSegmentSource *) arg;
	PitrArchiveFile *f;
	XLogSegNo	segno;

	XLByteToSeg(pageptr, segno, src->segsize);
	if (src->pinned && segno == src->pinned_segno)
		f = src->pinned;
	else
		f = pitr_segsrc_find(src, src->follow, segno);
	return pitr_segsrc_get_page(src, f, pageptr, dest, tli);
}

PitrReadStatus
pitr_segsrc_check(PitrSegmentSource *src, PitrArchiveFile *f, char **err)
{
	PitrReadStatus status;

	*err = NULL;
	if (!read_in_place(src, f))
	{
		(void) load(src, f, &status, err);
		return status;
	}
	if (f->size != src->segsize)
	{
		*err = psprintf("file holds %lld bytes, not a whole segment of %d bytes",
						(long long) f->size, src->segsize);
		return f->size < src->segsize ? PITR_READ_TRUNCATED : PITR_READ_TOO_LARGE;
	}
	return PITR_READ_OK;
}

void
pitr_segsrc_close(PitrSegmentSource *src)
{
	if (src->open_fd >= 0)
		CloseTransientFile(src->open_fd);
	src->open_fd = -1;
	src->open_file = NULL;
}

int64
pitr_segsrc_bytes_read(PitrSegmentSource *src)
{
	return src->bytes_read;
}

PitrReadStatus
pitr_segsrc_read_head(PitrSegmentSource *src, PitrArchiveFile *f, char *page,
					  char **err)
{
	int64		got;
	PitrReadStatus status;

	status = read_any(src, f, page, XLOG_BLCKSZ, false, &got, err);
	if (status != PITR_READ_OK)
		return status;
	if (got < XLOG_BLCKSZ)
	{
		*err = psprintf("file holds only %lld bytes", (long long) got);
		return PITR_READ_TRUNCATED;
	}
	return PITR_READ_OK;
}
