/*-------------------------------------------------------------------------
 *
 * side_server.h
 *	  A private, temporary PostgreSQL server built by prepare_restore and
 *	  paused at a recovery target, for copying objects out of the past
 *	  (src/restore/side_server.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_SIDE_SERVER_H
#define PITR_SIDE_SERVER_H

#include "libpq-fe.h"

typedef struct PitrSideServer
{
	char	   *dir;			/* private 0700 directory: data, socket, log */
	char	   *datadir;		/* dir/data, built by prepare_restore */
	char	   *logfile;
	int			port;
	bool		started;
	PGconn	   *conn;
} PitrSideServer;

/* GUC: where side servers are built (NULL: $TMPDIR or /tmp). */
extern char *pitr_side_server_dir;
extern void pitr_side_define_gucs(void);

/*
 * A new private directory for a side server; it (and a server started in
 * it) is removed by pitr_side_destroy, and at backend exit if still there.
 */
extern PitrSideServer *pitr_side_create(void);

/* ERROR unless the side server's directory has room for "bytes". */
extern void pitr_side_check_space(PitrSideServer *s, int64 bytes);

/*
 * Settings that make the built data directory a private copy: archiving
 * off, no TCP, its own socket directory and pg_hba.conf, no standby
 * connection, pause at the target.
 */
extern void pitr_side_configure(PitrSideServer *s);

/* Start it and wait (interruptibly) until recovery pauses at the target. */
extern void pitr_side_start_and_wait(PitrSideServer *s, const char *dbname);

/*
 * Another connection, to database dbname, to a side server started by
 * another process (restore_database's load worker); pitr_side_detach
 * closes it and leaves the server alone.
 */
extern PitrSideServer *pitr_side_attach(const char *dir, int port,
										const char *dbname);
extern void pitr_side_detach(PitrSideServer *s);

/* A query on the side server that must succeed. */
extern PGresult *pitr_side_query(PitrSideServer *s, const char *sql,
								 ExecStatusType expect);

/* Stop the server (immediate) and remove the directory; never throws. */
extern void pitr_side_destroy(PitrSideServer *s);

#endif							/* PITR_SIDE_SERVER_H */
