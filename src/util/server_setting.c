/*-------------------------------------------------------------------------
 *
 * server_setting.c
 *	  A setting as the server's configuration holds it (server_setting.h).
 *
 * A GUC remembers where its value came from.  Sources up to PGC_S_ARGV are
 * the server's configuration (postgresql.conf and the postgresql.auto.conf
 * ALTER SYSTEM writes are PGC_S_FILE, the command line PGC_S_ARGV); later
 * ones (ALTER ROLE/DATABASE ... SET, the client, SET, set_config, a
 * function's SET) belong to whoever runs the session.  A session value
 * hides the configured one; the configured one is then still the reset
 * value when nothing but the configuration set the session's default.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/guc.h"
#include "utils/guc_tables.h"

#include "compat/pg_compat.h"
#include "util/server_setting.h"

const char *
pitr_server_setting(const char *name, bool *overridden)
{
	struct config_generic *g = pitr_find_setting(name);

	*overridden = false;
	if (g == NULL)
		return NULL;
	if (g->source <= PGC_S_ARGV)
	{
		if (g->source == PGC_S_DEFAULT && g->vartype == PGC_STRING &&
			(g->flags & GUC_CUSTOM_PLACEHOLDER) != 0)
			return NULL;
		return GetConfigOption(name, true, false);
	}
	*overridden = true;
	/* Hidden by the session: its default may still be the configured one. */
	if (g->reset_source <= PGC_S_ARGV && g->reset_source != PGC_S_DEFAULT &&
		g->vartype == PGC_STRING)
	{
		const char *v = ((struct config_string *) g)->reset_val;

		return v ? pstrdup(v) : NULL;
	}
	return NULL;
}
