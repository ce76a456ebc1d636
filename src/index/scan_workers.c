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
 * memory does not grow with the archive.  An ERROR in a worker is sent
 * to the backend as text and reported there; an ERROR or cancel in the
 * backend terminates the workers, and they also stop when the queue's
 * other end detaches.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <unistd.h>

#include "access/xlog_internal.h"
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
#include "walscan.h"

int			pitr_scan_workers = 0;

#define SCAN_MAGIC			0x70697472	/* "pitr" */
#define KEY_SETUP			1
#define KEY_ITEMS(w)		(100 + (w))
#define KEY_QUEUE(w)		(200 + (w))
#define MAX_SCAN_WORKERS	32
#define QUEUE_SIZE			(1024 * 1024)
#define RUN_MAX				512

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
							"0 reads every segment in the scanning backend.  The default is the number of CPUs, at most 8.",
							&pitr_scan_workers,
							dflt, 0, MAX_SCAN_WORKERS,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
}

/* --- the archive's description, as text --- */

void
pitr_scan_setup_archive(StringInfo setup, const char *dir, int segsize,
						uint64 sysid)
{
	appendStringInfo(setup, "%d " UINT64_FORMAT " %d\n%s\n", segsize, sysid,
					 (int) strlen(dir), dir);
}

void
pitr_scan_setup_history(StringInfo setup, TimeLineID tli, TimeLineID parent,
						XLogRecPtr switchpoint)
{
	appendStringInfo(setup, "H %u %u " UINT64_FORMAT "\n", tli, parent,
					 (uint64) switchpoint);
}

void
pitr_scan_setup_file(StringInfo setup, const PitrArchiveFile *f)
{
	appendStringInfo(setup, "F %s " INT64_FORMAT " " INT64_FORMAT "\n",
					 f->name, f->size, f->mtime);
}

static void
append_item(StringInfo s, int i, const PitrScanItem *it)
{
	appendStringInfo(s, "I %d %s " INT64_FORMAT " " INT64_FORMAT " %u %u "
					 UINT64_FORMAT " " UINT64_FORMAT "\n",
					 i, it->file->name, it->file->size, it->file->mtime,
					 it->head.magic, it->head.info, (uint64) it->head.pageaddr,
					 it->head.sysid);
}

/* --- the backend's side --- */

PitrScanPool *
pitr_scan_pool_start(const char *setup, PitrScanItem *items, int nitems,
					 int nworkers)
{
	PitrScanPool *pool;
	shm_toc_estimator e;
	shm_toc    *toc;
	StringInfoData *lists;
	int			run;
	Size		size;
	char	   *p;
	int			started = 0;

	nworkers = Min(nworkers, MAX_SCAN_WORKERS);
	nworkers = Min(nworkers, nitems);
	if (nworkers <= 0)
		return NULL;

	pool = palloc0(sizeof(PitrScanPool));
	pool->items = items;
	pool->nitems = nitems;
	pool->owner = palloc(sizeof(int) * nitems);

	/* Runs of consecutive segments, dealt in turn. */
	run = Min(RUN_MAX, (nitems + nworkers - 1) / nworkers);
	lists = palloc(sizeof(StringInfoData) * nworkers);
	for (int w = 0; w < nworkers; w++)
		initStringInfo(&lists[w]);
	for (int i = 0; i < nitems; i++)
	{
		int			w = (i / run) % nworkers;

		pool->owner[i] = w;
		append_item(&lists[w], i, &items[i]);
	}

	shm_toc_initialize_estimator(&e);
	shm_toc_estimate_chunk(&e, strlen(setup) + 1);
	shm_toc_estimate_keys(&e, 1 + 2 * nworkers);
	for (int w = 0; w < nworkers; w++)
	{
		shm_toc_estimate_chunk(&e, lists[w].len + 1);
		shm_toc_estimate_chunk(&e, QUEUE_SIZE);
	}
	size = shm_toc_estimate(&e);

	pool->seg = dsm_create(size, 0);
	toc = shm_toc_create(SCAN_MAGIC, dsm_segment_address(pool->seg), size);
	p = shm_toc_allocate(toc, strlen(setup) + 1);
	strcpy(p, setup);
	shm_toc_insert(toc, KEY_SETUP, p);
	for (int w = 0; w < nworkers; w++)
	{
		shm_mq	   *mq;

		p = shm_toc_allocate(toc, lists[w].len + 1);
		memcpy(p, lists[w].data, lists[w].len + 1);
		shm_toc_insert(toc, KEY_ITEMS(w), p);
		mq = shm_mq_create(shm_toc_allocate(toc, QUEUE_SIZE), QUEUE_SIZE);
		shm_toc_insert(toc, KEY_QUEUE(w), mq);
		shm_mq_set_receiver(mq, MyProc);
		pool->queues[w] = shm_mq_attach(mq, pool->seg, NULL);
	}

	for (int w = 0; w < nworkers; w++)
	{
		BackgroundWorker worker;

		memset(&worker, 0, sizeof(worker));
		worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
		worker.bgw_start_time = BgWorkerStart_ConsistentState;
		worker.bgw_restart_time = BGW_NEVER_RESTART;
		snprintf(worker.bgw_library_name, BGW_MAXLEN, "pitr_restore");
		snprintf(worker.bgw_function_name, BGW_MAXLEN, "pitr_scan_worker_main");
		snprintf(worker.bgw_name, BGW_MAXLEN, "pitr_restore scan worker %d for PID %d",
				 w, MyProcPid);
		snprintf(worker.bgw_type, BGW_MAXLEN, "pitr_restore scan worker");
		worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(pool->seg));
		memcpy(worker.bgw_extra, &w, sizeof(int));
		worker.bgw_notify_pid = MyProcPid;
		if (!RegisterDynamicBackgroundWorker(&worker, &pool->handles[w]))
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
	Size		len;
	void	   *data;
	char	   *msg;
	char	   *why;
	shm_mq_result r;
	int64		bytes;
	PitrSidecar *sc;

	r = shm_mq_receive(pool->queues[w], &len, &data, false);
	if (r != SHM_MQ_SUCCESS)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("scan worker %d exited before summarising segment \"%s\"",
						w, pool->items[i].file->name),
				 errhint("The server log may say why.")));
	msg = palloc(len + 1);
	memcpy(msg, data, len);
	msg[len] = '\0';

	if (msg[0] == 'E')
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("scan worker %d failed: %s", w, msg + 1)));
	if (len < 1 + sizeof(int64) || (msg[0] != 'O' && msg[0] != 'S'))
		elog(ERROR, "unexpected message from scan worker %d", w);
	memcpy(&bytes, msg + 1, sizeof(int64));
	*bytes_read += bytes;
	if (msg[0] == 'S')
		return false;

	sc = palloc0(sizeof(PitrSidecar));
	if (pitr_sidecar_parse(msg + 1 + sizeof(int64), len - 1 - sizeof(int64), sc,
						   &why) != PITR_SIDECAR_OK ||
		sc->file_name == NULL || strcmp(sc->file_name, pool->items[i].file->name) != 0)
		elog(ERROR, "scan worker %d sent an unreadable summary of \"%s\"",
			 w, pool->items[i].file->name);
	pfree(msg);
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
send_msg(char kind, int64 bytes, const char *text, int len)
{
	StringInfoData m;

	initStringInfo(&m);
	appendStringInfoChar(&m, kind);
	appendBinaryStringInfo(&m, (char *) &bytes, sizeof(int64));
	if (text)
		appendBinaryStringInfo(&m, text, len);
	if (shm_mq_send(worker_mq, m.len, m.data, false, true) != SHM_MQ_SUCCESS)
		proc_exit(0);			/* the backend is gone: nothing to do */
	pfree(m.data);
}

static char *
next_line(char **pos)
{
	char	   *line = *pos;
	char	   *nl;

	if (line == NULL || *line == '\0')
		return NULL;
	nl = strchr(line, '\n');
	if (nl)
	{
		*nl = '\0';
		*pos = nl + 1;
	}
	else
		*pos = line + strlen(line);
	return line;
}

static PitrArchiveFile *
make_file(const char *name, int64 size, int64 mtime)
{
	PitrArchiveFile *f = palloc0(sizeof(PitrArchiveFile));

	if (!pitr_classify_file_name(name, f))
		elog(ERROR, "\"%s\" is not an archive file name", name);
	f->name = pstrdup(name);
	f->size = size;
	f->mtime = mtime;
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

static void
worker_scan(char *setup, char *items)
{
	int			segsize;
	uint64		sysid;
	int			dirlen;
	char	   *dir;
	char	   *pos = setup;
	char	   *line;
	PitrSegmentSource *src;
	TimeLineID	htli = 0;
	List	   *hist = NIL;
	MemoryContext itemcxt;
	PitrArchiveFile *last = NULL;	/* the segment summarised just before */
	XLogRecPtr	last_end = InvalidXLogRecPtr;

	line = next_line(&pos);
	if (line == NULL || sscanf(line, "%d " UINT64_FORMAT " %d", &segsize, &sysid, &dirlen) != 3)
		elog(ERROR, "bad scan setup");
	dir = pnstrdup(pos, dirlen);
	pos += dirlen + 1;

	src = pitr_segsrc_create(dir, segsize);
	if (pitr_source_maybe_tool(dir))
	{
		/* A backup tool's archive: files are where the tool stored them. */
		PitrArchiveSource *as = pitr_source_open(dir);

		if (as->layout != PITR_LAYOUT_FLAT)
			pitr_segsrc_use_source(src, as, pitr_source_list(as));
	}
	while ((line = next_line(&pos)) != NULL)
	{
		if (line[0] == 'H')
		{
			unsigned	tli,
						parent;
			uint64		sw;
			PitrHistoryEntry *e = palloc0(sizeof(PitrHistoryEntry));

			if (sscanf(line, "H %u %u " UINT64_FORMAT, &tli, &parent, &sw) != 3)
				elog(ERROR, "bad scan setup");
			if (tli != htli && hist != NIL)
			{
				pitr_segsrc_set_history(src, htli, hist);
				hist = NIL;
			}
			htli = tli;
			e->tli = parent;
			e->switchpoint = (XLogRecPtr) sw;
			hist = lappend(hist, e);
		}
		else if (line[0] == 'F')
		{
			char		name[MAXPGPATH];
			int64		size,
						mtime;

			if (sscanf(line, "F %1023s " INT64_FORMAT " " INT64_FORMAT, name, &size, &mtime) != 3)
				elog(ERROR, "bad scan setup");
			pitr_segsrc_add(src, make_file(name, size, mtime));
		}
	}
	if (hist != NIL)
		pitr_segsrc_set_history(src, htli, hist);

	itemcxt = AllocSetContextCreate(CurrentMemoryContext, "pitr_restore scan worker item",
									ALLOCSET_DEFAULT_SIZES);
	pos = items;
	while ((line = next_line(&pos)) != NULL)
	{
		char		name[MAXPGPATH];
		int			idx;
		int64		size,
					mtime;
		unsigned	magic,
					info;
		uint64		pageaddr,
					hsysid;
		PitrArchiveFile *f;
		PitrArchiveFile *prev;
		XLogSegNo	segno;
		XLogRecPtr	start = InvalidXLogRecPtr;
		int64		bytes_before = pitr_segsrc_bytes_read(src);
		PitrSidecar sc;
		StringInfoData text;
		MemoryContext old;
		char	   *err;
		int			baselen;

		CHECK_FOR_INTERRUPTS();
		if (sscanf(line, "I %d %1023s " INT64_FORMAT " " INT64_FORMAT " %u %u "
				   UINT64_FORMAT " " UINT64_FORMAT,
				   &idx, name, &size, &mtime, &magic, &info, &pageaddr, &hsysid) != 8)
			elog(ERROR, "bad scan item");
		old = MemoryContextSwitchTo(itemcxt);
		f = make_file(name, size, mtime);
		segno = pitr_file_segno(f, segsize);
		if (f->kind == PITR_FILE_SEGMENT)
		{
			/* The source's own entry: its page cache is keyed by it. */
			PitrArchiveFile *same = pitr_segsrc_find(src, f->tli, segno);

			if (same && strcmp(same->name, f->name) == 0)
				f = same;
		}
		prev = segno > 0 ? pitr_segsrc_find(src, f->tli, segno - 1) : NULL;
		if (prev && last && strcmp(prev->name, last->name) == 0)
			start = last_end;
		else if (prev)
			start = predecessor_end(src, prev, segsize, sysid);

		if (pitr_segsrc_check(src, f, &err) != PITR_READ_OK)
		{
			/* The backend reads it again and records why it is bad. */
			MemoryContextSwitchTo(old);
			MemoryContextReset(itemcxt);
			send_msg('S', pitr_segsrc_bytes_read(src) - bytes_before, NULL, 0);
			last = NULL;
			continue;
		}

		memset(&sc, 0, sizeof(sc));
		sc.version = PITR_SIDECAR_VERSION;
		sc.file_name = f->name;
		sc.file_size = f->size;
		sc.mtime_sec = f->mtime;
		(void) pitr_compression_of_name(f->name, &baselen);
		sc.segment_name = pnstrdup(f->name, baselen);
		sc.compression = f->compression;
		sc.sysid = hsysid;
		sc.magic = magic;
		sc.info = info;
		sc.seg_size = segsize;
		sc.blcksz = XLOG_BLCKSZ;
		sc.pageaddr = (XLogRecPtr) pageaddr;
		sc.prev_file = prev ? prev->name : NULL;
		sc.start = start;
		pitr_segsrc_follow(src, f->tli);
		pitr_segsrc_pin(src, f);
		pitr_summarize_segment(segsize, sysid, pitr_segsrc_get, src, segno,
							   start, &sc.sum);
		pitr_segsrc_pin(src, NULL);

		/* As the serial scan: only a complete segment gives its successor a start. */
		if (f->kind == PITR_FILE_SEGMENT && pitr_segsrc_is_fetched(src, f))
		{
			last = f;			/* the source's, outlives the item */
			last_end = (sc.sum.complete && sc.sum.records > 0) ?
				sc.sum.next_lsn : InvalidXLogRecPtr;
		}
		else
			last = NULL;

		initStringInfo(&text);
		pitr_sidecar_format(&sc, &text);
		MemoryContextSwitchTo(old);
		send_msg('O', pitr_segsrc_bytes_read(src) - bytes_before, text.data, text.len);
		MemoryContextReset(itemcxt);
	}
	pitr_segsrc_close(src);
}

void
pitr_scan_worker_main(Datum arg)
{
	dsm_segment *seg;
	shm_toc    *toc;
	shm_mq	   *mq;
	int			w;
	char	   *setup;
	char	   *items;
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

	cxt = AllocSetContextCreate(TopMemoryContext, "pitr_restore scan worker",
								ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(cxt);
	setup = pstrdup(shm_toc_lookup(toc, KEY_SETUP, false));
	items = pstrdup(shm_toc_lookup(toc, KEY_ITEMS(w), false));

	PG_TRY();
	{
		worker_scan(setup, items);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		send_msg('E', 0, edata->message, strlen(edata->message));
		proc_exit(1);
	}
	PG_END_TRY();

	shm_mq_detach(worker_mq);
	dsm_detach(seg);
	proc_exit(0);
}
