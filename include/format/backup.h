/*-------------------------------------------------------------------------
 *
 * backup.h
 *	  Base backups: what is known of one (PitrBackup), and the parsers of
 *	  backup_label, backup history files (*.backup) and backup_manifest
 *	  (backup_label.c, backup_manifest.c).
 *
 * The parsers take a buffer and fill in structs; they never raise an ERROR
 * for bad content, so they can be fed anything.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_BACKUP_H
#define PITR_BACKUP_H

#include "access/xlogdefs.h"
#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

typedef struct PitrBackup
{
	char	   *name;			/* subdirectory name, or the .backup file name */
	char	   *location;		/* absolute path of the backup directory, NULL if none */
	char	   *format;			/* "plain", "tar", "tar.gz", "tar.zst", or NULL */
	char	   *label;			/* LABEL line */
	char	   *backup_from;	/* "primary" / "standby" */
	TimeLineID	start_tli;
	TimeLineID	stop_tli;		/* 0 when unknown */
	XLogRecPtr	start_lsn;		/* START WAL LOCATION (the redo point) */
	XLogRecPtr	checkpoint_lsn;
	XLogRecPtr	stop_lsn;		/* end of backup (consistency point), Invalid when unknown */
	TimestampTz start_time;
	bool		has_start_time;
	TimestampTz stop_time;
	bool		has_stop_time;
	int			pg_version;		/* major version, 0 when unknown */
	uint64		system_identifier;	/* 0 when unknown */
	int64		bytes;
	bool		has_manifest;
	char	   *problem;		/* NULL, or why this backup cannot be used */
	List	   *wal_carried;	/* names (char *) of the segments in its own
								 * pg_wal that recovery can use, start to
								 * stop (backup_dir.c) */

	/*
	 * An incremental backup (PostgreSQL 17+): its backup_label's INCREMENTAL
	 * FROM LSN / TLI name the start of the backup it builds on.  Invalid / 0
	 * for a full backup.
	 */
	XLogRecPtr	incremental_from_lsn;
	TimeLineID	incremental_from_tli;
	char	   *incremental_from;	/* location of the backup it builds on,
									 * NULL if full or not found */
	List	   *chain;			/* locations (char *), the full backup first and
								 * this one last; NIL when unusable
								 * (backup_dir.c) */
} PitrBackup;

/* One entry of a backup_manifest's "Files" list. */
typedef struct PitrManifestFile
{
	char	   *path;			/* relative to the data directory, decoded */
	int64		size;
	char	   *algorithm;		/* "CRC32C", "SHA256", ... or NULL for none */
	char	   *checksum_hex;	/* lower- or upper-case hex, NULL for none */
} PitrManifestFile;

/*
 * Parse a backup_label or a backup history file (*.backup).  Lines may come
 * in any order and unknown ones are ignored; when a line occurs twice the
 * first one counts, because the free-text LABEL line can forge later ones.
 * Only the fields found are set, so "b" must be zeroed by the caller
 * (palloc0).  Returns false with a palloc'd *err when there is no valid
 * START WAL LOCATION line.  Times that cannot be read leave has_*_time false.
 */
extern bool pitr_parse_backup_label(const char *buf, size_t len,
									PitrBackup *b, char **err);

/*
 * Read a backup_label exactly as PostgreSQL 15's recovery reads it
 * (read_backup_label in xlogrecovery.c: fixed line order, fscanf formats),
 * and say whether recovery would accept it.  On success the redo start,
 * its timeline and the checkpoint are what recovery will use; on failure
 * *err says which line recovery would refuse (it would FATAL with
 * "invalid data in file").
 */
extern bool pitr_backup_label_recovery_reads(const char *buf, size_t len,
											 XLogRecPtr *start_lsn,
											 TimeLineID *start_tli,
											 XLogRecPtr *checkpoint_lsn,
											 char **err);

/*
 * Parse a backup_manifest and verify its Manifest-Checksum.  Its WAL-Ranges
 * set start/stop LSN and timeline in "b" where those are still unknown (and
 * must agree with a start LSN already known).  When "files" is not NULL it
 * receives a List of PitrManifestFile *.  Sets b->has_manifest on success;
 * returns false with a palloc'd *err on any problem.
 */
extern bool pitr_parse_backup_manifest(const char *buf, size_t len,
									   PitrBackup *b, List **files,
									   char **err);

/* Strictly parse a non-negative decimal integer and nothing else. */
extern bool pitr_backup_parse_uint64(const char *str, uint64 *result);

/*
 * Strictly parse "X/X" (1 to 8 hex digits each) at the start of "str".
 * Returns false if there is none; *end, when given, points past it.
 */
extern bool pitr_backup_parse_lsn(const char *str, XLogRecPtr *lsn,
								  const char **end);

#endif							/* PITR_BACKUP_H */
