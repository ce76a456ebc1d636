/*-------------------------------------------------------------------------
 *
 * archive_scan.c
 *	  scan_archive() and refresh_archive(): bring the archive index up to
 *	  date with an archive directory and pitr_restore.backup_dir.
 *
 * The archive is named by its canonical real path, so every alias of a
 * directory shares one index.  Refresh is incremental: a file whose name,
 * size and mtime are what the index recorded is not read again, unless it
 * was unreadable last time (a permission or I/O problem may have passed);
 * a changed file is read again; a vanished one is dropped (its events,
 * histories and backup rows go with it, by foreign key).  Scans of one
 * archive are serialised by a transaction-level advisory lock on its path.
 *
 * A segment with an archive-module sidecar (<file>.pitrsum) that parses,
 * matches the file's name, size and mtime and was made from the scan's own
 * predecessor is stored from the sidecar, its WAL not read; any other
 * sidecar is ignored with a NOTICE.  The other segments are summarised by
 * background workers (scan_workers.c) when pitr_restore.scan_workers
 * allows, else here; either way they are stored here, in WAL order.
 *
 * What is read is classified by the format layer (archive_files.c,
 * segment_head.c, walscan.c, history.c, sidecar.c); what is stored goes
 * through index_store.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "access/xlog.h"
#include "access/xlog_internal.h"
#include "common/md5.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "archive_files.h"
#include "archive_index.h"
#include "backup.h"
#include "backup_dir.h"
#include "history.h"
#include "index_store.h"
#include "util/privilege.h"
#include "segment_head.h"
#include "segment_relations.h"
#include "scan_workers.h"
#include "segment_source.h"
#include "sidecar.h"
#include "source/archive_source.h"
#include "util/gucs.h"
#include "walscan.h"
#include "util/dir_reader.h"
#include "util/local_hash.h"

PG_FUNCTION_INFO_V1(pitr_scan_archive);
PG_FUNCTION_INFO_V1(pitr_archive_path);
PG_FUNCTION_INFO_V1(pitr_refresh_archive_sql);

/* NOTICE progress every so many bytes read. */
#define PROGRESS_BYTES (256 * 1024 * 1024)

/* Largest history or backup history file we accept. */
#define SMALL_FILE_MAX (1024 * 1024)

/* A segment file to read, with its first page once read. */
typedef struct SegmentToScan
{
	PitrArchiveFile *file;
	PitrReadStatus read;		/* reading the first page */
	char	   *error;
	PitrSegmentHead head;
	PitrSidecar *sidecar;		/* a sidecar matching the file, or NULL */
	bool		from_worker;	/* the sidecar is a scan worker's summary */
	bool		acceptable;		/* its head is one of the archive's */
	bool		rewritten;		/* changed in place, size and mtime kept */
} SegmentToScan;

typedef struct ArchiveScan
{
	PitrStore	store;
	PitrArchiveSource *archive; /* a backup tool's archive, or NULL */
	List	   *stored;			/* its PitrSourceFile list */
	HTAB	   *known;
	PitrSegmentSource *src;
	PitrFileReader *reader;
	int64		bytes_read;
	int64		next_progress;
	int64		segments_scanned;
} ArchiveScan;

char *
pitr_canonical_archive(const char *dir)
{
	char		real[PATH_MAX];
	struct stat st;

	/* The keyword form of a pgBackRest stanza names itself. */
	if (strncmp(dir, "pgbackrest:", 11) == 0)
		return pitr_source_canonical_location(dir);
	if (realpath(dir, real) == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open WAL archive directory \"%s\": %m", dir)));
	if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("WAL archive \"%s\" is not a directory", dir)));
	return pstrdup(real);
}

void
pitr_stat_stamp(const struct stat *st, char *out)
{
	snprintf(out, PITR_STAMP_LEN, "%lld.%09ld %lld.%09ld %llu",
			 (long long) st->st_mtim.tv_sec, (long) st->st_mtim.tv_nsec,
			 (long long) st->st_ctim.tv_sec, (long) st->st_ctim.tv_nsec,
			 (unsigned long long) st->st_ino);
}

bool
pitr_file_stamp(const char *dir, const char *name, char *out)
{
	char		path[MAXPGPATH];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (lstat(path, &st) != 0)
	{
		out[0] = '\0';
		return false;
	}
	pitr_stat_stamp(&st, out);
	return true;
}

static void
progress(ArchiveScan *st)
{
	int64		total = st->bytes_read + pitr_segsrc_bytes_read(st->src);

	if (total >= st->next_progress)
	{
		ereport(NOTICE,
				(errmsg("scanning WAL archive \"%s\": %lld MB read, %lld segments scanned",
						st->store.dir, (long long) (total / (1024 * 1024)),
						(long long) st->segments_scanned)));
		st->next_progress = total + PROGRESS_BYTES;
	}
}

static void
insert_row(ArchiveScan *st, PitrArchiveFile *f, const char *status,
		   const char *detail, const PitrSegmentHead *head,
		   const PitrSegmentSummary *sum)
{
	PitrFileRow row;

	row.file = f;
	row.stamp = NULL;
	if (st->archive == NULL)
	{
		PitrKnownFile *k = hash_search(st->known, f->name, HASH_FIND, NULL);

		if (k != NULL && k->stamp[0] != '\0')
			row.stamp = k->stamp;
	}
	row.status = status;
	row.detail = detail;
	row.head = head;
	row.sum = sum;
	pitr_store_insert_file(&st->store, &row);
}

/* A file that could not be read: say so, naming the file. */
static void
insert_unread(ArchiveScan *st, PitrArchiveFile *f, PitrReadStatus status,
			  const char *what, const char *msg)
{
	insert_row(st, f, pitr_read_status_name(status),
			   psprintf("could not read %s \"%s\": %s", what, f->name, msg),
			   NULL, NULL);
}

static char *
read_small(ArchiveScan *st, PitrArchiveFile *f, const char *what, int64 *len)
{
	char		path[MAXPGPATH];
	char	   *msg;
	PitrReadStatus status;
	char	   *buf;

	if (st->archive != NULL)
	{
		/* A backup tool's archive file: read it where the tool put it. */
		buf = palloc(SMALL_FILE_MAX + 1);
		*len = pitr_source_read(st->archive, st->reader, (PitrSourceFile *) f,
								buf, SMALL_FILE_MAX, true, &st->bytes_read,
								&msg);
		status = *len < 0 ? PITR_READ_UNREADABLE : PITR_READ_OK;
		if (*len < 0)
			buf = NULL;
		else
			buf[*len] = '\0';
	}
	else
	{
		snprintf(path, sizeof(path), "%s/%s", st->store.dir, f->name);
		buf = pitr_read_small_file(st->reader, path, f->compression,
								   SMALL_FILE_MAX, len, &st->bytes_read,
								   &status, &msg);
	}
	if (buf == NULL)
		insert_unread(st, f, status, what, msg);
	return buf;
}

/*
 * A timeline history or backup history file: read whole and parsed, then
 * indexed; recorded "corrupt", with the parser's reason, if it does not
 * parse.
 */
static void
index_small_file(ArchiveScan *st, PitrArchiveFile *f)
{
	bool		history = (f->kind == PITR_FILE_HISTORY);
	const char *what = history ? "timeline history file" : "backup history file";
	int64		len;
	char	   *err;
	char	   *buf = read_small(st, f, what, &len);
	List	   *entries = NIL;
	PitrBackup *b = palloc0(sizeof(PitrBackup));
	bool		ok;

	if (buf == NULL)
		return;
	ok = history ? pitr_parse_history(buf, len, f->tli, &entries, &err) :
		pitr_parse_backup_label(buf, len, b, &err);
	if (!ok)
	{
		insert_row(st, f, "corrupt",
				   psprintf("%s \"%s\" is invalid: %s", what, f->name, err),
				   NULL, NULL);
		return;
	}
	insert_row(st, f, "ok", NULL, NULL, NULL);
	if (history)
		pitr_store_insert_history(&st->store, f, entries);
	else
		pitr_store_insert_backup_history(&st->store, f, b);
}

static void
ignore_sidecar(const char *path, const char *why)
{
	ereport(NOTICE,
			(errmsg("ignoring sidecar \"%s\"", path),
			 errdetail("%s", why),
			 errhint("The segment is read instead.")));
}

/*
 * The archive module's sidecar of a segment file, when there is one that
 * parses and describes exactly this file (name, size, mtime, version):
 * then its head stands for the file's first page, which is not read.
 * Whether its predecessor is the scan's own is settled in scan_segment.
 */
static bool
read_sidecar(ArchiveScan *st, SegmentToScan *s)
{
	char		path[MAXPGPATH];
	char		scpath[MAXPGPATH];
	struct stat stb;
	PitrSidecar *sc;
	PitrReadStatus status;
	char	   *buf;
	char	   *why;
	int64		len;

	if (!s->file->regular)
		return false;
	snprintf(path, sizeof(path), "%s/%s", st->store.dir, s->file->name);
	snprintf(scpath, sizeof(scpath), "%s%s", path, PITR_SIDECAR_SUFFIX);
	if (lstat(scpath, &stb) != 0 && errno == ENOENT)
		return false;			/* archive_command's archives have none */

	buf = pitr_read_small_file(st->reader, scpath, PITR_COMPRESS_NONE,
							   PITR_SIDECAR_MAX_SIZE, &len, &st->bytes_read,
							   &status, &why);
	if (buf == NULL)
	{
		ignore_sidecar(scpath, psprintf("It could not be read: %s.", why));
		return false;
	}
	sc = palloc0(sizeof(PitrSidecar));
	if (pitr_sidecar_parse(buf, len, sc, &why) != PITR_SIDECAR_OK ||
		!pitr_sidecar_matches(sc, path, PITR_SIDECAR_CHECK_STAT, &why))
	{
		ignore_sidecar(scpath, psprintf("It does not describe its file: %s.", why));
		pfree(buf);
		return false;
	}
	pfree(buf);
	s->sidecar = sc;
	s->read = PITR_READ_OK;
	s->head.magic = sc->magic;
	s->head.info = sc->info;
	s->head.sysid = sc->sysid;
	s->head.seg_size = sc->seg_size;
	s->head.blcksz = sc->blcksz;
	s->head.pageaddr = sc->pageaddr;
	return true;
}

/* Read and decode the first page of a segment file. */
static void
read_head(ArchiveScan *st, SegmentToScan *s)
{
	char		page[XLOG_BLCKSZ];

	/*
	 * A file rewritten in place with its size and mtime put back still
	 * matches its sidecar by stat: the sidecar says nothing of what it
	 * holds now.
	 */
	if (s->rewritten)
		ignore_sidecar(psprintf("%s/%s%s", st->store.dir, s->file->name,
								PITR_SIDECAR_SUFFIX),
					   "Its segment was rewritten in place since it was indexed, its size and mtime kept.");
	else if (read_sidecar(st, s))
		return;
	s->read = pitr_segsrc_read_head(st->src, s->file, page, &s->error);
	if (s->read == PITR_READ_OK)
		pitr_decode_head(page, &s->head);
}

/*
 * Settle which database system and segment size the archive holds.  Once
 * settled it stays; the first time, the running server's own system wins
 * if any segment is of it, else the system most segments are of.
 */
static void
settle_identity(ArchiveScan *st, SegmentToScan *segs, int nsegs)
{
	uint64		best = 0;
	int			best_count = 0;
	bool		own = false;
	uint32		size = 0;

	if (st->store.sysid != 0 && st->store.segsize != 0)
		return;

	/*
	 * The repository may say whose WAL it holds (pgBackRest's
	 * archive.info): then segments of other systems are foreign.
	 */
	if (st->archive != NULL && st->archive->system_identifier != 0)
	{
		for (int i = 0; i < nsegs; i++)
			if (segs[i].read == PITR_READ_OK && pitr_head_is_wal(&segs[i].head) &&
				segs[i].head.sysid == st->archive->system_identifier)
			{
				pitr_store_set_identity(&st->store, segs[i].head.sysid,
										segs[i].head.seg_size);
				return;
			}
		return;
	}

	for (int i = 0; i < nsegs; i++)
	{
		int			count = 0;

		if (segs[i].read != PITR_READ_OK || !pitr_head_is_wal(&segs[i].head))
			continue;
		if (segs[i].head.sysid == GetSystemIdentifier())
			own = true;
		for (int j = 0; j < nsegs; j++)
			if (segs[j].read == PITR_READ_OK && pitr_head_is_wal(&segs[j].head) &&
				segs[j].head.sysid == segs[i].head.sysid)
				count++;
		if (count > best_count)
		{
			best = segs[i].head.sysid;
			best_count = count;
		}
		/* Bounded work: the majority is clear well before the end. */
		if (i > 64)
			break;
	}
	if (own)
		best = GetSystemIdentifier();
	if (best == 0)
		return;

	for (int i = 0; i < nsegs; i++)
		if (segs[i].read == PITR_READ_OK && pitr_head_is_wal(&segs[i].head) &&
			segs[i].head.sysid == best)
		{
			size = segs[i].head.seg_size;
			break;
		}
	pitr_store_set_identity(&st->store, best, size);
}

static int
seg_cmp(const void *a, const void *b)
{
	const PitrArchiveFile *x = ((const SegmentToScan *) a)->file;
	const PitrArchiveFile *y = ((const SegmentToScan *) b)->file;

	/* In WAL order, so each segment's predecessor is indexed before it. */
	if (x->log != y->log)
		return x->log < y->log ? -1 : 1;
	if (x->seg != y->seg)
		return x->seg < y->seg ? -1 : 1;
	if (x->tli != y->tli)
		return x->tli < y->tli ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Is the head one of the archive's segments?  If not, record the file. */
static bool
head_acceptable(ArchiveScan *st, SegmentToScan *s)
{
	PitrHeadStatus hs;
	char	   *detail;

	if (s->read != PITR_READ_OK)
	{
		insert_unread(st, s->file, s->read, "segment", s->error);
		return false;
	}
	hs = pitr_classify_head(&s->head, s->file, st->store.sysid,
							st->store.segsize, &detail);
	if (hs != PITR_HEAD_OK)
	{
		insert_row(st, s->file, pitr_head_status_name(hs), detail, &s->head, NULL);
		return false;
	}
	return true;
}

/*
 * Was the sidecar made from the predecessor the scan uses, ending where
 * the scan says?  Only then is its summary the one the scan would make.
 */
static bool
sidecar_predecessor_is(const PitrSidecar *sc, PitrArchiveFile *prev,
					   XLogRecPtr start, char **why)
{
	/* Without its link (format 1) its chain cannot be checked. */
	if (!sc->sum.has_link && sc->sum.records > 0)
	{
		*why = psprintf("The summary (format version %d) does not record its link to the predecessor.",
						sc->version);
		return false;
	}
	if (sc->prev_file == NULL && XLogRecPtrIsInvalid(start))
		return true;
	if (sc->prev_file && prev && strcmp(sc->prev_file, prev->name) == 0 &&
		sc->start == start)
		return true;
	*why = psprintf("The summary was made after \"%s\" ending at %X/%X; the scan's predecessor is \"%s\" ending at %X/%X.",
					sc->prev_file ? sc->prev_file : "no segment",
					LSN_FORMAT_ARGS(sc->start),
					prev ? prev->name : "no segment", LSN_FORMAT_ARGS(start));
	return false;
}

/*
 * Does the segment's first record link back to its predecessor's last one
 * (xl_prev), as recovery checks when it reads on?  A segment of a diverged
 * copy of the database or of an earlier run has the same name but does
 * not: the WAL breaks there.  Unknown links (no predecessor, one indexed
 * before 1.2) pass.
 */
static bool
chains_to(PitrArchiveFile *f, const PitrSegmentSummary *sum,
		  PitrArchiveFile *prev, PitrKnownFile *pk, XLogRecPtr start,
		  char **detail)
{
	if (prev == NULL || pk == NULL || XLogRecPtrIsInvalid(start) ||
		XLogRecPtrIsInvalid(pk->last_lsn) || !sum->has_link ||
		sum->records == 0 || sum->first_lsn < start ||
		sum->first_prev == pk->last_lsn)
		return true;
	*detail = psprintf("segment \"%s\" does not follow \"%s\": its first record at %X/%X links back to %X/%X, but the last record of \"%s\" begins at %X/%X (a segment of another copy of this database, or of an earlier run): the WAL breaks there",
					   f->name, prev->name, LSN_FORMAT_ARGS(sum->first_lsn),
					   LSN_FORMAT_ARGS(sum->first_prev), prev->name,
					   LSN_FORMAT_ARGS(pk->last_lsn));
	return false;
}

static void
scan_segment(ArchiveScan *st, SegmentToScan *s, MemoryContext filecxt)
{
	PitrArchiveFile *f = s->file;
	int			segsize = st->store.segsize;
	const char *status;
	char	   *detail = NULL;
	PitrSegmentSummary sum;
	XLogSegNo	segno;
	PitrArchiveFile *prev;
	XLogRecPtr	start = InvalidXLogRecPtr;
	PitrKnownFile *k;
	PitrKnownFile *pk = NULL;
	PitrReadStatus rs;
	ListCell   *lc;
	MemoryContext old;
	bool		linked;

	if (!s->acceptable)
		return;

	segno = pitr_file_segno(f, segsize);

	/* Start at the end of the predecessor's last record, when known. */
	prev = segno > 0 ? pitr_segsrc_find(st->src, f->tli, segno - 1) : NULL;
	if (prev)
	{
		XLogRecPtr	prevstart;

		pk = hash_search(st->known, prev->name, HASH_FIND, NULL);

		XLogSegNoOffsetToRecPtr(segno - 1, 0, segsize, prevstart);
		if (pk && pk->complete && pk->next_lsn >= prevstart)
			start = pk->next_lsn;
	}

	if (s->sidecar && !sidecar_predecessor_is(s->sidecar, prev, start, &detail))
	{
		/* A worker guessed another start: read the segment here. */
		if (s->from_worker)
			elog(DEBUG1, "reading \"%s\" again: %s", f->name, detail);
		else
			ignore_sidecar(psprintf("%s/%s%s", st->store.dir, f->name,
									PITR_SIDECAR_SUFFIX), detail);
		s->sidecar = NULL;
		detail = NULL;
	}

	if (s->sidecar)
		sum = s->sidecar->sum;	/* made from the same bytes, the same way */
	else
	{
		old = MemoryContextSwitchTo(filecxt);

		/* Check it now, so a bad file is reported as such. */
		if ((rs = pitr_segsrc_check(st->src, f, &detail)) != PITR_READ_OK)
		{
			MemoryContextSwitchTo(old);
			insert_row(st, f, pitr_read_status_name(rs == PITR_READ_TOO_LARGE ?
													PITR_READ_CORRUPT : rs),
					   psprintf("could not read segment \"%s\": %s", f->name, detail),
					   &s->head, NULL);
			return;
		}

		pitr_segsrc_follow(st->src, f->tli);
		pitr_segsrc_pin(st->src, f);
		pitr_summarize_segment(segsize, st->store.sysid, pitr_segsrc_get, st->src,
							   segno, start, &sum);
		pitr_segsrc_pin(st->src, NULL);
		MemoryContextSwitchTo(old);
	}

	linked = chains_to(f, &sum, prev, pk, start, &detail);
	if (!linked)
	{
		sum.complete = false;
		sum.events = NIL;		/* records of another history */
		status = "corrupt";
	}
	else if (f->kind == PITR_FILE_PARTIAL)
	{
		status = "partial";
		detail = sum.complete ? NULL :
			psprintf("valid WAL ends at %X/%X: %s",
					 LSN_FORMAT_ARGS(sum.records ? sum.next_lsn : start), sum.error);
	}
	else if (sum.complete)
		status = "ok";
	else
	{
		status = "corrupt";
		detail = psprintf("valid WAL in segment \"%s\" ends at %X/%X: %s", f->name,
						  LSN_FORMAT_ARGS(sum.records ? sum.next_lsn : start),
						  sum.error);
	}
	insert_row(st, f, status, detail, &s->head, &sum);
	/*
	 * The relations come with the summary: read here, from a scan worker,
	 * or from a format 3 sidecar; an older sidecar's (or one listing more
	 * than it may) are not known, and table_history reads that segment in
	 * full once.  The relations table came with the link columns (1.2): a
	 * 1.1 schema not yet updated has neither.
	 */
	if (st->store.has_link)
		pitr_store_segment_relations(st->store.archive_id, f->name, sum.rels);
	foreach(lc, sum.events)
		pitr_store_insert_event(&st->store, f, lfirst(lc));

	k = hash_search(st->known, f->name, HASH_ENTER, NULL);
	k->seen = true;
	k->complete = (f->kind == PITR_FILE_SEGMENT && sum.complete);
	k->next_lsn = sum.records ? sum.next_lsn : InvalidXLogRecPtr;
	k->last_lsn = (sum.records && sum.has_link) ? sum.last_lsn : InvalidXLogRecPtr;
	st->segments_scanned++;
}

/*
 * Which copy of each file recovery fetches: restore_command tries a name's
 * copies in pitr_fetch_order, so the first existing one counts, the others
 * are never read by recovery and are not read here either.
 */
typedef struct DupEntry
{
	char		name[MAXPGPATH];
	char	   *detail;
} DupEntry;

typedef struct FetchEntry
{
	char		base[MAXPGPATH];	/* the name without compression suffix */
	PitrArchiveFile *file;
	int			rank;
} FetchEntry;

static HTAB *
fetched_copies(List *files)
{
	HTAB	   *h;
	ListCell   *lc;

	h = pitr_hash_create("pitr_restore fetched copies", 1024,
			MAXPGPATH, sizeof(FetchEntry),
			true, CurrentMemoryContext);
	foreach(lc, files)
	{
		PitrArchiveFile *f = lfirst(lc);
		char		base[MAXPGPATH];
		int			baselen;
		int			rank = 0;
		bool		found;
		FetchEntry *e;

		(void) pitr_compression_of_name(f->name, &baselen);
		memset(base, 0, sizeof(base));
		memcpy(base, f->name, Min(baselen, MAXPGPATH - 1));
		while (rank < PITR_NUM_COMPRESSIONS && pitr_fetch_order[rank].c != f->compression)
			rank++;
		e = hash_search(h, base, HASH_ENTER, &found);
		if (!found || rank < e->rank)
		{
			e->file = f;
			e->rank = rank;
		}
	}
	return h;
}

static PitrArchiveFile *
fetched_copy(HTAB *h, PitrArchiveFile *f)
{
	char		base[MAXPGPATH];
	int			baselen;
	FetchEntry *e;

	(void) pitr_compression_of_name(f->name, &baselen);
	memset(base, 0, sizeof(base));
	memcpy(base, f->name, Min(baselen, MAXPGPATH - 1));
	e = hash_search(h, base, HASH_FIND, NULL);
	return e ? e->file : f;
}

/*
 * Cheap fingerprint of a backup directory: its top-level names, sizes,
 * times; "" when it cannot be read.
 */
static char *
backup_signature(const char *path)
{
	StringInfoData s;
	char	   *err;
	ListCell   *lc;

	initStringInfo(&s);
	foreach(lc, pitr_read_dir(path, NULL, PITR_DIR_SKIP_HIDDEN | PITR_DIR_SORTED,
							  &err))
	{
		char	   *fpath = psprintf("%s/%s", path, (char *) lfirst(lc));
		struct stat stb;

		/*
		 * lstat: never follows what the backup holds, never opens it.  The
		 * times to the nanosecond (and the ctime): a file removed within the
		 * second the backup was written still changes the fingerprint.
		 */
		if (lstat(fpath, &stb) == 0)
			appendStringInfo(&s, "%s:%o:%lld:%lld.%09ld:%lld.%09ld;", (char *) lfirst(lc),
							 (unsigned) (stb.st_mode & S_IFMT),
							 (long long) stb.st_size,
							 (long long) stb.st_mtim.tv_sec, (long) stb.st_mtim.tv_nsec,
							 (long long) stb.st_ctim.tv_sec, (long) stb.st_ctim.tv_nsec);
	}
	return s.data;
}

/*
 * Bring pitr_restore.base_backup up to date with backup_dir; backups whose
 * files did not change are not read again.
 */
static void
refresh_backup_dir(void)
{
	List	   *sigs = NIL;
	List	   *stored;
	bool		changed = false;
	char	   *dir;
	ListCell   *lc;

	if (pitr_backup_dir == NULL || pitr_backup_dir[0] == '\0')
		return;
	dir = pstrdup(pitr_backup_dir);
	canonicalize_path(dir);

	foreach(lc, pitr_read_dir(dir, "base backup directory",
							  PITR_DIR_SKIP_HIDDEN, NULL))
	{
		char	   *path = psprintf("%s/%s", dir, (char *) lfirst(lc));
		struct stat stb;

		if (stat(path, &stb) != 0 || !S_ISDIR(stb.st_mode))
			continue;
		sigs = lappend(sigs, list_make2(path, backup_signature(path)));
	}

	/* Anything added, changed or gone? */
	stored = pitr_store_backup_signatures();
	if (list_length(stored) != list_length(sigs))
		changed = true;
	foreach(lc, stored)
	{
		List	   *s = lfirst(lc);
		ListCell   *lc2;
		bool		match = false;

		if (changed)
			break;
		foreach(lc2, sigs)
		{
			List	   *p = lfirst(lc2);

			if (strcmp(linitial(p), linitial(s)) == 0 &&
				strcmp(lsecond(p), lsecond(s)) == 0)
				match = true;
		}
		if (!match)
			changed = true;
	}
	if (changed)
		pitr_store_replace_backups(dir, pitr_scan_backup_dir(dir), sigs);
}

/*
 * pgBackRest's archive-get refuses a segment stored more than once
 * ("duplicates found for WAL segment"), whatever the copies hold, and
 * recovery then ends there: such a name is never usable.  The name ->
 * detail of each, in *dups when asked.
 */
static void
note_duplicate(HTAB **dups, PitrSourceFile *first, PitrSourceFile *sf)
{
	DupEntry   *e;
	bool		found;

	if (*dups == NULL)
	{
		*dups = pitr_hash_create("pitr_restore duplicate copies", 16,
				MAXPGPATH, sizeof(DupEntry),
				true, CurrentMemoryContext);
	}
	if (strlen(sf->f.name) >= MAXPGPATH)
		return;
	e = hash_search(*dups, sf->f.name, HASH_ENTER, &found);
	if (!found)
		e->detail = psprintf("\"%s\" is stored more than once in the pgBackRest repository (\"%s\", \"%s\"): pgbackrest archive-get refuses it (\"duplicates found for WAL segment\"), so recovery cannot fetch it",
							 sf->f.name, first->path, sf->path);
}

/*
 * The files of a location, as PitrArchiveFile pointers sorted by name: a
 * flat directory's as the archiver named them; a backup tool's under the
 * names PostgreSQL gave them (one stored copy per name, the first listed),
 * pointing into PitrSourceFile records, *archive and *stored set.
 */
static List *list_location_dups(const char *dir, PitrArchiveSource **archive,
								List **stored, HTAB **dups);

static List *
list_location(const char *dir, PitrArchiveSource **archive, List **stored)
{
	return list_location_dups(dir, archive, stored, NULL);
}

static List *
list_location_dups(const char *dir, PitrArchiveSource **archive,
				   List **stored, HTAB **dups)
{
	PitrArchiveSource *as = pitr_source_open(dir);
	List	   *files = NIL;
	ListCell   *lc;
	PitrSourceFile *prev = NULL;

	*archive = NULL;
	*stored = NIL;
	if (as->layout == PITR_LAYOUT_FLAT)
		return pitr_list_archive(dir);
	*archive = as;
	*stored = pitr_source_list(as);
	foreach(lc, *stored)
	{
		PitrSourceFile *sf = lfirst(lc);

		if (prev != NULL && strcmp(prev->f.name, sf->f.name) == 0)
		{
			if (dups != NULL && as->layout == PITR_LAYOUT_PGBACKREST)
				note_duplicate(dups, prev, sf);
			continue;
		}
		prev = sf;
		files = lappend(files, &sf->f);
	}
	return files;
}

/*
 * What tells whether an archive changed since its last scan.  A flat
 * directory's mtime, to the nanosecond; a backup tool's archive stores new
 * files in subdirectories (or in object storage), so there it is a digest
 * of its listing.
 */
static char *
dir_mtime(const char *dir)
{
	struct stat st;

	if (pitr_source_maybe_tool(dir))
	{
		PitrArchiveSource *as;
		List	   *stored;
		List	   *files = list_location(dir, &as, &stored);
		StringInfoData buf;
		ListCell   *lc;

		initStringInfo(&buf);
		foreach(lc, files)
		{
			PitrSourceFile *sf = (PitrSourceFile *) lfirst(lc);

			appendStringInfo(&buf, "%s %s %lld %lld %s\n", sf->f.name, sf->path,
							 (long long) sf->f.size, (long long) sf->f.mtime,
							 sf->sha1);
		}
		/* A new or expired backup changes the repository's backup list. */
		if (as != NULL && !as->through_binary && as->backup_dir != NULL)
			appendStringInfoString(&buf, backup_signature(as->backup_dir));
		{
			char		hex[33];
			const char *errstr = NULL;

			if (!pg_md5_hash(buf.data, buf.len, hex, &errstr))
				ereport(ERROR,
						(errcode(ERRCODE_INTERNAL_ERROR),
						 errmsg("could not compute MD5 hash: %s", errstr)));
			return psprintf("listing:%s", hex);
		}
	}

	if (stat(dir, &st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open WAL archive directory \"%s\": %m", dir)));
	return psprintf("%lld.%09ld", (long long) st.st_mtim.tv_sec,
					(long) st.st_mtim.tv_nsec);
}

/* The segments left to the scan workers, in WAL order. */
typedef struct WorkerItems
{
	PitrScanItem *items;
	int		   *seg_index;		/* item -> index in segs */
	int			nitems;
} WorkerItems;

/*
 * Hand the segments without a trusted sidecar to pitr_restore.scan_workers
 * background workers, when there are enough of them to be worth it.
 */
static PitrScanPool *
start_workers(SegmentToScan *segs, int nsegs, const PitrScanSetup *setup,
			  WorkerItems *w)
{
	memset(w, 0, sizeof(*w));
	if (pitr_scan_workers <= 0)
		return NULL;
	w->items = palloc(sizeof(PitrScanItem) * (nsegs + 1));
	w->seg_index = palloc(sizeof(int) * (nsegs + 1));
	for (int i = 0; i < nsegs; i++)
		if (segs[i].acceptable && segs[i].sidecar == NULL)
		{
			w->items[w->nitems].file = segs[i].file;
			w->items[w->nitems].head = segs[i].head;
			w->seg_index[w->nitems++] = i;
		}
	if (w->nitems < 2)
		return NULL;
	return pitr_scan_pool_start(setup, w->items, w->nitems, pitr_scan_workers);
}

/*
 * Index the segments in WAL order, taking the workers' summaries as they
 * come; an ERROR or a cancel stops the workers.
 */
static void
scan_segments(ArchiveScan *st, SegmentToScan *segs, int nsegs,
			  PitrScanPool *pool, WorkerItems *items)
{
	MemoryContext filecxt;

	filecxt = AllocSetContextCreate(CurrentMemoryContext,
									"pitr_restore segment scan",
									ALLOCSET_DEFAULT_SIZES);
	PG_TRY();
	{
		int			next_item = 0;

		for (int i = 0; i < nsegs; i++)
		{
			CHECK_FOR_INTERRUPTS();
			if (pool && next_item < items->nitems &&
				items->seg_index[next_item] == i)
			{
				MemoryContext old = MemoryContextSwitchTo(filecxt);
				PitrSidecar *sc;

				if (pitr_scan_pool_next(pool, next_item, &sc, &st->bytes_read))
				{
					segs[i].sidecar = sc;
					segs[i].from_worker = true;
				}
				MemoryContextSwitchTo(old);
				next_item++;
			}
			scan_segment(st, &segs[i], filecxt);
			segs[i].sidecar = NULL;
			MemoryContextReset(filecxt);
			progress(st);
		}
	}
	PG_CATCH();
	{
		if (pool)
			pitr_scan_pool_terminate(pool);
		PG_RE_THROW();
	}
	PG_END_TRY();
}

/*
 * The file's stamp (mtime and ctime to the nanosecond, inode) is what the
 * index recorded: a file rewritten in place, even to the same size with
 * its mtime put back (touch -r), or renamed over, has a new ctime.  Files
 * indexed without a stamp, and a tool's files, compare by size and mtime.
 * The current stamp is noted in k for the row about to be stored.
 */
static bool
same_stamp(ArchiveScan *st, PitrKnownFile *k, PitrArchiveFile *f, bool note)
{
	bool		same;

	if (st->archive != NULL)
		return true;
	/* one lstat per file and scan, whoever asks first */
	if (!k->cur_valid)
	{
		if (!pitr_file_stamp(st->store.dir, f->name, k->cur_stamp))
			k->cur_stamp[0] = '\0';
		k->cur_valid = true;
	}
	if (k->cur_stamp[0] == '\0')
		return false;
	same = k->stamp[0] == '\0' || strcmp(k->stamp, k->cur_stamp) == 0;
	if (note)
		strlcpy(k->stamp, k->cur_stamp, PITR_STAMP_LEN);
	return same;
}

/*
 * A segment's chain to its predecessor is checked when it is read: when a
 * segment is read again (changed, new, retried), the segment after it is
 * read again too, so its link is checked against what is there now.  The
 * segment numbers read again, as a set; NULL before the segment size is
 * known (then every segment is new).
 */
static bool
file_is_unchanged(ArchiveScan *st, PitrArchiveFile *f, HTAB *fetched)
{
	PitrKnownFile *k = hash_search(st->known, f->name, HASH_FIND, NULL);

	return k != NULL && k->size == f->size && k->mtime == f->mtime &&
		!k->retry && k->unused == (fetched_copy(fetched, f) != f) &&
		same_stamp(st, k, f, false);
}

static HTAB *
successors_to_check(ArchiveScan *st, List *files, HTAB *fetched)
{
	HTAB	   *h;
	ListCell   *lc;

	if (st->store.segsize == 0)
		return NULL;
	h = pitr_hash_create("pitr_restore segments read again", 64,
			sizeof(XLogSegNo), sizeof(XLogSegNo),
			false, CurrentMemoryContext);
	foreach(lc, files)
	{
		PitrArchiveFile *f = lfirst(lc);

		if (f->kind == PITR_FILE_SEGMENT && !file_is_unchanged(st, f, fetched))
		{
			XLogSegNo	segno = pitr_file_segno(f, st->store.segsize);

			(void) hash_search(h, &segno, HASH_ENTER, NULL);
		}
	}
	return h;
}

static bool
successor_of_changed(ArchiveScan *st, HTAB *relink, PitrArchiveFile *f)
{
	XLogSegNo	segno;

	if (relink == NULL ||
		(f->kind != PITR_FILE_SEGMENT && f->kind != PITR_FILE_PARTIAL))
		return false;
	segno = pitr_file_segno(f, st->store.segsize);
	if (segno == 0)
		return false;
	segno--;
	return hash_search(relink, &segno, HASH_FIND, NULL) != NULL;
}

/* What one scan does with the archive's files (scan_locked). */
typedef struct ScanPlan
{
	List	   *files;			/* every archive file, sorted */
	HTAB	   *fetched;		/* the copy recovery fetches of each name */
	HTAB	   *dups;			/* names stored twice (tool archives), or NULL */
	SegmentToScan *segs;		/* segments and partials to read */
	int			nsegs;
	List	   *others;			/* history and backup history files to read */
	List	   *unused;			/* copies recovery never fetches */
} ScanPlan;

/*
 * A file stored twice in a tool's archive: read again at every scan, since
 * a copy may have been removed.
 */
static void
plan_duplicate(ArchiveScan *st, PitrKnownFile *k, bool found,
			   PitrArchiveFile *f, DupEntry *dup)
{
	if (found)
		pitr_store_delete_file(&st->store, f->name);
	k->seen = true;
	k->complete = false;
	k->next_lsn = k->last_lsn = InvalidXLogRecPtr;
	insert_row(st, f, "duplicate", dup->detail, NULL, NULL);
}

/*
 * Decide for one file: unchanged files stay, except what failed for a
 * reason that may have passed; changed ones are dropped, to be read again.
 */
static void
plan_file(ArchiveScan *st, ScanPlan *plan, HTAB *relink, PitrArchiveFile *f)
{
	bool		is_unused = fetched_copy(plan->fetched, f) != f;
	bool		found;
	bool		rewritten;
	PitrKnownFile *k;
	DupEntry   *dup;

	k = hash_search(st->known, f->name, HASH_ENTER, &found);
	if (!found)
	{
		k->stamp[0] = '\0';
		k->cur_valid = false;
	}
	if (plan->dups != NULL &&
		(dup = hash_search(plan->dups, f->name, HASH_FIND, NULL)) != NULL)
	{
		plan_duplicate(st, k, found, f, dup);
		return;
	}
	rewritten = found && st->archive == NULL && k->size == f->size &&
		k->mtime == f->mtime && k->stamp[0] != '\0' &&
		!same_stamp(st, k, f, false);
	if (found && k->size == f->size && k->mtime == f->mtime &&
		!k->retry && k->unused == is_unused &&
		same_stamp(st, k, f, true) &&
		!successor_of_changed(st, relink, f))
	{
		k->seen = true;
		return;
	}
	if (st->archive == NULL)
	{
		if (!k->cur_valid)
			(void) pitr_file_stamp(st->store.dir, f->name, k->stamp);
		else
			strlcpy(k->stamp, k->cur_stamp, PITR_STAMP_LEN);
	}
	if (found)
		pitr_store_delete_file(&st->store, f->name);
	k->size = f->size;
	k->mtime = f->mtime;
	k->seen = true;
	k->complete = false;
	k->next_lsn = InvalidXLogRecPtr;
	if (is_unused)
		plan->unused = lappend(plan->unused, f);
	else if (f->kind == PITR_FILE_SEGMENT || f->kind == PITR_FILE_PARTIAL)
	{
		plan->segs[plan->nsegs].rewritten = rewritten;
		plan->segs[plan->nsegs++].file = f;
	}
	else
		plan->others = lappend(plan->others, f);	/* history and backup
													 * files */
}

/* List the archive and decide what to read again; vanished files go. */
static void
plan_scan(ArchiveScan *st, ScanPlan *plan)
{
	HTAB	   *relink;
	HASH_SEQ_STATUS hs;
	PitrKnownFile *k;
	ListCell   *lc;

	memset(plan, 0, sizeof(*plan));
	st->known = pitr_store_known_files(&st->store);
	plan->files = list_location_dups(st->store.dir, &st->archive,
									 &st->stored, &plan->dups);
	plan->fetched = fetched_copies(plan->files);
	plan->segs = palloc0(sizeof(SegmentToScan) *
						 (list_length(plan->files) + 1));
	relink = successors_to_check(st, plan->files, plan->fetched);
	foreach(lc, plan->files)
		plan_file(st, plan, relink, lfirst(lc));

	/* Files that vanished from the directory leave the index. */
	hash_seq_init(&hs, st->known);
	while ((k = hash_seq_search(&hs)) != NULL)
		if (!k->seen)
			pitr_store_delete_file(&st->store, k->name);
}

/* A segment source over the archive, with the given segment size. */
static PitrSegmentSource *
open_segments(ArchiveScan *st, int segsize)
{
	PitrSegmentSource *src = pitr_segsrc_create(st->store.dir, segsize);

	if (st->archive)
		pitr_segsrc_use_source(src, st->archive, st->stored);
	return src;
}

/* Rows for the copies recovery never fetches, saying which it fetches. */
static void
note_unused(ArchiveScan *st, ScanPlan *plan)
{
	StringInfoData order;
	ListCell   *lc;

	initStringInfo(&order);
	for (int i = 0; i < PITR_NUM_COMPRESSIONS; i++)
		appendStringInfo(&order, "%s%s", i ? ", " : "", pitr_fetch_order[i].name);
	foreach(lc, plan->unused)
	{
		PitrArchiveFile *f = lfirst(lc);

		insert_row(st, f, "unused",
				   psprintf("recovery fetches \"%s\" instead: restore_command tries the copies of a file in the order %s",
							fetched_copy(plan->fetched, f)->name, order.data),
				   NULL, NULL);
	}
}

/*
 * Read the WAL of the segments whose head fits the archive, in workers
 * where they can read the archive themselves.
 */
static void
scan_wal(ArchiveScan *st, ScanPlan *plan)
{
	PitrScanSetup setup;
	PitrScanPool *pool = NULL;
	WorkerItems items;
	ListCell   *lc;

	st->src = open_segments(st, st->store.segsize);
	pitr_scan_setup_archive(&setup, st->store.dir, st->store.segsize,
							st->store.sysid);
	foreach(lc, plan->files)
	{
		PitrArchiveFile *f = lfirst(lc);

		if (f->kind != PITR_FILE_SEGMENT)
			continue;
		pitr_segsrc_add(st->src, f);
		pitr_scan_setup_file(&setup, f);
	}
	pitr_store_load_histories(&st->store, st->src, &setup);

	qsort(plan->segs, plan->nsegs, sizeof(SegmentToScan), seg_cmp);
	for (int i = 0; i < plan->nsegs; i++)
		plan->segs[i].acceptable = head_acceptable(st, &plan->segs[i]);
	/* pgbackrest itself fetches a remote repository's files: no workers */
	if (st->archive == NULL || !st->archive->through_binary)
		pool = start_workers(plan->segs, plan->nsegs, &setup, &items);
	else
		memset(&items, 0, sizeof(items));

	scan_segments(st, plan->segs, plan->nsegs, pool, &items);
	if (pool)
		pitr_scan_pool_finish(pool);
	st->bytes_read += pitr_segsrc_bytes_read(st->src);
	pitr_segsrc_close(st->src);
}

/* Scan, the archive's lock being held.  st->store.dir is canonical. */
static void
scan_locked(ArchiveScan *st, PitrScanResult *res)
{
	char	   *mtime;
	ScanPlan	plan;
	ListCell   *lc;

	st->next_progress = PROGRESS_BYTES;
	st->reader = pitr_file_reader_create();
	mtime = dir_mtime(st->store.dir);
	plan_scan(st, &plan);

	/* New history and backup history files first: lookups need them. */
	foreach(lc, plan.others)
	{
		CHECK_FOR_INTERRUPTS();
		index_small_file(st, lfirst(lc));
	}

	/* First pages tell the archive's system and segment size. */
	st->src = open_segments(st, XLOG_BLCKSZ);
	for (int i = 0; i < plan.nsegs; i++)
	{
		CHECK_FOR_INTERRUPTS();
		read_head(st, &plan.segs[i]);
	}
	st->bytes_read += pitr_segsrc_bytes_read(st->src);
	settle_identity(st, plan.segs, plan.nsegs);
	note_unused(st, &plan);

	if (st->store.segsize == 0)
	{
		/* Nothing that looks like WAL: record every file as such. */
		for (int i = 0; i < plan.nsegs; i++)
			(void) head_acceptable(st, &plan.segs[i]);
	}
	else
		scan_wal(st, &plan);

	refresh_backup_dir();
	/* The backups the tool's repository lists belong to this archive. */
	if (st->archive)
		pitr_store_replace_repo_backups(st->store.dir,
										pitr_source_backup_rows(st->archive,
																st->store.dir));
	pitr_store_finish_scan(&st->store, mtime);

	res->archive_id = st->store.archive_id;
	res->segments_scanned = st->segments_scanned;
	res->bytes_read = st->bytes_read;
	res->system_identifier = st->store.sysid;
	res->segment_size = st->store.segsize;
	foreach(lc, plan.files)
	{
		PitrArchiveFile *f = lfirst(lc);

		if (f->kind == PITR_FILE_SEGMENT || f->kind == PITR_FILE_PARTIAL)
			res->segments_total++;
	}
}

void
pitr_refresh_archive(const char *dir, PitrScanResult *res)
{
	ArchiveScan st;

	memset(&st, 0, sizeof(st));
	memset(res, 0, sizeof(*res));
	(void) pitr_store_open(&st.store, pitr_canonical_archive(dir), true);
	scan_locked(&st, res);
}

/*
 * scan_archive(archive_dir text DEFAULT NULL)
 */
Datum
pitr_scan_archive(PG_FUNCTION_ARGS)
{
	char	   *dir;
	PitrScanResult res;
	TupleDesc	tupdesc;
	Datum		values[6];
	bool		nulls[6] = {0};

	pitr_check_read_privilege();
	dir = pitr_canonical_archive(pitr_archive_dir_arg(PG_ARGISNULL(0) ? NULL :
													  PG_GETARG_TEXT_PP(0)));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	SPI_connect();
	pitr_refresh_archive(dir, &res);
	pitr_store_counts(dir, &values[3], &values[4], &values[5]);
	SPI_finish();

	values[0] = Int64GetDatum(res.segments_total);
	values[1] = Int64GetDatum(res.segments_scanned);
	values[2] = Int64GetDatum(res.bytes_read);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}

/*
 * archive_path(archive_dir text DEFAULT NULL): the canonical real path of
 * the archive a call speaks of.
 */
Datum
pitr_archive_path(PG_FUNCTION_ARGS)
{
	pitr_check_read_privilege();
	PG_RETURN_TEXT_P(cstring_to_text(pitr_canonical_archive(pitr_archive_dir_arg(PG_ARGISNULL(0) ? NULL :
																				 PG_GETARG_TEXT_PP(0)))));
}

/*
 * refresh_archive(archive_dir text DEFAULT NULL) returns the archive's id,
 * after a scan if the directory changed since the last one, or if a file
 * the index holds changed in place (size or mtime; with check_files =
 * false that is left to the caller, who checks only the files it uses).  If another
 * session is scanning it right now, the index it committed last is used
 * (with a NOTICE saying so) rather than waiting for that scan's
 * transaction; an archive never indexed is waited for, within
 * lock_timeout.
 */
char		pitr_refresh_busy_dir[MAXPGPATH];
char		pitr_refresh_last_dir[MAXPGPATH];

/* Is an indexed file on disk as it was read? */
static bool
file_unchanged(const char *name, int64 size, int64 mtime, const char *stamp,
			   void *arg)
{
	const char *dir = arg;
	char		cur[PITR_STAMP_LEN];
	char		path[MAXPGPATH];
	struct stat stb;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (lstat(path, &stb) != 0 || (int64) stb.st_size != size ||
		(int64) stb.st_mtime != mtime)
		return false;
	if (stamp == NULL)
		return true;
	pitr_stat_stamp(&stb, cur);
	return strcmp(stamp, cur) == 0;
}

/*
 * Is every segment and history file the index holds of a flat archive
 * still there with the size and mtime it was read with?  A file rewritten
 * in place does not change its directory's mtime.  (A tool's archive is
 * compared by its listing, which holds every file's size and mtime.)
 */
static bool
indexed_files_unchanged(const char *dir, int archive_id)
{
	if (pitr_source_maybe_tool(dir))
		return true;
	return pitr_store_each_file(archive_id, file_unchanged,
								unconstify(char *, dir));
}

bool
pitr_refresh_if_files_changed(const char *dir)
{
	int			id = pitr_store_indexed_id(dir);
	PitrScanResult res;

	if (id == 0 || indexed_files_unchanged(dir, id))
		return false;
	pitr_refresh_archive(dir, &res);
	return true;
}

/*
 * refresh_archive(archive_dir text DEFAULT NULL [, check_files boolean])
 */
Datum
pitr_refresh_archive_sql(PG_FUNCTION_ARGS)
{
	char	   *dir;
	int			id;
	bool		check_files = PG_NARGS() < 2 || PG_ARGISNULL(1) || PG_GETARG_BOOL(1);

	pitr_check_read_privilege();
	dir = pitr_canonical_archive(pitr_archive_dir_arg(PG_ARGISNULL(0) ? NULL :
													  PG_GETARG_TEXT_PP(0)));

	SPI_connect();
	pitr_refresh_busy_dir[0] = '\0';
	strlcpy(pitr_refresh_last_dir, dir, MAXPGPATH);
	id = pitr_store_unchanged_id(dir, dir_mtime(dir));
	if (id != 0 && check_files && !indexed_files_unchanged(dir, id))
		id = 0;
	if (id == 0)
	{
		ArchiveScan st;
		PitrScanResult res;

		memset(&st, 0, sizeof(st));
		if (pitr_store_open(&st.store, dir, false))
		{
			scan_locked(&st, &res);
			id = res.archive_id;
		}
		else if ((id = pitr_store_indexed_id(dir)) != 0)
		{
			strlcpy(pitr_refresh_busy_dir, dir, MAXPGPATH);
			ereport(NOTICE,
					(errmsg("WAL archive \"%s\" is being scanned by another session; using its index as last committed", dir),
					 errdetail("Files archived since that index was committed are not taken into account."),
					 errhint("Run pitr_restore.scan_archive() once the other scan has finished to include them.")));
		}
		else
		{
			(void) pitr_store_open(&st.store, dir, true);
			scan_locked(&st, &res);
			id = res.archive_id;
		}
	}
	SPI_finish();
	PG_RETURN_INT32(id);
}
