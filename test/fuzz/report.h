/*-------------------------------------------------------------------------
 *
 * report.h
 *	  What a harness says of each input's outcome, for the deterministic
 *	  replay of the corpus in `make test` (replay.c, test/t/002_parsers.pl):
 *	  whether the parser accepted it, and the facts or the reason it gave.
 *	  Under libFuzzer nothing is printed.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_FUZZ_REPORT_H
#define PITR_FUZZ_REPORT_H

/* Set by replay.c: print the outcomes. */
extern int	fuzz_reporting;

/* One line of outcome (no newline in fmt), printed when replaying. */
extern void fuzz_report(const char *fmt,...) __attribute__((format(printf, 1, 2)));

#endif							/* PITR_FUZZ_REPORT_H */
