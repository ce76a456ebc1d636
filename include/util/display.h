/*-------------------------------------------------------------------------
 *
 * display.h
 *	  One display rule for names that come from an archive (restore
 *	  points, marks, labels, paths) in text meant for people: why, reason,
 *	  warnings, check_archive's detail, the chart and the SVG.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_DISPLAY_H
#define PITR_DISPLAY_H

/*
 * "s" with every control character written as an escape (\n, \r, \t,
 * \xNN) and every byte invalid in the database encoding as \xNN, so no
 * terminal sequence, forged line or broken document reaches a reader.
 * With keep_lines, newlines, carriage returns and tabs are kept (a
 * multi-line document's own layout).  Returns "s" itself when nothing
 * needs escaping.
 */
extern const char *pitr_display(const char *s, bool keep_lines);

/*
 * A name from the archive as the database stores it: "s" itself when it is
 * valid in the database encoding (a restore point made in a SQL_ASCII
 * database need not be), else with each invalid byte written as \xNN.
 * Such a name is matched against the WAL in this same form, and recovery
 * is then told the stop by LSN, never by these bytes.
 */
extern const char *pitr_db_text(const char *s);

/* Whether a stored name may hold such an escape (\x80 to \xff). */
extern bool pitr_db_text_escaped(const char *s);

#endif							/* PITR_DISPLAY_H */
