/*-------------------------------------------------------------------------
 *
 * scan_workers.c
 *	  The parallel first scan of a WAL archive: dynamic background workers
 *	  summarise segments and hand the summaries back to the scanning
 *	  backend, which checks and stores them (all SPI stays there).
 *
 * The segments to read are cut into runs of consecutive ones, dealt to the
 * workers in turn.  A worker summarises its run in WAL order; each summary
 * goes back through the worker's shm_mq as sidecar text (sidecar.c), which
 * says which predecessor and start it used.  For a run's first segment the
 * worker finds its predecessor's end by summarising the predecessor itself
 * from its first record; the backend uses a summary only when that
 * predecessor and start are the ones its own serial rule gives (the end of
 * the predecessor it stored), and reads the segment itself otherwise, so
 * the index is the serial scan's.  Workers need no database connection;
 * each holds the segment source's small page cache and one queue, so its
 * memory does not grow with the archive.
 *
 * What the backend shares is fixed-size structs in the dynamic shared
 * memory segment (ScanShared, ScanHistory, ScanFile, ScanItem); each reply
 * is a ScanReply struct, followed for a summary by its sidecar text, which
 * the backend reads with the sidecar parser (the one that checks the
 * archive module's sidecars).  The text carries the relation files the
 * segment touches (sidecar format 3, at most PITR_SIDECAR_MAX_RELATIONS,
 * else "not known"), so a reply stays a few kilobytes and the backend
 * records them as for a segment it read itself.  A worker's messages (ERROR, NOTICE ...) go
 * through the same queue in the frontend/backend protocol (pqmq.c, as
 * parallel query's workers send theirs) and are raised again in the
 * backend with their SQLSTATE, detail and hint.  An ERROR or cancel in the
 * backend terminates the workers, and they also stop when the queue's
 * other end detaches.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <unistd.h>

#include "access/xlog_internal.h"
#include "libpq/pqmq.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "history.h"
#include "scan_workers.h"
#include "segment_source.h"
#include "source/archive_source.h"
#include "util/gucs.h"
#include "util/worker_launch.h"
#include "util/worker_message.h"
#include "walscan.h"

int			pitr_scan_workers = 0;

#define SCAN_MAGIC			0x70697472	/* "pitr" */
#define KEY_SHARED			1
#define KEY_HISTORY			2
#define KEY_FILES			3
#define KEY_ITEMS(w)		(100 + (w))
#define KEY_QUEUE(w)		(200 + (w))
#define MAX_SCAN_WORKERS	32
#define QUEUE_SIZE			(1024 * 1024)
#define RUN_MAX				512

/* What every worker is told of the archive (KEY_SHARED). */
typedef struct ScanShared
{
	int			segsize;
	uint64		sysid;
	int			nhistory;		/* ScanHistory entries under KEY_HISTORY */
	int			nfiles;			/* ScanFile entries under KEY_FILES */
	int			nitems[MAX_SCAN_WORKERS];	/* ScanItem entries per worker */
	char		dir[FLEXIBLE_ARRAY_MEMBER]; /* the archive's location */
} ScanShared;

/* One entry of a timeline's history, in the index's order. */
typedef struct ScanHistory
{
	TimeLineID	tli;
	TimeLineID	parent;
	XLogRecPtr	switchpoint;
} ScanHistory;

/* A segment file of the archive (the segment source's list). */
typedef struct ScanFile
{
	char		name[MAXFNAMELEN];
	int64		size;
	int64		mtime;
} ScanFile;

/* A segment for a worker to summarise, with the head the backend read. */
typedef struct ScanItem
{
	int			index;			/* in the backend's list */
	ScanFile	file;
	PitrSegmentHead head;
} ScanItem;

/*
 * A worker's answer for one item, in order.  Its kind is never a protocol
 * message's type ('E', 'N' ...), which share the queue.
 */
#define REPLY_SUMMARY	'O'		/* the sidecar text of the summary follows */
#define REPLY_SKIPPED	'S'		/* left to the backend: it could not read it */

typedef struct ScanReply
{
	char		kind;
	int			index;
	int64		bytes_read;		/* what the worker read for it */
} ScanReply;

struct PitrScanPool
{
	dsm_segment *seg;
	int			nworkers;
	BackgroundWorkerHandle *handles[MAX_SCAN_WORKERS];
	shm_mq_handle *queues[MAX_SCAN_WORKERS];
	int		   *owner;			/* item -> worker */
	PitrScanItem *items;
	int			nitems;
};

void
pitr_scan_define_gucs(void)
{
	long		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int			dflt = (int) Max(0, Min(ncpu, 8));

	DefineCustomIntVariable("pitr_restore.scan_workers",
							"Background workers that read segments in a first scan of an archive.",
							"They also share the per-file check of a long certified path (no more than the CPUs beside the backend's own).  0 reads and checks everything in the backend.  The default is the number of CPUs, at most 8.",
							&pitr_scan_workers,
							dflt, 0, MAX_SCAN_WORKERS,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
}

/* --- the archive's description --- */

void
pitr_scan_setup_archive(PitrScanSetup *setup, const char *dir, int segsize,
						uint64 sysid)
{
	memset(setup, 0, sizeof(*setup));
	setup->dir = dir;
	setup->segsize = segsize;
	setup->sysid = sysid;
}

void
pitr_scan_setup_history(PitrScanSetup *setup, TimeLineID tli, TimeLineID parent,
						XLogRecPtr switchpoint)
{
	ScanHistory *h = palloc(sizeof(ScanHistory));

	h->tli = tli;
	h->parent = parent;
	h->switchpoint = switchpoint;
	setup->histories = lappend(setup->histories, h);
}

void
pitr_scan_setup_file(PitrScanSetup *setup, const PitrArchiveFile *f)
{
	setup->files = lappend(setup->files, (void *) f);
}

/* An archive file as the workers see it; archive file names are short. */
static void
fill_file(ScanFile *sf, const PitrArchiveFile *f)
{
	if (strlcpy(sf->name, f->name, sizeof(sf->name)) >= sizeof(sf->name))
		elog(ERROR, "archive file name \"%s\" is too long for a scan worker",
			 f->name);
	sf->size = f->size;
	sf->mtime = f->mtime;
}

/* --- the backend's side --- */

/*
 * The segment holding the archive's description and each worker's items
 * and queue; items are dealt in runs of consecutive segments, in turn.
 */
static void
create_segment(PitrScanPool *pool, const PitrScanSetup *setup, int nworkers)
{
	int			run = Min(RUN_MAX, (pool->nitems + nworkers - 1) / nworkers);
	int			nhistory = list_length(setup->histories);
	int			nfiles = list_length(setup->files);
	Size		shared_size = add_size(offsetof(ScanShared, dir),
									   strlen(setup->dir) + 1);
	int			count[MAX_SCAN_WORKERS] = {0};
	ScanItem   *items[MAX_SCAN_WORKERS];
	shm_toc_estimator e;
	shm_toc    *toc;
	ScanShared *shared;
	ScanHistory *hist;
	ScanFile   *files;
	Size		size;
	int			i;
	ListCell   *lc;

	for (i = 0; i < pool->nitems; i++)
	{
		pool->owner[i] = (i / run) % nworkers;
		count[pool->owner[i]]++;
	}

	shm_toc_initialize_estimator(&e);
	shm_toc_estimate_chunk(&e, shared_size);
	shm_toc_estimate_chunk(&e, mul_size(Max(nhistory, 1), sizeof(ScanHistory)));
	shm_toc_estimate_chunk(&e, mul_size(Max(nfiles, 1), sizeof(ScanFile)));
	shm_toc_estimate_keys(&e, 3 + 2 * nworkers);
	for (int w = 0; w < nworkers; w++)
	{
		shm_toc_estimate_chunk(&e, mul_size(count[w], sizeof(ScanItem)));
		shm_toc_estimate_chunk(&e, QUEUE_SIZE);
	}
	size = shm_toc_estimate(&e);

	pool->seg = dsm_create(size, 0);
	toc = shm_toc_create(SCAN_MAGIC, dsm_segment_address(pool->seg), size);

	shared = shm_toc_allocate(toc, shared_size);
	memset(shared, 0, shared_size);
	shared->segsize = setup->segsize;
	shared->sysid = setup->sysid;
	shared->nhistory = nhistory;
	shared->nfiles = nfiles;
	strcpy(shared->dir, setup->dir);
	shm_toc_insert(toc, KEY_SHARED, shared);

	hist = shm_toc_allocate(toc, mul_size(Max(nhistory, 1), sizeof(ScanHistory)));
	i = 0;
	foreach(lc, setup->histories)
		hist[i++] = *(ScanHistory *) lfirst(lc);
	shm_toc_insert(toc, KEY_HISTORY, hist);

	files = shm_toc_allocate(toc, mul_size(Max(nfiles, 1), sizeof(ScanFile)));
	i = 0;
	foreach(lc, setup->files)
		fill_file(&files[i++], lfirst(lc));
	shm_toc_insert(toc, KEY_FILES, files);

	for (int w = 0; w < nworkers; w++)
	{
		shm_mq	   *mq;

		shared->nitems[w] = 0;
		items[w] = shm_toc_allocate(toc, mul_size(count[w], sizeof(ScanItem)));
		shm_toc_insert(toc, KEY_ITEMS(w), items[w]);
		mq = shm_mq_create(shm_toc_allocate(toc, QUEUE_SIZE), QUEUE_SIZE);
		shm_toc_insert(toc, KEY_QUEUE(w), mq);
		shm_mq_set_receiver(mq, MyProc);
		pool->queues[w] = shm_mq_attach(mq, pool->seg, NULL);
	}
	for (i = 0; i < pool->nitems; i++)
	{
		int			w = pool->owner[i];
		ScanItem   *it = &items[w][shared->nitems[w]++];

		it->index = i;
		fill_file(&it->file, pool->items[i].file);
		it->head = pool->items[i].head;
	}
}

PitrScanPool *
pitr_scan_pool_start(const PitrScanSetup *setup, PitrScanItem *items,
					 int nitems, int nworkers)
{
	PitrScanPool *pool;
	int			started = 0;

	nworkers = Min(nworkers, MAX_SCAN_WORKERS);
	nworkers = Min(nworkers, nitems);
	if (nworkers <= 0)
		return NULL;

	pool = palloc0(sizeof(PitrScanPool));
	pool->items = items;
	pool->nitems = nitems;
	pool->owner = palloc(sizeof(int) * nitems);
	create_segment(pool, setup, nworkers);

	for (int w = 0; w < nworkers; w++)
	{
		if (!pitr_launch_worker("pitr_scan_worker_main",
								"pitr_restore scan worker", w, pool->seg,
								&pool->handles[w]))
			break;
		shm_mq_set_handle(pool->queues[w], pool->handles[w]);
		started++;
	}
	pool->nworkers = started;
	if (started == nworkers)
		elog(DEBUG1, "reading %d segments in %d background workers", nitems, started);

	if (started < nworkers)
	{
		/* Not all could start (max_worker_processes): do without them. */
		pitr_scan_pool_terminate(pool);
		dsm_detach(pool->seg);
		ereport(NOTICE,
				(errmsg("reading the WAL archive in this session: no background worker slot is free"),
				 errhint("Raise max_worker_processes, or set pitr_restore.scan_workers to fewer workers.")));
		return NULL;
	}
	return pool;
}

bool
pitr_scan_pool_next(PitrScanPool *pool, int i, PitrSidecar **scp,
					int64 *bytes_read)
{
	int			w = pool->owner[i];
	const char *name = pool->items[i].file->name;
	Size		len;
	void	   *data;
	ScanReply	reply;
	PitrSidecar *sc;
	char	   *why;

	for (;;)
	{
		if (shm_mq_receive(pool->queues[w], &len, &data, false) != SHM_MQ_SUCCESS)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("scan worker %d exited before summarising segment \"%s\"",
							w, name),
					 errhint("The server log may say why.")));
		if (pitr_is_worker_message(data, len))
			pitr_raise_worker_message(data, len,
									  psprintf("pitr_restore scan worker %d", w));
		else
			break;
	}

	if (len < sizeof(ScanReply))
		elog(ERROR, "unexpected message from scan worker %d", w);
	memcpy(&reply, data, sizeof(ScanReply));
	if (reply.index != i ||
		(reply.kind != REPLY_SUMMARY && reply.kind != REPLY_SKIPPED))
		elog(ERROR, "unexpected message from scan worker %d", w);
	*bytes_read += reply.bytes_read;
	if (reply.kind == REPLY_SKIPPED)
		return false;

	sc = palloc0(sizeof(PitrSidecar));
	if (pitr_sidecar_parse((char *) data + sizeof(ScanReply), len - sizeof(ScanReply),
						   sc, &why) != PITR_SIDECAR_OK ||
		sc->file_name == NULL || strcmp(sc->file_name, name) != 0)
		elog(ERROR, "scan worker %d sent an unreadable summary of \"%s\"",
			 w, name);
	*scp = sc;
	return true;
}

void
pitr_scan_pool_terminate(PitrScanPool *pool)
{
	for (int w = 0; w < pool->nworkers; w++)
		if (pool->handles[w])
			TerminateBackgroundWorker(pool->handles[w]);
}

void
pitr_scan_pool_finish(PitrScanPool *pool)
{
	for (int w = 0; w < pool->nworkers; w++)
	{
		shm_mq_detach(pool->queues[w]);
		(void) WaitForBackgroundWorkerShutdown(pool->handles[w]);
	}
	dsm_detach(pool->seg);
}

/* --- the worker's side --- */

static shm_mq_handle *worker_mq;

static void
send_reply(char kind, int index, int64 bytes, const StringInfo text)
{
	ScanReply	reply;
	shm_mq_iovec iov[2];
	shm_mq_result result;

	memset(&reply, 0, sizeof(reply));
	reply.kind = kind;
	reply.index = index;
	reply.bytes_read = bytes;
	iov[0].data = (char *) &reply;
	iov[0].len = sizeof(reply);
	iov[1].data = text ? text->data : NULL;
	iov[1].len = text ? text->len : 0;

	/*
	 * Not cut by a termination: the ERROR it raises goes through this queue
	 * too.  The backend reads on, or detaches, which ends the wait.
	 */
	HOLD_INTERRUPTS();
	result = shm_mq_sendv(worker_mq, iov, text ? 2 : 1, false, true);
	RESUME_INTERRUPTS();
	if (result != SHM_MQ_SUCCESS)
		proc_exit(0);			/* the backend is gone: nothing to do */
}

static PitrArchiveFile *
make_file(const ScanFile *sf)
{
	PitrArchiveFile *f = palloc0(sizeof(PitrArchiveFile));

	if (!pitr_classify_file_name(sf->name, f))
		elog(ERROR, "\"%s\" is not an archive file name", sf->name);
	f->name = pstrdup(sf->name);
	f->size = sf->size;
	f->mtime = sf->mtime;
	f->regular = true;
	return f;
}

/*
 * Where the segment after prev begins, by the serial scan's rule, from a
 * summary of prev made from its first record; invalid if not known.
 */
static XLogRecPtr
predecessor_end(PitrSegmentSource *src, PitrArchiveFile *prev, int segsize,
				uint64 sysid)
{
	PitrSegmentSummary ps;
	XLogSegNo	pseg = pitr_file_segno(prev, segsize);
	XLogRecPtr	prevstart;
	char	   *err;

	XLogSegNoOffsetToRecPtr(pseg, 0, segsize, prevstart);
	if (pitr_segsrc_check(src, prev, &err) != PITR_READ_OK)
		return InvalidXLogRecPtr;
	pitr_segsrc_follow(src, prev->tli);
	pitr_segsrc_pin(src, prev);
	pitr_summarize_segment(segsize, sysid, pitr_segsrc_get, src, pseg,
						   InvalidXLogRecPtr, &ps);
	pitr_segsrc_pin(src, NULL);
	if (ps.complete && ps.records > 0 && ps.next_lsn >= prevstart)
		return ps.next_lsn;
	return InvalidXLogRecPtr;
}

/* The segment source over the archive the backend described. */
static PitrSegmentSource *
open_source(const ScanShared *shared, const ScanHistory *hist,
			const ScanFile *files)
{
	PitrSegmentSource *src = pitr_segsrc_create(shared->dir, shared->segsize);
	List	   *entries = NIL;

	if (pitr_source_maybe_tool(shared->dir))
	{
		/* A backup tool's archive: files are where the tool stored them. */
		PitrArchiveSource *as = pitr_source_open(shared->dir);

		if (as->layout != PITR_LAYOUT_FLAT)
			pitr_segsrc_use_source(src, as, pitr_source_list(as));
	}
	for (int i = 0; i < shared->nfiles; i++)
		pitr_segsrc_add(src, make_file(&files[i]));
	for (int i = 0; i < shared->nhistory; i++)
	{
		PitrHistoryEntry *e = palloc0(sizeof(PitrHistoryEntry));

		e->tli = hist[i].parent;
		e->switchpoint = hist[i].switchpoint;
		entries = lappend(entries, e);
		/* a timeline's entries are consecutive */
		if (i + 1 == shared->nhistory || hist[i + 1].tli != hist[i].tli)
		{
			pitr_segsrc_set_history(src, hist[i].tli, entries);
			entries = NIL;
		}
	}
	return src;
}

/* Shows which segment a worker's message is about, if any. */
static void
item_error_context(void *arg)
{
	if (arg != NULL)
		errcontext("summarising WAL segment file \"%s\"", (const char *) arg);
}

/* The segment summarised just before, and where its successor begins. */
typedef struct WorkerState
{
	const ScanShared *shared;
	PitrSegmentSource *src;
	PitrArchiveFile *last;
	XLogRecPtr	last_end;
} WorkerState;

/* Summarise one item into sc; false if the file cannot be read. */
static bool
summarise_item(WorkerState *ws, const ScanItem *it, PitrSidecar *sc)
{
	int			segsize = ws->shared->segsize;
	PitrSegmentSource *src = ws->src;
	PitrArchiveFile *f = make_file(&it->file);
	PitrArchiveFile *prev;
	XLogSegNo	segno = pitr_file_segno(f, segsize);
	XLogRecPtr	start = InvalidXLogRecPtr;
	char	   *err;
	int			baselen;

	if (f->kind == PITR_FILE_SEGMENT)
	{
		/* The source's own entry: its page cache is keyed by it. */
		PitrArchiveFile *same = pitr_segsrc_find(src, f->tli, segno);

		if (same && strcmp(same->name, f->name) == 0)
			f = same;
	}
	prev = segno > 0 ? pitr_segsrc_find(src, f->tli, segno - 1) : NULL;
	if (prev && ws->last && strcmp(prev->name, ws->last->name) == 0)
		start = ws->last_end;
	else if (prev)
		start = predecessor_end(src, prev, segsize, ws->shared->sysid);

	if (pitr_segsrc_check(src, f, &err) != PITR_READ_OK)
	{
		/* The backend reads it again and records why it is bad. */
		ws->last = NULL;
		return false;
	}

	memset(sc, 0, sizeof(*sc));
	sc->version = PITR_SIDECAR_VERSION;
	sc->file_name = f->name;
	sc->file_size = f->size;
	sc->mtime_sec = f->mtime;
	(void) pitr_compression_of_name(f->name, &baselen);
	sc->segment_name = pnstrdup(f->name, baselen);
	sc->compression = f->compression;
	sc->sysid = it->head.sysid;
	sc->magic = it->head.magic;
	sc->info = it->head.info;
	sc->seg_size = segsize;
	sc->blcksz = XLOG_BLCKSZ;
	sc->pageaddr = it->head.pageaddr;
	sc->prev_file = prev ? prev->name : NULL;
	sc->start = start;
	pitr_segsrc_follow(src, f->tli);
	pitr_segsrc_pin(src, f);
	pitr_summarize_segment(segsize, ws->shared->sysid, pitr_segsrc_get, src,
						   segno, start, &sc->sum);
	pitr_segsrc_pin(src, NULL);

	/* As the serial scan: only a complete segment gives its successor a start. */
	if (f->kind == PITR_FILE_SEGMENT && pitr_segsrc_is_fetched(src, f))
	{
		ws->last = f;			/* the source's, outlives the item */
		ws->last_end = (sc->sum.complete && sc->sum.records > 0) ?
			sc->sum.next_lsn : InvalidXLogRecPtr;
	}
	else
		ws->last = NULL;
	return true;
}

static void
worker_scan(const ScanShared *shared, const ScanHistory *hist,
			const ScanFile *files, const ScanItem *items, int nitems)
{
	WorkerState ws;
	MemoryContext itemcxt;
	ErrorContextCallback errcb;

	memset(&ws, 0, sizeof(ws));
	ws.shared = shared;
	ws.src = open_source(shared, hist, files);
	itemcxt = AllocSetContextCreate(CurrentMemoryContext, "pitr_restore scan worker item",
									ALLOCSET_DEFAULT_SIZES);
	errcb.callback = item_error_context;
	errcb.arg = NULL;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	for (int k = 0; k < nitems; k++)
	{
		const ScanItem *it = &items[k];
		int64		bytes_before = pitr_segsrc_bytes_read(ws.src);
		MemoryContext old;
		PitrSidecar sc;
		StringInfoData text;

		CHECK_FOR_INTERRUPTS();
		errcb.arg = (void *) it->file.name;
		old = MemoryContextSwitchTo(itemcxt);
		if (summarise_item(&ws, it, &sc))
		{
			initStringInfo(&text);
			pitr_sidecar_format(&sc, &text);
			send_reply(REPLY_SUMMARY, it->index,
					   pitr_segsrc_bytes_read(ws.src) - bytes_before, &text);
		}
		else
			send_reply(REPLY_SKIPPED, it->index,
					   pitr_segsrc_bytes_read(ws.src) - bytes_before, NULL);
		MemoryContextSwitchTo(old);
		MemoryContextReset(itemcxt);
		/* A cancel between items is about no segment. */
		errcb.arg = NULL;
	}
	error_context_stack = errcb.previous;
	pitr_segsrc_close(ws.src);
}

void
pitr_scan_worker_main(Datum arg)
{
	dsm_segment *seg;
	shm_toc    *toc;
	shm_mq	   *mq;
	int			w;
	ScanShared *shared;
	MemoryContext cxt;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	CurrentResourceOwner = ResourceOwnerCreate(NULL, "pitr_restore scan worker");

	seg = dsm_attach(DatumGetUInt32(arg));
	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("could not map the scan's dynamic shared memory segment")));
	toc = shm_toc_attach(SCAN_MAGIC, dsm_segment_address(seg));
	if (toc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("invalid magic number in the scan's dynamic shared memory segment")));
	memcpy(&w, MyBgworkerEntry->bgw_extra, sizeof(int));
	mq = shm_toc_lookup(toc, KEY_QUEUE(w), false);
	shm_mq_set_sender(mq, MyProc);
	worker_mq = shm_mq_attach(mq, seg, NULL);

	/*
	 * From here every message of this worker, an ERROR included, goes to
	 * the backend, which raises it again (bgworker.c reports the ERROR that
	 * ends a worker, then exits).
	 */
	pq_redirect_to_shm_mq(seg, worker_mq);

	cxt = AllocSetContextCreate(TopMemoryContext, "pitr_restore scan worker",
								ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(cxt);
	shared = shm_toc_lookup(toc, KEY_SHARED, false);
	worker_scan(shared, shm_toc_lookup(toc, KEY_HISTORY, false),
				shm_toc_lookup(toc, KEY_FILES, false),
				shm_toc_lookup(toc, KEY_ITEMS(w), false), shared->nitems[w]);

	/* Detaching also stops the redirection, before the queue goes. */
	dsm_detach(seg);
	proc_exit(0);
}
