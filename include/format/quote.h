/*-------------------------------------------------------------------------
 *
 * quote.h
 *	  Quoting a value for the language it lands in: a POSIX shell word, a
 *	  postgresql.conf string literal, a %-expanded command template.
 *
 * Each returns a palloc'd string.  Compose them inside out: a path in
 * restore_command is first made a shell word, then its '%' doubled (the
 * server expands %f/%p before the shell sees the command), and the whole
 * command finally made a postgresql.conf literal.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_QUOTE_H
#define PITR_QUOTE_H

/* One shell word: single quotes, each ' written as '\''. */
extern char *pitr_quote_shell(const char *s);

/* A postgresql.conf literal: single quotes, ' and \ doubled. */
extern char *pitr_quote_conf(const char *s);

/* For restore_command / archive_command templates: each % doubled. */
extern char *pitr_escape_percent(const char *s);

#endif							/* PITR_QUOTE_H */
