/*-------------------------------------------------------------------------
 *
 * barman_source.c
 *	  A Barman server directory: wals/<16 hex>/<segment> with the plain
 *	  name whatever the compression (sniffed from the first bytes), .history
 *	  files in wals/, and base/<backup id>/backup.info.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <unistd.h>

#include "miscadmin.h"
#include "storage/fd.h"

#include "format/barman_info.h"
#include "source/source_internal.h"

/*
 * Barman keeps the plain name whatever the compression; the first bytes
 * say which it is.
 */
static PitrCompression
sniff_compression(const char *path)
{
	unsigned char magic[4] = {0};
	int			fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	ssize_t		n;

	if (fd < 0)
		return PITR_COMPRESS_NONE;	/* reading it later reports why */
	n = read(fd, magic, sizeof(magic));
	CloseTransientFile(fd);
	if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b)
		return PITR_COMPRESS_GZIP;
	if (n == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f &&
		magic[3] == 0xfd)
		return PITR_COMPRESS_ZSTD;
	if (n == 4 && magic[0] == 0x04 && magic[1] == 0x22 && magic[2] == 0x4d &&
		magic[3] == 0x18)
		return PITR_COMPRESS_LZ4;
	if (n >= 3 && magic[0] == 'B' && magic[1] == 'Z' && magic[2] == 'h')
		return PITR_COMPRESS_BZIP2;
	return PITR_COMPRESS_NONE;
}

static List *
list_barman_dir(List *files, const char *dir, bool top)
{
	DIR		   *d = AllocateDir(dir);
	struct dirent *de;

	if (d == NULL)
	{
		if (errno == ENOENT && top)
			return files;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open directory \"%s\": %m", dir)));
	}
	while ((de = ReadDir(d, dir)) != NULL)
	{
		char	   *path;
		PitrArchiveFile f;

		CHECK_FOR_INTERRUPTS();
		path = psprintf("%s/%s", dir, de->d_name);
		if (top && pitr_source_is_hex16(de->d_name))
			files = list_barman_dir(files, path, false);
		else if (pitr_classify_file_name(de->d_name, &f) &&
				 f.compression == PITR_COMPRESS_NONE)
			files = pitr_source_add_file(files, de->d_name, path, NULL,
										 sniff_compression(path));
		pfree(path);
	}
	FreeDir(d);
	return files;
}

List *
pitr_barman_list(PitrArchiveSource *src)
{
	return list_barman_dir(NIL, psprintf("%s/wals", src->wal_dir), true);
}

List *
pitr_barman_backups(PitrArchiveSource *src)
{
	DIR		   *d = AllocateDir(src->backup_dir);
	struct dirent *de;
	List	   *out = NIL;

	if (d == NULL)
	{
		if (errno == ENOENT)
			return NIL;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open directory \"%s\": %m", src->backup_dir)));
	}
	while ((de = ReadDir(d, src->backup_dir)) != NULL)
	{
		char	   *path;
		size_t		len;
		char	   *err = NULL;
		char	   *buf;
		PitrRepoBackup *b;

		CHECK_FOR_INTERRUPTS();
		if (de->d_name[0] == '.')
			continue;
		path = psprintf("%s/%s/backup.info", src->backup_dir, de->d_name);
		if (!pitr_source_is_file(path))
			continue;
		b = palloc0(sizeof(PitrRepoBackup));
		buf = pitr_source_read_small_file(path, &len, &err);
		if (buf == NULL ||
			pitr_parse_barman_backup_info(buf, len, de->d_name, b, &err) != PITR_PARSE_OK)
		{
			/* Shown in error rather than hidden: the DBA sees it exists. */
			memset(b, 0, sizeof(*b));
			b->format = "barman";
			b->label = pstrdup(de->d_name);
			b->error = true;
			b->status = psprintf("backup.info unreadable: %s", err);
		}
		out = lappend(out, b);
	}
	FreeDir(d);
	return out;
}
