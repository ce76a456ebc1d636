/*-------------------------------------------------------------------------
 *
 * shim.h
 *	  What the libFuzzer harnesses need from test/fuzz/shim.c: the backend
 *	  facilities the parsers use (palloc, ereport, lists, files), replaced
 *	  by small stand-ins so the parsers run outside the server.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_FUZZ_SHIM_H
#define PITR_FUZZ_SHIM_H

#include <setjmp.h>

/*
 * Free everything palloc'd since the last call, after running the reset
 * callbacks still registered: call at the end of every input, so that
 * LeakSanitizer only sees real leaks (of malloc'd or library memory).
 */
extern void fuzz_reset(void);

/*
 * An ereport(ERROR) is a crash (abort) unless the harness declared it an
 * expected outcome: FUZZ_TRY_ERROR() returns 0 on the way in and 1 when an
 * ERROR jumped back to it.  Only for APIs documented to ERROR on bad input.
 */
extern sigjmp_buf *fuzz_error_jump;
extern char fuzz_last_error[1024];

#define FUZZ_EXPECT_ERRORS(jb) (fuzz_error_jump = &(jb), sigsetjmp(jb, 0))
#define FUZZ_NO_ERRORS() (fuzz_error_jump = NULL)

/* Write the input to a private temporary file; returns its path. */
extern const char *fuzz_write_temp(const char *suffix, const uint8_t *data,
								   size_t size);

#endif							/* PITR_FUZZ_SHIM_H */
