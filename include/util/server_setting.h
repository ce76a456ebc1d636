/*-------------------------------------------------------------------------
 *
 * server_setting.h
 *	  A setting as the server's configuration holds it: what a superuser
 *	  put in postgresql.conf, with ALTER SYSTEM or on the command line,
 *	  never a value a session, a role or a database set.  For secrets and
 *	  anything else a cleanup hook reads.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_SERVER_SETTING_H
#define PITR_SERVER_SETTING_H

/*
 * The value of setting "name" from the server's configuration; NULL when
 * it has none.  *overridden is set when a session, role or database value
 * hides one (that value is never returned).
 */
extern const char *pitr_server_setting(const char *name, bool *overridden);

#endif							/* PITR_SERVER_SETTING_H */
