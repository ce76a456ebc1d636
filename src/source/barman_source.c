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
#include "util/dir_reader.h"

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
	ListCell   *lc;

	/* No wals/ at all: nothing archived yet. */
	foreach(lc, pitr_read_dir(dir, NULL, top ? PITR_DIR_MISSING_OK : 0, NULL))
	{
		const char *name = lfirst(lc);
		char	   *path = psprintf("%s/%s", dir, name);
		PitrArchiveFile f;

		if (top && pitr_source_is_hex16(name))
			files = list_barman_dir(files, path, false);
		else if (pitr_classify_file_name(name, &f) &&
				 f.compression == PITR_COMPRESS_NONE)
			files = pitr_source_add_file(files, name, path, NULL,
										 sniff_compression(path));
		pfree(path);
	}
	return files;
}

static List *
barman_list(PitrArchiveSource *src)
{
	return list_barman_dir(NIL, psprintf("%s/wals", src->wal_dir), true);
}

static List *
barman_backups(PitrArchiveSource *src)
{
	List	   *out = NIL;
	ListCell   *lc;

	foreach(lc, pitr_read_dir(src->backup_dir, NULL,
							  PITR_DIR_MISSING_OK | PITR_DIR_SKIP_HIDDEN, NULL))
	{
		const char *id = lfirst(lc);
		char	   *path;
		size_t		len;
		char	   *err = NULL;
		char	   *buf;
		PitrRepoBackup *b;

		path = psprintf("%s/%s/backup.info", src->backup_dir, id);
		if (!pitr_source_is_file(path))
			continue;
		b = palloc0(sizeof(PitrRepoBackup));
		buf = pitr_source_read_small_file(path, &len, &err);
		if (buf == NULL ||
			pitr_parse_barman_backup_info(buf, len, id, b, &err) != PITR_PARSE_OK)
		{
			/* Shown in error rather than hidden: the DBA sees it exists. */
			memset(b, 0, sizeof(*b));
			b->format = "barman";
			b->label = pstrdup(id);
			b->error = true;
			b->status = psprintf("backup.info unreadable: %s", err);
		}
		out = lappend(out, b);
	}
	return out;
}

/*
 * get-wal for this server, with barman_config when given (else Barman's
 * default configuration).
 */
static char *
barman_restore_command(const PitrArchiveSource *src, const char *barman_config)
{
	const char *server = strrchr(src->wal_dir, '/');
	StringInfoData buf;

	initStringInfo(&buf);
	server = server ? server + 1 : src->wal_dir;
	/* get-wal decompresses whatever Barman stored. */
	appendStringInfoString(&buf, "barman ");
	if (barman_config)
	{
		appendStringInfoString(&buf, "-c ");
		pitr_restore_command_word(&buf, barman_config);
		appendStringInfoChar(&buf, ' ');
	}
	appendStringInfoString(&buf, "get-wal ");
	pitr_restore_command_word(&buf, server);
	appendStringInfoString(&buf, " %f > \"%p\"");
	return buf.data;
}

const PitrSourceMethods pitr_barman_source = {
	.list = barman_list,
	.read = pitr_source_read_local,
	.backups = barman_backups,
	.restore_command = barman_restore_command,
};
