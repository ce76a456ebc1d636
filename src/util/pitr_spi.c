/*-------------------------------------------------------------------------
 *
 * pitr_spi.c
 *	  The one SPI module (see util/pitr_spi.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "util/pitr_spi.h"

void
pitr_spi_check(int ret, int expected, const char *what)
{
	if (expected == 0 ? ret < 0 : ret != expected)
		elog(ERROR, "SPI failed while %s: %s", what, SPI_result_code_string(ret));
}

SPIPlanPtr
pitr_spi_prepare(const char *sql, int nargs, const Oid *types, bool keep)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, unconstify(Oid *, types));

	if (plan == NULL)
		elog(ERROR, "SPI failed while preparing a statement: %s",
			 SPI_result_code_string(SPI_result));
	if (keep && SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI failed while keeping a plan");
	return plan;
}
