/*-------------------------------------------------------------------------
 *
 * source_files.c
 *	  What the archive source drivers (flat_source.c, pgbackrest_source.c,
 *	  barman_source.c) share: tests on paths, a stored file as a listed
 *	  archive file, a small file read whole, a local file read, a word of
 *	  a tool's restore_command.  Calls nothing of the drivers nor of the
 *	  dispatcher (archive_source.c), so calls run one way only.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>

#include "format/quote.h"
#include "source/source_internal.h"

/* Files larger than this are not info files (pgBackRest's are small). */
#define MAX_INFO_FILE (64 * 1024 * 1024)

bool
pitr_source_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool
pitr_source_is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool
pitr_source_is_hex16(const char *s)
{
	return strlen(s) == 16 && strspn(s, "0123456789ABCDEF") == 16;
}

/*
 * Read a whole small file; NULL with *err set if it cannot be read.  The
 * caller decides whether that is an ERROR.
 */
char *
pitr_source_read_small_file(const char *path, size_t *len, char **err)
{
	int64		n = 0;
	int			err_no;
	char	   *buf = pitr_read_whole_file(path, "file", MAX_INFO_FILE, &n,
										   &err_no, err);

	*len = (size_t) n;
	return buf;
}

/*
 * Add a stored file if "name" (PostgreSQL's name for it) is an archive
 * file; "stat" it for size and mtime.
 */
List *
pitr_source_add_file(List *files, const char *name, const char *path,
					 const char *sha1, PitrCompression compression)
{
	PitrSourceFile *sf;
	struct stat st;

	sf = palloc0(sizeof(PitrSourceFile));
	if (!pitr_classify_file_name(name, &sf->f) ||
		pitr_compression_of_name(name, NULL) != PITR_COMPRESS_NONE)
	{
		pfree(sf);
		return files;
	}
	if (stat(path, &st) != 0)
	{
		if (errno == ENOENT)
		{
			pfree(sf);
			return files;		/* removed while we looked (expire) */
		}
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat file \"%s\": %m", path)));
	}
	if (!S_ISREG(st.st_mode))
	{
		pfree(sf);
		return files;
	}
	sf->f.name = pstrdup(name);
	sf->f.compression = compression;
	sf->f.size = st.st_size;
	sf->f.mtime = st.st_mtime;
	sf->path = pstrdup(path);
	strlcpy(sf->sha1, sha1 ? sha1 : "", sizeof(sf->sha1));
	return lappend(files, sf);
}

/* A file the server can read where it is stored. */
int64
pitr_source_read_local(PitrArchiveSource *src, PitrFileReader *r,
					   const PitrSourceFile *sf, char *buf, int64 want,
					   bool exact, int64 *disk_bytes, char **err)
{
	int64		got;

	if (pitr_read_file(r, sf->path, sf->f.compression, buf, want, exact,
					   disk_bytes, &got, err) != PITR_READ_OK)
		return -1;
	return got;
}

/* A shell word in single quotes, with '%' doubled for restore_command. */
void
pitr_restore_command_word(StringInfo buf, const char *s)
{
	appendStringInfoString(buf, pitr_escape_percent(pitr_quote_shell(s)));
}
