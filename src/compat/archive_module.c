/*-------------------------------------------------------------------------
 *
 * archive_module.c
 *	  The archive module's entry point, _PG_archive_module_init, in the
 *	  form the server expects.  PostgreSQL 15 passes a callback struct to
 *	  fill; 16 and later take a constant one back and hand every callback
 *	  an ArchiveModuleState, which pitr_restore does not need (its state
 *	  is the archiver's, one process).  The real callbacks are in
 *	  src/archive_module/archive_module.c, once for every version.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "compat/pg_compat.h"
#include "archive_module/archive_module.h"

#if PG_VERSION_NUM >= 160000

#include "archive/archive_module.h"

static bool
adapt_check_configured(ArchiveModuleState *state)
{
	return pitr_archive_configured();
}

static bool
adapt_archive_file(ArchiveModuleState *state, const char *file,
				   const char *path)
{
	return pitr_archive_file(file, path);
}

static const ArchiveModuleCallbacks callbacks = {
	.startup_cb = NULL,
	.check_configured_cb = adapt_check_configured,
	.archive_file_cb = adapt_archive_file,
	.shutdown_cb = NULL,
};

const ArchiveModuleCallbacks *
_PG_archive_module_init(void)
{
	AssertVariableIsOfType(&_PG_archive_module_init, ArchiveModuleInit);

	pitr_archive_startup();
	return &callbacks;
}

#else							/* PG_VERSION_NUM < 160000 */

#include "postmaster/pgarch.h"

void		_PG_archive_module_init(ArchiveModuleCallbacks *cb);

void
_PG_archive_module_init(ArchiveModuleCallbacks *cb)
{
	AssertVariableIsOfType(&_PG_archive_module_init, ArchiveModuleInit);

	pitr_archive_startup();
	cb->check_configured_cb = pitr_archive_configured;
	cb->archive_file_cb = pitr_archive_file;
	cb->shutdown_cb = NULL;
}

#endif
