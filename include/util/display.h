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

#endif							/* PITR_DISPLAY_H */
