/*-------------------------------------------------------------------------
 *
 * dir_reader.c
 *	  The one directory reader (see util/dir_reader.h): every walk over a
 *	  directory's entries starts from the list of names it returns, so
 *	  opening, skipping "." and "..", interrupts, closing on ERROR and the
 *	  error wording are written once.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/fd.h"

#include "util/dir_reader.h"

static int
name_cmp(const ListCell *a, const ListCell *b)
{
	return strcmp(lfirst(a), lfirst(b));
}

List *
pitr_read_dir(const char *dir, const char *what, int flags, char **err)
{
	DIR		   *d;
	struct dirent *de;
	List	   *names = NIL;

	d = AllocateDir(dir);
	if (d == NULL)
	{
		if (errno == ENOENT && (flags & PITR_DIR_MISSING_OK))
			return NIL;
		if (err == NULL)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not open %s \"%s\": %m",
							what ? what : "directory", dir)));
		*err = psprintf("could not open %s \"%s\": %m",
						what ? what : "directory", dir);
		return NIL;
	}
	/* AllocateDir's list closes it if an ERROR cuts the loop short. */
	while ((de = ReadDirExtended(d, dir, err ? DEBUG1 : ERROR)) != NULL)
	{
		CHECK_FOR_INTERRUPTS();
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if ((flags & PITR_DIR_SKIP_HIDDEN) && de->d_name[0] == '.')
			continue;
		names = lappend(names, pstrdup(de->d_name));
	}
	FreeDir(d);
	if (flags & PITR_DIR_SORTED)
		list_sort(names, name_cmp);
	return names;
}
