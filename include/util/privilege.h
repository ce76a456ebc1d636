/*-------------------------------------------------------------------------
 *
 * privilege.h
 *	  Who may do what: the one place pitr_restore decides whether the role
 *	  whose code is running may read server files, write them or run a
 *	  program, and the SQL entry points that check it before the extension
 *	  acts as its owner.
 *
 * The caller is GetUserId() at the SQL boundary (as pg_read_file and COPY
 * ... PROGRAM ask), never the session's outer role: inside an expression
 * index analyzed by a superuser, or a SECURITY DEFINER function a superuser
 * calls, it is the table's or the function's owner.  Each public function
 * is a SECURITY INVOKER entry point (pitr_entry_*) that checks that role,
 * records it, and calls its body, a SECURITY DEFINER function of the same
 * arguments named "_<name>_body" that runs as the extension's owner.  Code
 * below asks pitr_priv_caller() for the recorded role.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_PRIVILEGE_H
#define PITR_PRIVILEGE_H

/*
 * The role whose code called the current entry point; outside one (or when
 * a role other than the extension's owner runs code below it), GetUserId().
 */
extern Oid	pitr_priv_caller(void);

/* ERROR unless the caller has the privileges of pg_read_server_files. */
extern void pitr_check_read_privilege(void);

/* ERROR unless the caller has the privileges of pg_write_server_files. */
extern void pitr_check_write_privilege(void);

/* ERROR unless the caller may build a restore (read and write). */
extern void pitr_check_restore_privilege(void);

/*
 * ERROR unless the caller may make the server run a program: the
 * privileges of pg_execute_server_program, and never inside a
 * security-restricted operation.  "what" says which program and why, for
 * the message ("read a pgBackRest repository through the pgbackrest
 * program").
 */
extern void pitr_check_program_privilege(const char *what);

/* Read, write and run programs at once (a side server), never restricted. */
extern void pitr_check_side_server_privilege(const char *what);

/* ERROR unless the caller may create a database (superuser or CREATEDB). */
extern void pitr_check_createdb_privilege(const char *what);

/* ERROR inside a security-restricted operation: no file is written there. */
extern void pitr_check_not_restricted(const char *what);

#endif							/* PITR_PRIVILEGE_H */
