/*-------------------------------------------------------------------------
 *
 * flat_source.c
 *	  A flat archive: the files archive_command copied into one directory,
 *	  named as PostgreSQL named them plus a compression suffix.  Its driver
 *	  in the source method table (source_internal.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "source/source_internal.h"

static List *
flat_list(PitrArchiveSource *src)
{
	List	   *files = NIL;
	ListCell   *lc;

	foreach(lc, pitr_list_archive(src->wal_dir))
	{
		PitrSourceFile *sf = palloc0(sizeof(PitrSourceFile));

		sf->f = *(PitrArchiveFile *) lfirst(lc);
		sf->path = psprintf("%s/%s", src->wal_dir, sf->f.name);
		/* The flat name carries the suffix; PostgreSQL's does not. */
		sf->f.name = pnstrdup(sf->f.name,
							  strlen(sf->f.name) -
							  strlen(pitr_compression_info(sf->f.compression)->suffix));
		files = lappend(files, sf);
	}
	return files;
}

/* A flat archive describes no base backups. */
static List *
flat_backups(PitrArchiveSource *src)
{
	return NIL;
}

/* No tool fetches a flat archive's WAL but a plain copy. */
static char *
flat_restore_command(const PitrArchiveSource *src, const char *barman_config)
{
	return NULL;
}

const PitrSourceMethods pitr_flat_source = {
	.list = flat_list,
	.read = pitr_source_read_local,
	.backups = flat_backups,
	.restore_command = flat_restore_command,
};
