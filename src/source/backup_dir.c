/*-------------------------------------------------------------------------
 *
 * backup_dir.c
 *	  The directory of base backups (pitr_restore.backup_dir): one
 *	  pg_basebackup run per subdirectory, plain or tar (optionally gzip,
 *	  lz4 or zstd compressed), described from its backup_label, PG_VERSION,
 *	  pg_control and backup_manifest (parsed by format/).
 *
 * A backup that cannot be used is still listed, with a reason, so that a
 * DBA sees why it was passed over; only an unreadable backup directory
 * itself is an ERROR.  Tar files are read with tar_reader.c, in its mode
 * that reports failures instead of raising them.
 *
 * The WAL segments a backup carries in its own pg_wal (-X fetch or
 * -X stream) are listed too: recovery reads them when restore_command
 * cannot fetch a segment (see carried_wal below).
 *
 * Incremental backups (PostgreSQL 17+) are linked to the backups they build
 * on (pitr_link_backup_chains): usable only with their whole chain.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/xlog_internal.h"
#include "access/xlogrecord.h"
#include "catalog/pg_control.h"
#include "miscadmin.h"
#include "port/pg_crc32c.h"
#include "storage/fd.h"
#include "utils/memutils.h"

#include "archive_files.h"
#include "backup.h"
#include "backup_dir.h"
#include "tar_reader.h"
#include "util/dir_reader.h"

/* Size limits for the files we read whole. */
#define MAX_LABEL_SIZE		(1024 * 1024)
#define MAX_VERSION_SIZE	1024
#define MAX_CONTROL_SIZE	(64 * 1024)
#define MAX_MANIFEST_SIZE	((size_t) MaxAllocSize - 1)

/* Deeper than any data directory: stop runaway recursion. */
#define MAX_DIR_DEPTH		64

/* read() size for the files read whole */
#define FILE_READ_CHUNK		(256 * 1024)

/* The members of a base backup we read. */
typedef enum BackupMember
{
	BM_LABEL,
	BM_VERSION,
	BM_CONTROL,
	BM_COUNT
} BackupMember;

static const char *const member_names[BM_COUNT] = {
	"backup_label",
	"PG_VERSION",
	"global/pg_control",
};

static const size_t member_limits[BM_COUNT] = {
	MAX_LABEL_SIZE,
	MAX_VERSION_SIZE,
	MAX_CONTROL_SIZE,
};

/* The base.tar of a tar-format backup, by compression. */
static const struct
{
	const char *file;
	const char *format;
	const char *compression;
}			tar_kinds[] = {
	{"base.tar", "tar", "none"},
	{"base.tar.gz", "tar.gz", "gzip"},
	{"base.tar.zst", "tar.zst", "zstd"},
	{"base.tar.lz4", "tar.lz4", "lz4"},
};

typedef struct MemberData
{
	char	   *data[BM_COUNT];	/* NUL-terminated, NULL when not found */
	size_t		len[BM_COUNT];
} MemberData;

/* Record why a backup cannot be used; the first reason found wins. */
static void
set_problem(PitrBackup *b, const char *msg)
{
	if (b->problem == NULL)
		b->problem = MemoryContextStrdup(GetMemoryChunkContext(b), msg);
}

/*
 * Read a whole file of at most maxlen bytes into a palloc'd, NUL-terminated
 * buffer.  Returns false with a palloc'd *err instead of raising an ERROR.
 */
static bool
read_whole_file(const char *path, size_t maxlen, char **data, size_t *len,
				char **err)
{
	int64		n = 0;
	int			err_no;

	*data = pitr_read_whole_file(path, "file", (int64) maxlen, &n, &err_no, err);
	*len = (size_t) n;
	return *data != NULL;
}

static bool
is_regular_file(const char *path)
{
	struct stat st;

	/* lstat: a link or a FIFO in its place is not taken for the file */
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/*
 * Add the sizes of the regular files under "path" to *bytes.  Symbolic
 * links (tablespaces of a plain backup) are not followed.
 */
static void
add_dir_bytes(const char *path, int depth, int64 *bytes, PitrBackup *b)
{
	List	   *names;
	char	   *err = NULL;
	ListCell   *lc;

	if (depth > MAX_DIR_DEPTH)
		return;
	names = pitr_read_dir(path, NULL, 0, &err);
	if (err != NULL)
	{
		set_problem(b, err);
		return;
	}
	foreach(lc, names)
	{
		char	   *child = psprintf("%s/%s", path, (char *) lfirst(lc));
		struct stat st;

		if (lstat(child, &st) == 0)
		{
			if (S_ISREG(st.st_mode))
				*bytes += st.st_size;
			else if (S_ISDIR(st.st_mode))
				add_dir_bytes(child, depth + 1, bytes, b);
		}
		pfree(child);
	}
}

/* An entry name as pg_basebackup writes it, with any leading "./" gone. */
static int
match_member(const char *name)
{
	if (name == NULL)
		return -1;
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	for (int i = 0; i < BM_COUNT; i++)
		if (strcmp(name, member_names[i]) == 0)
			return i;
	return -1;
}

/*
 * Read backup_label, PG_VERSION and global/pg_control out of a tar file.
 * Stops as soon as all three are in; pg_control comes last in a
 * pg_basebackup tar, so usually the whole file is read (or, uncompressed,
 * seeked through).  With "label_only", stops at backup_label, which comes
 * first.  Returns false with *err on a tar that cannot be read.
 */
static bool
read_tar_members(const char *path, const char *compression, MemberData *md,
				 bool label_only, char **err)
{
	PitrTarReader *r;
	struct archive_entry *entry;
	int			nfound = 0;

	*err = NULL;
	r = pitr_tar_open(path, compression, PITR_TAR_SEEK | PITR_TAR_NOERROR);
	while (nfound < BM_COUNT && !(label_only && md->data[BM_LABEL] != NULL) &&
		   pitr_tar_next(r, &entry))
	{
		int			which = match_member(archive_entry_pathname(entry));
		size_t		size;
		char	   *data;

		if (which < 0 || md->data[which] != NULL ||
			archive_entry_filetype(entry) != AE_IFREG)
			continue;

		if (archive_entry_size(entry) < 0 ||
			(uint64) archive_entry_size(entry) > member_limits[which])
		{
			*err = psprintf("\"%s\" in \"%s\" is larger than %zu bytes",
							member_names[which], path, member_limits[which]);
			break;
		}
		size = (size_t) archive_entry_size(entry);
		data = palloc(size + 1);
		if (!pitr_tar_read(r, member_names[which], data, size))
			break;
		data[size] = '\0';
		md->data[which] = data;
		md->len[which] = size;
		nfound++;
	}
	if (*err == NULL && pitr_tar_error(r) != NULL)
		*err = pstrdup(pitr_tar_error(r));
	pitr_tar_close(r);
	return *err == NULL;
}

/* The major version in PG_VERSION: "15", or "9.6" before version 10. */
static int
parse_pg_version(const char *data)
{
	int			v = 0;
	const char *p = data;

	while (*p >= '0' && *p <= '9' && v < 100000)
		v = v * 10 + (*p++ - '0');
	if (p == data || (*p != '\0' && *p != '\n' && *p != '\r' && *p != '.'))
		return 0;
	return v;
}

/*
 * Take the system identifier from pg_control, after checking its CRC.
 * The identifier leads pg_control in every version; the CRC's position is
 * only known for our own layout.
 */
static void
read_pg_control(const char *data, size_t len, PitrBackup *b, int *segsize)
{
	ControlFileData cf;
	pg_crc32c	crc;

	if (len < sizeof(ControlFileData))
	{
		set_problem(b, "global/pg_control is too short");
		return;
	}
	memcpy(&cf, data, sizeof(ControlFileData));
	if (cf.pg_control_version != PG_CONTROL_VERSION)
	{
		if (b->pg_version == PG_MAJORVERSION_NUM)
		{
			char	   *msg = psprintf("global/pg_control has version %u, but %u was expected",
									   cf.pg_control_version,
									   PG_CONTROL_VERSION);

			set_problem(b, msg);
		}
		b->system_identifier = cf.system_identifier;
		return;
	}

	INIT_CRC32C(crc);
	COMP_CRC32C(crc, data, offsetof(ControlFileData, crc));
	FIN_CRC32C(crc);
	if (!EQ_CRC32C(crc, cf.crc))
	{
		set_problem(b, "incorrect checksum in global/pg_control");
		return;
	}
	b->system_identifier = cf.system_identifier;
	*segsize = (int) cf.xlog_seg_size;
}

/*
 * WAL carried in the backup's own pg_wal.
 *
 * PostgreSQL 15's recovery (xlogrecovery.c, XLogFileReadAnyTLI) looks for
 * each segment on each timeline of its history, newest first, in the
 * archive (restore_command) and then, when restore_command fails, in
 * pg_wal.  So a segment that the archive does not have at all but the
 * backup carries is read from the backup.  The resolver counts such a
 * segment for that backup only, between its start and its stop.
 *
 * Listed: full-size segment files from the segment of the start to the
 * one holding the stop.  That last one only when recovery can go on past
 * the stop in it: the stop ends the segment, or the record at the stop is
 * the XLOG_SWITCH a primary writes right after the end-of-backup record
 * (a streamed copy may end at the stop; recovery would then end there).
 */

/* Is "name" a segment of the backup's start..stop, and is it the stop's? */
static bool
carried_candidate(const PitrBackup *b, int segsize, const char *name,
				  bool *holds_stop)
{
	TimeLineID	tli;
	XLogSegNo	segno,
				first,
				last;

	if (strlen(name) != XLOG_FNAME_LEN || !IsXLogFileName(name))
		return false;
	XLogFromFileName(name, &tli, &segno, segsize);
	XLByteToSeg(b->start_lsn, first, segsize);
	XLByteToPrevSeg(b->stop_lsn, last, segsize);
	if (segno < first || segno > last)
		return false;
	*holds_stop = (segno == last && XLogSegmentOffset(b->stop_lsn, segsize) != 0);
	return true;
}

/* The page of a segment file that holds the stop, by its offset. */
static uint32
stop_page_offset(const PitrBackup *b, int segsize)
{
	uint32		off = XLogSegmentOffset(b->stop_lsn, segsize);

	return off - off % XLOG_BLCKSZ;
}

/*
 * Does the page holding the stop have an XLOG_SWITCH record, CRC-valid,
 * right at the stop?  The page address check rules out a recycled file.
 */
static bool
switch_at_stop(const PitrBackup *b, const char *page)
{
	XLogPageHeaderData ph;
	XLogRecPtr	pageptr = b->stop_lsn - b->stop_lsn % XLOG_BLCKSZ;
	uint32		off = b->stop_lsn % XLOG_BLCKSZ;
	XLogRecord	rec;
	pg_crc32c	crc;

	memcpy(&ph, page, SizeOfXLogShortPHD);
	if (ph.xlp_magic != XLOG_PAGE_MAGIC || ph.xlp_pageaddr != pageptr)
		return false;
	if (off == 0)				/* the next record follows the page header */
		off = (ph.xlp_info & XLP_LONG_HEADER) ? SizeOfXLogLongPHD : SizeOfXLogShortPHD;
	if (off + SizeOfXLogRecord > XLOG_BLCKSZ)
		return false;
	memset(&rec, 0, sizeof(rec));
	memcpy(&rec, page + off, SizeOfXLogRecord);
	if (rec.xl_tot_len != SizeOfXLogRecord || rec.xl_rmid != RM_XLOG_ID ||
		(rec.xl_info & ~XLR_INFO_MASK) != XLOG_SWITCH)
		return false;
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, &rec, offsetof(XLogRecord, xl_crc));
	FIN_CRC32C(crc);
	return EQ_CRC32C(crc, rec.xl_crc);
}

/* One page of a plain file at "offset"; false if it cannot be had. */
static bool
read_file_page(const char *path, uint32 offset, char *page)
{
	int			fd;
	struct stat st;
	ssize_t		n;

	fd = OpenTransientFile(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | PG_BINARY);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
	{
		CloseTransientFile(fd);
		return false;
	}
	n = pg_pread(fd, page, XLOG_BLCKSZ, offset);
	CloseTransientFile(fd);
	return n == XLOG_BLCKSZ;
}

/* Segments in a plain backup's pg_wal directory (never a link's target). */
static List *
carried_from_dir(const PitrBackup *b, int segsize)
{
	char	   *waldir = psprintf("%s/pg_wal", b->location);
	List	   *names = NIL;
	struct stat st;
	char	   *err;
	ListCell   *lc;

	if (lstat(waldir, &st) != 0 || !S_ISDIR(st.st_mode))
		return NIL;
	foreach(lc, pitr_read_dir(waldir, NULL, 0, &err))
	{
		const char *name = lfirst(lc);
		char	   *path;
		bool		holds_stop;
		char		page[XLOG_BLCKSZ];

		if (!carried_candidate(b, segsize, name, &holds_stop))
			continue;
		path = psprintf("%s/%s", waldir, name);
		if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
			st.st_size != segsize)
			continue;
		if (holds_stop &&
			!(read_file_page(path, stop_page_offset(b, segsize), page) &&
			  switch_at_stop(b, page)))
			continue;
		names = lappend(names, pstrdup(name));
	}
	return names;
}

/*
 * Segments in a tar: pg_wal.tar's members (-X stream, prefix "") or
 * base.tar's pg_wal/ members (-X fetch, prefix "pg_wal/").  A tar that
 * cannot be read carries nothing here; restore building reports it.
 */
static List *
carried_from_tar(const PitrBackup *b, int segsize, const char *path,
				 const char *compression, const char *prefix)
{
	PitrTarReader *r;
	struct archive_entry *entry;
	List	   *names = NIL;
	size_t		plen = strlen(prefix);

	r = pitr_tar_open(path, compression, PITR_TAR_SEEK | PITR_TAR_NOERROR);
	while (pitr_tar_next(r, &entry))
	{
		const char *name = archive_entry_pathname(entry);
		bool		holds_stop;

		CHECK_FOR_INTERRUPTS();
		if (name == NULL || archive_entry_filetype(entry) != AE_IFREG ||
			archive_entry_size(entry) != segsize)
			continue;
		while (name[0] == '.' && name[1] == '/')
			name += 2;
		if (strncmp(name, prefix, plen) != 0 ||
			!carried_candidate(b, segsize, name + plen, &holds_stop))
			continue;
		if (holds_stop)
		{
			uint32		want = stop_page_offset(b, segsize);
			char		page[XLOG_BLCKSZ];
			size_t		have = 0;
			const void *block;
			size_t		size;
			int64		offset;

			/* copy the page holding the stop out of the member's blocks */
			while (have < XLOG_BLCKSZ &&
				   pitr_tar_read_block(r, &block, &size, &offset))
			{
				int64		lo = Max(offset, (int64) want + (int64) have);
				int64		hi = Min(offset + (int64) size, (int64) want + XLOG_BLCKSZ);

				CHECK_FOR_INTERRUPTS();
				if (lo != (int64) want + (int64) have || hi <= lo)
					continue;
				memcpy(page + have, (const char *) block + (lo - offset), hi - lo);
				have += hi - lo;
			}
			if (have < XLOG_BLCKSZ || !switch_at_stop(b, page))
				continue;
		}
		names = lappend(names, pstrdup(name + plen));
	}
	pitr_tar_close(r);
	return names;
}

static int
carried_cmp(const ListCell *a, const ListCell *b)
{
	return strcmp((const char *) lfirst(a), (const char *) lfirst(b));
}

/* The carried segments of a backup in "format", sorted by name. */
static List *
carried_wal(const PitrBackup *b, int segsize)
{
	static const struct
	{
		const char *suffix;
		const char *compression;
	}			kinds[] = {
		{"", "none"}, {".gz", "gzip"}, {".lz4", "lz4"}, {".zst", "zstd"},
	};
	List	   *names = NIL;

	if (b->format == NULL || XLogRecPtrIsInvalid(b->start_lsn) ||
		XLogRecPtrIsInvalid(b->stop_lsn) || b->stop_lsn < b->start_lsn ||
		!IsValidWalSegSize(segsize))
		return NIL;
	if (strcmp(b->format, "plain") == 0)
		names = carried_from_dir(b, segsize);
	else
	{
		const char *suffix = b->format + strlen("tar");
		const char *compression = NULL;
		bool		streamed = false;

		for (int i = 0; i < lengthof(kinds); i++)
			if (strcmp(kinds[i].suffix, suffix) == 0)
				compression = kinds[i].compression;
		/* -X stream: pg_wal.tar, compressed its own way or not */
		for (int i = 0; i < lengthof(kinds) && !streamed; i++)
		{
			char	   *path = psprintf("%s/pg_wal.tar%s", b->location,
										kinds[i].suffix);

			if (is_regular_file(path))
			{
				names = carried_from_tar(b, segsize, path,
										 kinds[i].compression, "");
				streamed = true;
			}
		}
		/* -X fetch: pg_wal/ inside base.tar */
		if (!streamed && compression != NULL)
			names = carried_from_tar(b, segsize,
									 psprintf("%s/base.tar%s", b->location, suffix),
									 compression, "pg_wal/");
	}
	list_sort(names, carried_cmp);
	return names;
}

/*
 * The members a backup is judged by (backup_label, pg_control,
 * PG_VERSION): files of a plain backup, members of a tar one's base.tar.
 * Sets b->format (in resultcxt); what cannot be read is b's problem.
 */
static void
read_backup_members(PitrBackup *b, MemberData *md, MemoryContext resultcxt)
{
	char	   *path = psprintf("%s/backup_label", b->location);
	char	   *err = NULL;
	int			kind = -1;

	memset(md, 0, sizeof(*md));
	if (is_regular_file(path))
	{
		b->format = MemoryContextStrdup(resultcxt, "plain");
		for (int i = 0; i < BM_COUNT; i++)
		{
			path = psprintf("%s/%s", b->location, member_names[i]);
			if (!read_whole_file(path, member_limits[i], &md->data[i],
								 &md->len[i], &err))
				set_problem(b, err);
		}
		return;
	}
	for (int i = 0; i < lengthof(tar_kinds) && kind < 0; i++)
	{
		path = psprintf("%s/%s", b->location, tar_kinds[i].file);
		if (is_regular_file(path))
			kind = i;
	}
	if (kind < 0)
	{
		set_problem(b, "no backup_label, base.tar, base.tar.gz, base.tar.lz4 or base.tar.zst found");
		return;
	}
	b->format = MemoryContextStrdup(resultcxt, tar_kinds[kind].format);
	if (!read_tar_members(path, tar_kinds[kind].compression, md, false, &err))
	{
		set_problem(b, err);
		return;
	}
	for (int i = 0; i < BM_COUNT; i++)
		if (md->data[i] == NULL)
			set_problem(b, psprintf("%s contains no %s",
									tar_kinds[kind].file, member_names[i]));
}

/* PG_VERSION: only backups of the running server's major version. */
static void
check_pg_version(PitrBackup *b, const char *version)
{
	b->pg_version = parse_pg_version(version);
	if (b->pg_version == 0)
		set_problem(b, "PG_VERSION is not valid");
	else if (b->pg_version != PG_MAJORVERSION_NUM)
		set_problem(b, psprintf("backup is from PostgreSQL %d, but only PostgreSQL %d backups are supported",
								b->pg_version, PG_MAJORVERSION_NUM));
}

/*
 * backup_label: what it says (parsed into b, in resultcxt), and that
 * recovery reads the same from it, not only that we could.
 */
static void
read_label(PitrBackup *b, const char *label, size_t len,
		   MemoryContext resultcxt)
{
	MemoryContext scancxt = MemoryContextSwitchTo(resultcxt);
	char	   *err = NULL;
	bool		ok = pitr_parse_backup_label(label, len, b, &err);
	XLogRecPtr	redo,
				ckpt;
	TimeLineID	tli;

	MemoryContextSwitchTo(scancxt);
	if (!ok)
		set_problem(b, psprintf("backup_label is not valid: %s", err));
	else if (!pitr_backup_label_recovery_reads(label, len, &redo, &tli,
											   &ckpt, &err))
		set_problem(b, psprintf("recovery would refuse its backup_label: %s", err));
	else if (redo != b->start_lsn || tli != b->start_tli ||
			 ckpt != b->checkpoint_lsn)
		set_problem(b, psprintf("recovery would read its backup_label differently: start %X/%X on timeline %u, checkpoint %X/%X",
								LSN_FORMAT_ARGS(redo), tli,
								LSN_FORMAT_ARGS(ckpt)));
}

/*
 * backup_manifest, when there is one (a regular file, else a problem).  It
 * sets only scalar fields of b, so it is parsed in the scratch context.
 */
static void
read_backup_manifest_file(PitrBackup *b)
{
	char	   *path = psprintf("%s/backup_manifest", b->location);
	struct stat st;
	char	   *data;
	size_t		len;
	char	   *err = NULL;

	if (!is_regular_file(path))
	{
		if (lstat(path, &st) == 0)
			set_problem(b, psprintf("\"%s\" is not a regular file", path));
		return;
	}
	if (!read_whole_file(path, MAX_MANIFEST_SIZE, &data, &len, &err) ||
		!pitr_parse_backup_manifest(data, len, b, NULL, &err))
		set_problem(b, err);
}

/* Look at one subdirectory of the backup directory. */
static PitrBackup *
scan_one_backup(const char *parent, const char *name)
{
	MemoryContext resultcxt = CurrentMemoryContext;
	MemoryContext scancxt;
	PitrBackup *b;
	DIR		   *dir;
	MemberData	md;
	int64		bytes = 0;
	int			segsize = 0;
	List	   *carried;
	ListCell   *lc;

	b = palloc0(sizeof(PitrBackup));
	b->name = pstrdup(name);
	b->location = psprintf("%s/%s", parent, name);

	/* say so plainly when the directory is unreadable as a whole */
	dir = AllocateDir(b->location);
	if (dir == NULL)
	{
		char	   *msg = psprintf("could not open directory \"%s\": %m",
								   b->location);

		set_problem(b, msg);
		pfree(msg);
		return b;
	}
	FreeDir(dir);

	/* file contents and messages are scratch; only "b" is kept */
	scancxt = AllocSetContextCreate(CurrentMemoryContext,
									"pitr_restore backup scan",
									ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(scancxt);

	read_backup_members(b, &md, resultcxt);
	if (md.data[BM_VERSION] != NULL)
		check_pg_version(b, md.data[BM_VERSION]);
	if (md.data[BM_CONTROL] != NULL)
		read_pg_control(md.data[BM_CONTROL], md.len[BM_CONTROL], b, &segsize);
	if (md.data[BM_LABEL] != NULL)
		read_label(b, md.data[BM_LABEL], md.len[BM_LABEL], resultcxt);
	read_backup_manifest_file(b);

	add_dir_bytes(b->location, 0, &bytes, b);
	b->bytes = bytes;

	/* after the manifest: a tar backup's stop comes from its WAL-Ranges */
	carried = carried_wal(b, segsize);

	MemoryContextSwitchTo(resultcxt);
	foreach(lc, carried)
		b->wal_carried = lappend(b->wal_carried, pstrdup(lfirst(lc)));
	MemoryContextDelete(scancxt);
	return b;
}

/*
 * Incremental backups (PostgreSQL 17+) and their chains.
 *
 * An incremental backup is usable only with every backup it builds on, down
 * to a full one: pg_combinebackup takes them oldest first and checks, as we
 * do here, that each one's INCREMENTAL FROM LSN and TLI are the start LSN
 * and timeline of the one before it, and that all share one system
 * identifier.  A backup whose chain lacks a link, or has one that cannot be
 * used, gets a problem naming that link, so that everything that skips
 * unusable backups (resolve_target, recovery_windows, check_archive) skips
 * it too.
 */

int
pitr_backup_start_order(XLogRecPtr a_start, const char *a_name,
						XLogRecPtr b_start, const char *b_name)
{
	if (a_start != b_start)
		return a_start < b_start ? -1 : 1;
	return strcmp(a_name, b_name);
}

static int
start_cmp(const ListCell *a, const ListCell *b)
{
	const PitrBackup *x = lfirst(a);
	const PitrBackup *y = lfirst(b);

	return pitr_backup_start_order(x->start_lsn, x->name, y->start_lsn, y->name);
}

/* Does "p" have the start "b" builds on? */
static bool
builds_on(const PitrBackup *b, const PitrBackup *p)
{
	return p != b && p->location != NULL &&
		p->start_lsn == b->incremental_from_lsn &&
		p->start_tli == b->incremental_from_tli &&
		(p->system_identifier == 0 || b->system_identifier == 0 ||
		 p->system_identifier == b->system_identifier);
}

/* Link one backup to its chain, its candidates already linked. */
static void
link_one(PitrBackup *b, List *by_start)
{
	PitrBackup *unusable = NULL;
	ListCell   *lc;

	if (b->problem != NULL || b->location == NULL)
		return;
	if (b->incremental_from_lsn == InvalidXLogRecPtr)
	{
		b->chain = list_make1(pstrdup(b->location));
		return;
	}
	foreach(lc, by_start)
	{
		PitrBackup *p = lfirst(lc);

		if (!builds_on(b, p))
			continue;
		if (p->chain != NIL)
		{
			b->incremental_from = pstrdup(p->location);
			b->chain = lappend(list_copy(p->chain), pstrdup(b->location));
			return;
		}
		if (unusable == NULL)
			unusable = p;
	}
	if (unusable != NULL)
		set_problem(b, psprintf("its chain is broken: the backup it builds on, \"%s\", cannot be used: %s",
								unusable->location,
								unusable->problem ? unusable->problem :
								"it has no usable chain"));
	else
		set_problem(b, psprintf("its chain is broken: the backup it builds on, started at %X/%X on timeline %u, is not in the backup directory",
								LSN_FORMAT_ARGS(b->incremental_from_lsn),
								b->incremental_from_tli));
}

/* See backup_dir.h. */
void
pitr_link_backup_chains(List *backups)
{
	List	   *by_start = list_copy(backups);
	ListCell   *lc;

	/* a backup builds only on one that started earlier: parents first */
	list_sort(by_start, start_cmp);
	foreach(lc, by_start)
		link_one(lfirst(lc), by_start);
	list_free(by_start);
}

/* See backup_dir.h. */
PitrBackup *
pitr_find_backup(List *backups, const char *location)
{
	ListCell   *lc;

	foreach(lc, backups)
	{
		PitrBackup *b = lfirst(lc);

		if (b->location != NULL && strcmp(b->location, location) == 0)
			return b;
	}
	return NULL;
}

/*
 * Only what a backup's backup_label says (its start and the backup it
 * builds on), read cheaply: a tar's backup_label is its first member, so a
 * compressed tar is not decompressed whole.  Unreadable: start invalid.
 */
static PitrBackup *
scan_label_only(const char *parent, const char *name)
{
	PitrBackup *b = palloc0(sizeof(PitrBackup));
	MemberData	md;
	char	   *path;
	char	   *err;

	b->name = pstrdup(name);
	b->location = psprintf("%s/%s", parent, name);
	memset(&md, 0, sizeof(md));
	path = psprintf("%s/backup_label", b->location);
	if (is_regular_file(path))
		(void) read_whole_file(path, MAX_LABEL_SIZE, &md.data[BM_LABEL],
							   &md.len[BM_LABEL], &err);
	for (int i = 0; i < lengthof(tar_kinds) && md.data[BM_LABEL] == NULL; i++)
	{
		path = psprintf("%s/%s", b->location, tar_kinds[i].file);
		if (is_regular_file(path))
			(void) read_tar_members(path, tar_kinds[i].compression, &md, true,
									&err);
	}
	if (md.data[BM_LABEL] == NULL ||
		!pitr_parse_backup_label(md.data[BM_LABEL], md.len[BM_LABEL], b, &err))
		b->start_lsn = InvalidXLogRecPtr;
	return b;
}

/* The subdirectories of "absdir" (hidden ones skipped), sorted. */
static List *
backup_names(const char *absdir, const char *dir)
{
	List	   *names = NIL;
	ListCell   *lc;

	/* hidden ones such as .snapshot are skipped */
	foreach(lc, pitr_read_dir(absdir, NULL,
							  PITR_DIR_SKIP_HIDDEN | PITR_DIR_SORTED, NULL))
	{
		char	   *path = psprintf("%s/%s", absdir, (char *) lfirst(lc));
		struct stat st;

		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			names = lappend(names, lfirst(lc));
		pfree(path);
	}
	return names;
}

static char *
absolute_backup_dir(const char *dir)
{
	char	   *absdir;

	if (is_absolute_path(dir))
		absdir = pstrdup(dir);
	else
		absdir = psprintf("%s/%s", DataDir, dir);
	canonicalize_path(absdir);
	return absdir;
}

/* See backup_dir.h. */
List *
pitr_scan_backup_dir(const char *dir)
{
	char	   *absdir = absolute_backup_dir(dir);
	List	   *names = backup_names(absdir, dir);
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, names)
	{
		CHECK_FOR_INTERRUPTS();
		result = lappend(result, scan_one_backup(absdir, lfirst(lc)));
	}
	list_free_deep(names);
	pitr_link_backup_chains(result);
	return result;
}

/*
 * See backup_dir.h.  Every backup_label is read (cheaply), and only the
 * backups that could be links of the chain are scanned in full: the one
 * at "location" and, transitively, every backup that started where one of
 * them says it builds on.
 */
List *
pitr_scan_backup_chain(const char *dir, const char *location)
{
	char	   *absdir = absolute_backup_dir(dir);
	List	   *names = backup_names(absdir, dir);
	List	   *labels = NIL;
	List	   *wanted = NIL;
	List	   *result = NIL;
	bool		grew = true;
	ListCell   *lc;

	foreach(lc, names)
	{
		CHECK_FOR_INTERRUPTS();
		labels = lappend(labels, scan_label_only(absdir, lfirst(lc)));
	}
	foreach(lc, labels)
		if (strcmp(((PitrBackup *) lfirst(lc))->location, location) == 0)
			wanted = lappend(wanted, lfirst(lc));

	while (grew)
	{
		grew = false;
		foreach(lc, labels)
		{
			PitrBackup *b = lfirst(lc);
			ListCell   *lc2;

			if (list_member_ptr(wanted, b) || b->start_lsn == InvalidXLogRecPtr)
				continue;
			foreach(lc2, wanted)
			{
				PitrBackup *w = lfirst(lc2);

				if (w->incremental_from_lsn == b->start_lsn &&
					w->incremental_from_tli == b->start_tli)
				{
					wanted = lappend(wanted, b);
					grew = true;
					break;
				}
			}
		}
	}

	foreach(lc, labels)
	{
		CHECK_FOR_INTERRUPTS();
		if (list_member_ptr(wanted, lfirst(lc)))
			result = lappend(result,
							 scan_one_backup(absdir, ((PitrBackup *) lfirst(lc))->name));
	}
	pitr_link_backup_chains(result);
	return result;
}
