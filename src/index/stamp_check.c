/*-------------------------------------------------------------------------
 *
 * stamp_check.c
 *	  The per-file check of a certified path: every file is looked at
 *	  (fstatat relative to the archive directory, the symlink itself) and
 *	  compared with the stamps the index holds (stamp_cache.c).
 *
 * One fstatat() per file is the floor of the promise, so a long path is
 * shared with background workers: the files are cut into chunks, which
 * the backend and its helpers claim in order from a counter in a small
 * dynamic shared memory segment; the helpers read the stamps in the
 * backend's own segment.  The answer is the first changed file in path
 * order whoever looks: the backend takes over any chunk that no one did,
 * or whose helper is gone, and a helper that never started is not waited
 * for.  Helpers need no database connection and report nothing but their
 * chunks; the backend alone decides.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <unistd.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/resowner.h"

#include "index/stamp_cache.h"
#include "util/gucs.h"
#include "util/worker_launch.h"

/* Below this many files the helpers' start costs more than it saves. */
#define PARALLEL_MIN_FILES	8192
#define CHUNK_FILES			256
#define MAX_HELPERS			7

#define CHUNK_FREE			0
#define CHUNK_BACKEND		1		/* helper h holds it as 2 + h */
#define CHUNK_DONE			PG_UINT32_MAX
#define NOT_FOUND			PG_UINT32_MAX

PGDLLEXPORT void pitr_stamp_helper_main(Datum arg);

/* What the backend shares with its helpers for one check. */
typedef struct CheckShared
{
	dsm_handle	set_handle;		/* the stamps (stamp_cache.c) */
	PGPROC	   *backend;		/* whose latch a finished chunk sets */
	int			nranges;
	uint32		total;			/* files in all ranges */
	uint32		nchunks;
	pg_atomic_uint32 next_chunk;
	pg_atomic_uint32 found;		/* least changed position, or NOT_FOUND */
	char		dir[MAXPGPATH];
	PitrStampRange ranges[FLEXIBLE_ARRAY_MEMBER];
	/* then pg_atomic_uint32 state[nchunks] */
} CheckShared;

static pg_atomic_uint32 *
chunk_state(CheckShared *sh)
{
	return (pg_atomic_uint32 *) ((char *) sh +
								 MAXALIGN(offsetof(CheckShared, ranges) +
										  sh->nranges * sizeof(PitrStampRange)));
}

/* The entry at position pos of the ranges, in order. */
static int
entry_at(const PitrStampRange *ranges, int nranges, uint32 pos)
{
	for (int r = 0; r < nranges; r++)
	{
		uint32		n = (uint32) (ranges[r].hi - ranges[r].lo);

		if (pos < n)
			return ranges[r].lo + (int) pos;
		pos -= n;
	}
	return -1;
}

/*
 * Look at positions [from, to): the first whose file is not as the index
 * says, or NOT_FOUND.
 */
static uint32
check_positions(const PitrStampSet *set, int dirfd,
				const PitrStampRange *ranges, int nranges,
				uint32 from, uint32 to)
{
	for (uint32 pos = from; pos < to; pos++)
	{
		const PitrStampEntry *e = &set->entries[entry_at(ranges, nranges, pos)];
		struct stat st;

		if (fstatat(dirfd, PITR_STAMP_NAME(set, e), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
			!pitr_stamp_matches(set, e, &st))
			return pos;
	}
	return NOT_FOUND;
}

static void
note_found(CheckShared *sh, uint32 pos)
{
	uint32		cur = pg_atomic_read_u32(&sh->found);

	while (pos < cur &&
		   !pg_atomic_compare_exchange_u32(&sh->found, &cur, pos))
		;
}

/* Check chunk c (its state already ours) and mark it done. */
static void
run_chunk(CheckShared *sh, const PitrStampSet *set, int dirfd, uint32 c)
{
	uint32		from = c * CHUNK_FILES;
	uint32		to = Min(sh->total, from + CHUNK_FILES);
	uint32		pos = check_positions(set, dirfd, sh->ranges, sh->nranges,
									  from, to);

	if (pos != NOT_FOUND)
		note_found(sh, pos);
	/* a full barrier: whoever sees it done sees what it found */
	(void) pg_atomic_exchange_u32(&chunk_state(sh)[c], CHUNK_DONE);
}

/* Claim and check chunks in order as owner, until none is left. */
static void
claim_chunks(CheckShared *sh, const PitrStampSet *set, int dirfd,
			 uint32 owner)
{
	for (;;)
	{
		uint32		c;
		uint32		expected = CHUNK_FREE;

		if (pg_atomic_read_u32(&sh->found) != NOT_FOUND)
			return;
		c = pg_atomic_fetch_add_u32(&sh->next_chunk, 1);
		if (c >= sh->nchunks)
			return;
		if (!pg_atomic_compare_exchange_u32(&chunk_state(sh)[c], &expected, owner))
			continue;
		run_chunk(sh, set, dirfd, c);
		if (owner != CHUNK_BACKEND)
			SetLatch(&sh->backend->procLatch);
		else
			CHECK_FOR_INTERRUPTS();
	}
}

/* ---- the helper ---- */

void
pitr_stamp_helper_main(Datum arg)
{
	dsm_segment *control;
	dsm_segment *stamps;
	CheckShared *sh;
	int			h;
	int			dirfd;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	CurrentResourceOwner = ResourceOwnerCreate(NULL, "pitr_restore stamp check");
	memcpy(&h, MyBgworkerEntry->bgw_extra, sizeof(int));

	/* The backend may be done (and gone) already: then so is this. */
	control = dsm_attach(DatumGetUInt32(arg));
	if (control == NULL)
		proc_exit(0);
	sh = dsm_segment_address(control);
	if (pg_atomic_read_u32(&sh->next_chunk) >= sh->nchunks ||
		(stamps = dsm_attach(sh->set_handle)) == NULL)
		proc_exit(0);
	dirfd = open(sh->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		proc_exit(0);
	claim_chunks(sh, dsm_segment_address(stamps), dirfd, 2 + h);
	close(dirfd);
	SetLatch(&sh->backend->procLatch);
	proc_exit(0);
}

/* ---- the backend ---- */

/*
 * Helpers for a long path: pitr_restore.scan_workers (0: none), and no
 * more than the CPUs beside this backend's own.
 */
static int
helpers_wanted(void)
{
	long		ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	return Max(0, Min(Min(pitr_scan_workers, (int) ncpu - 1), MAX_HELPERS));
}

static int
start_helpers(dsm_segment *control, BackgroundWorkerHandle **handles)
{
	int			want = helpers_wanted();
	int			n = 0;

	for (int h = 0; h < want; h++)
	{
		if (!pitr_launch_worker("pitr_stamp_helper_main",
								"pitr_restore stamp check", h, control,
								&handles[n]))
			break;				/* no slot free: the backend does more */
		n++;
	}
	return n;
}

static bool
helper_gone(BackgroundWorkerHandle **handles, int nhelpers, uint32 state)
{
	pid_t		pid;
	int			h = (int) state - 2;

	if (h < 0 || h >= nhelpers)
		return true;
	return GetBackgroundWorkerPid(handles[h], &pid) == BGWH_STOPPED;
}

/*
 * After the backend's own claims: every chunk before the first change is
 * done, by a helper or here (one no one claimed, or whose helper is gone).
 */
static void
finish_chunks(CheckShared *sh, const PitrStampSet *set, int dirfd,
			  BackgroundWorkerHandle **handles, int nhelpers)
{
	pg_atomic_uint32 *state = chunk_state(sh);

	for (uint32 c = 0; c < sh->nchunks; c++)
	{
		for (;;)
		{
			uint32		s = pg_atomic_read_u32(&state[c]);
			uint32		expected = s;

			if (s == CHUNK_DONE ||
				c * CHUNK_FILES >= pg_atomic_read_u32(&sh->found))
				break;
			if ((s == CHUNK_FREE || helper_gone(handles, nhelpers, s)) &&
				pg_atomic_compare_exchange_u32(&state[c], &expected, CHUNK_BACKEND))
			{
				run_chunk(sh, set, dirfd, c);
				break;
			}
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 1L, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
	}
}

static dsm_segment *
make_control(dsm_segment *stamps, const char *dir,
			 const PitrStampRange *ranges, int nranges, uint32 total)
{
	uint32		nchunks = (total + CHUNK_FILES - 1) / CHUNK_FILES;
	Size		head = MAXALIGN(offsetof(CheckShared, ranges) +
								nranges * sizeof(PitrStampRange));
	dsm_segment *control = dsm_create(head + nchunks * sizeof(pg_atomic_uint32), 0);
	CheckShared *sh = dsm_segment_address(control);

	sh->set_handle = dsm_segment_handle(stamps);
	sh->backend = MyProc;
	sh->nranges = nranges;
	sh->total = total;
	sh->nchunks = nchunks;
	pg_atomic_init_u32(&sh->next_chunk, 0);
	pg_atomic_init_u32(&sh->found, NOT_FOUND);
	strlcpy(sh->dir, dir, MAXPGPATH);
	memcpy(sh->ranges, ranges, nranges * sizeof(PitrStampRange));
	for (uint32 c = 0; c < nchunks; c++)
		pg_atomic_init_u32(&chunk_state(sh)[c], CHUNK_FREE);
	return control;
}

/* The backend is done (or failed): helpers claim nothing more. */
static void
stop_helpers(dsm_segment *control, Datum arg)
{
	CheckShared *sh = (CheckShared *) DatumGetPointer(arg);

	pg_atomic_write_u32(&sh->next_chunk, sh->nchunks);
}

/* The long path: shared with helpers; NOT_FOUND or the first change. */
static uint32
check_parallel(const PitrStampSet *set, dsm_segment *stamps, int dirfd,
			   const char *dir, const PitrStampRange *ranges, int nranges,
			   uint32 total)
{
	dsm_segment *control = make_control(stamps, dir, ranges, nranges, total);
	CheckShared *sh = dsm_segment_address(control);
	BackgroundWorkerHandle *handles[MAX_HELPERS];
	int			nhelpers;
	uint32		found;

	on_dsm_detach(control, stop_helpers, PointerGetDatum(sh));
	nhelpers = start_helpers(control, handles);
	claim_chunks(sh, set, dirfd, CHUNK_BACKEND);
	finish_chunks(sh, set, dirfd, handles, nhelpers);
	pg_memory_barrier();
	found = pg_atomic_read_u32(&sh->found);
	for (int h = 0; h < nhelpers; h++)
		pfree(handles[h]);
	dsm_detach(control);
	return found;
}

const char *
pitr_stamp_check_ranges(const PitrStampSet *set, dsm_segment *seg,
						const char *dir, const PitrStampRange *ranges,
						int nranges)
{
	uint32		total = 0;
	uint32		found = NOT_FOUND;
	int			dirfd;

	for (int r = 0; r < nranges; r++)
		total += (uint32) (ranges[r].hi - ranges[r].lo);
	if (total == 0)
		return NULL;
	dirfd = OpenTransientFile(dir, O_RDONLY | O_DIRECTORY);
	if (dirfd < 0)				/* the directory is gone: so are its files */
		return PITR_STAMP_NAME(set, &set->entries[ranges[0].lo]);

	if (seg != NULL && total >= PARALLEL_MIN_FILES && helpers_wanted() > 0)
		found = check_parallel(set, seg, dirfd, dir, ranges, nranges, total);
	else
	{
		for (uint32 from = 0; from < total && found == NOT_FOUND;
			 from += CHUNK_FILES)
		{
			CHECK_FOR_INTERRUPTS();
			found = check_positions(set, dirfd, ranges, nranges, from,
									Min(total, from + CHUNK_FILES));
		}
	}
	CloseTransientFile(dirfd);
	if (found == NOT_FOUND)
		return NULL;
	return PITR_STAMP_NAME(set, &set->entries[entry_at(ranges, nranges, found)]);
}
