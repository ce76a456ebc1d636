/*-------------------------------------------------------------------------
 *
 * pitr_spi.h
 *	  The one SPI module: every check of an SPI result and every prepared
 *	  plan goes through here, with one wording for an SPI failure.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_SPI_H
#define PITR_SPI_H

#include "executor/spi.h"

/*
 * ERROR unless "ret" (what an SPI call returned) is "expected"; with
 * expected 0, unless it is a success of any kind (ret >= 0).  "what" says
 * what was being done ("reading the archive").
 */
extern void pitr_spi_check(int ret, int expected, const char *what);

/*
 * SPI_prepare, an ERROR if it fails; with "keep" the plan is kept for the
 * rest of the session (SPI_keepplan).
 */
extern SPIPlanPtr pitr_spi_prepare(const char *sql, int nargs,
								   const Oid *types, bool keep);

#endif							/* PITR_SPI_H */
