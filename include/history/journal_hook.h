/*-------------------------------------------------------------------------
 *
 * journal_hook.h
 *	  The ProcessUtility hook that journals relfilenodes TRUNCATE, VACUUM
 *	  FULL and CLUSTER assign (src/history/journal_hook.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_JOURNAL_HOOK_H
#define PITR_JOURNAL_HOOK_H

/* Install the hook (from _PG_init). */
extern void pitr_history_init(void);

#endif							/* PITR_JOURNAL_HOOK_H */
