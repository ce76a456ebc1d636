/*-------------------------------------------------------------------------
 *
 * backup_manifest.c
 *	  Parse the backup_manifest that pg_basebackup writes beside a backup:
 *	  its list of files with their checksums, the WAL ranges the backup
 *	  needs, and the checksum over the manifest itself.
 *
 * The JSON is walked with the server's own parser (common/jsonapi.h).
 * Fields we do not know are skipped rather than refused, so that newer
 * manifest versions still give us what we need.  Bad input never raises an
 * ERROR: the caller gets false and a message.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "common/cryptohash.h"
#include "common/jsonapi.h"
#include "common/sha2.h"
#include "mb/pg_wchar.h"
#include "utils/memutils.h"

#include "backup.h"
#include "compat/pg_compat.h"
#include "format/hex.h"

/* Far more than the 3 levels of a real manifest. */
#define MAX_MANIFEST_DEPTH	64

/* The fields we look at, at the top level and inside list entries. */
typedef enum ManifestField
{
	MF_OTHER,
	MF_VERSION,
	MF_SYSTEM_ID,
	MF_FILES,
	MF_WAL_RANGES,
	MF_MANIFEST_CHECKSUM,
	MF_PATH,
	MF_ENCODED_PATH,
	MF_SIZE,
	MF_ALGORITHM,
	MF_CHECKSUM,
	MF_TIMELINE,
	MF_START_LSN,
	MF_END_LSN
} ManifestField;

typedef struct ManifestParse
{
	MemoryContext resultcxt;	/* where results and the message go */
	char	   *error;			/* first problem found, in resultcxt */

	bool		top_is_object;
	ManifestField top_field;	/* field of the top object being read */
	ManifestField section;		/* MF_FILES or MF_WAL_RANGES while in one */
	bool		in_entry;		/* inside one object of that list */
	ManifestField entry_field;	/* field of that object being read */

	/* top-level values */
	char	   *version;
	char	   *system_id;
	char	   *manifest_checksum;

	/* the list entry being read */
	char	   *path;
	char	   *encoded_path;
	char	   *size;
	char	   *algorithm;
	char	   *checksum;
	char	   *timeline;
	char	   *start_lsn;
	char	   *end_lsn;

	/* results */
	bool		want_files;
	List	   *files;			/* of PitrManifestFile *, in resultcxt */
	int			nranges;
	TimeLineID	first_tli;		/* newest timeline comes first */
	XLogRecPtr	first_end;
	TimeLineID	last_tli;
	XLogRecPtr	last_start;
} ManifestParse;

/*
 * Where each field stands (MF_OTHER: in the top object; MF_FILES or
 * MF_WAL_RANGES: in an entry of that list), and the slot of ManifestParse
 * its value goes to (-1: none, the value is a list).
 */
#define SLOT(member) ((int) offsetof(ManifestParse, member))
static const struct
{
	const char *name;
	ManifestField section;
	int			slot;
}			manifest_fields[] = {
	[MF_VERSION] = {"PostgreSQL-Backup-Manifest-Version", MF_OTHER, SLOT(version)},
	[MF_SYSTEM_ID] = {"System-Identifier", MF_OTHER, SLOT(system_id)},
	[MF_FILES] = {"Files", MF_OTHER, -1},
	[MF_WAL_RANGES] = {"WAL-Ranges", MF_OTHER, -1},
	[MF_MANIFEST_CHECKSUM] = {"Manifest-Checksum", MF_OTHER, SLOT(manifest_checksum)},
	[MF_PATH] = {"Path", MF_FILES, SLOT(path)},
	[MF_ENCODED_PATH] = {"Encoded-Path", MF_FILES, SLOT(encoded_path)},
	[MF_SIZE] = {"Size", MF_FILES, SLOT(size)},
	[MF_ALGORITHM] = {"Checksum-Algorithm", MF_FILES, SLOT(algorithm)},
	[MF_CHECKSUM] = {"Checksum", MF_FILES, SLOT(checksum)},
	[MF_TIMELINE] = {"Timeline", MF_WAL_RANGES, SLOT(timeline)},
	[MF_START_LSN] = {"Start-LSN", MF_WAL_RANGES, SLOT(start_lsn)},
	[MF_END_LSN] = {"End-LSN", MF_WAL_RANGES, SLOT(end_lsn)},
};

static char **
field_slot(ManifestParse *parse, ManifestField field)
{
	return (char **) ((char *) parse + manifest_fields[field].slot);
}

static void
manifest_error(ManifestParse *parse, const char *msg)
{
	/* the first problem is the one worth reporting */
	if (parse->error == NULL)
		parse->error = MemoryContextStrdup(parse->resultcxt, msg);
}

/* Decode "hex" (an even number of hex digits) into out, which has room. */
static bool
hex_decode_string(const char *hex, uint8 *out, size_t *outlen)
{
	size_t		len = strlen(hex);

	if (len % 2 != 0)
		return false;
	for (size_t i = 0; i < len; i += 2)
	{
		int			hi = pitr_hex_digit(hex[i], true);
		int			lo = pitr_hex_digit(hex[i + 1], true);

		if (hi < 0 || lo < 0)
			return false;
		out[i / 2] = (uint8) (hi * 16 + lo);
	}
	*outlen = len / 2;
	return true;
}

/* Replace *slot by token, freeing what was there. */
static void
set_value(char **slot, char *token)
{
	if (*slot != NULL)
		pfree(*slot);
	*slot = token;
}

static void
reset_entry(ManifestParse *parse)
{
	for (int f = MF_OTHER + 1; f < lengthof(manifest_fields); f++)
	{
		if (manifest_fields[f].section != MF_OTHER)
			set_value(field_slot(parse, f), NULL);
	}
}

static void
finish_file(ManifestParse *parse)
{
	char	   *path;
	uint64		size;
	MemoryContext oldcxt;
	PitrManifestFile *f;

	if (parse->path == NULL && parse->encoded_path == NULL)
	{
		manifest_error(parse, "backup manifest has a file without a path");
		return;
	}
	if (parse->path != NULL && parse->encoded_path != NULL)
	{
		manifest_error(parse,
					   "backup manifest has a file with both a path and an encoded path");
		return;
	}
	if (parse->encoded_path != NULL)
	{
		size_t		rawlen;

		path = palloc(strlen(parse->encoded_path) / 2 + 1);
		if (!hex_decode_string(parse->encoded_path, (uint8 *) path, &rawlen) ||
			memchr(path, '\0', rawlen) != NULL)
		{
			manifest_error(parse,
						   "backup manifest has an invalid encoded path");
			return;
		}
		path[rawlen] = '\0';
	}
	else
		path = parse->path;

	if (parse->size == NULL || !pitr_backup_parse_uint64(parse->size, &size) ||
		size > PG_INT64_MAX)
	{
		char	   *msg = psprintf("backup manifest has no valid size for file \"%s\"",
								   path);

		manifest_error(parse, msg);
		return;
	}
	if (parse->checksum != NULL && parse->algorithm == NULL)
	{
		char	   *msg = psprintf("backup manifest has a checksum without an algorithm for file \"%s\"",
								   path);

		manifest_error(parse, msg);
		return;
	}
	if (parse->checksum != NULL)
	{
		uint8	   *raw = palloc(strlen(parse->checksum) / 2 + 1);
		size_t		rawlen;

		if (!hex_decode_string(parse->checksum, raw, &rawlen))
		{
			char	   *msg = psprintf("backup manifest has an invalid checksum for file \"%s\"",
									   path);

			manifest_error(parse, msg);
			return;
		}
		pfree(raw);
	}

	if (!parse->want_files)
		return;

	oldcxt = MemoryContextSwitchTo(parse->resultcxt);
	f = palloc(sizeof(PitrManifestFile));
	f->path = pstrdup(path);
	f->size = (int64) size;
	f->algorithm = parse->algorithm ? pstrdup(parse->algorithm) : NULL;
	f->checksum_hex = parse->checksum ? pstrdup(parse->checksum) : NULL;
	parse->files = lappend(parse->files, f);
	MemoryContextSwitchTo(oldcxt);
}

static void
finish_wal_range(ManifestParse *parse)
{
	uint64		tli;
	XLogRecPtr	start;
	XLogRecPtr	end;
	const char *rest;

	if (parse->timeline == NULL || !pitr_backup_parse_uint64(parse->timeline, &tli) ||
		tli == 0 || tli > PG_UINT32_MAX)
	{
		manifest_error(parse,
					   "backup manifest has a WAL range without a valid timeline");
		return;
	}
	if (parse->start_lsn == NULL ||
		!pitr_backup_parse_lsn(parse->start_lsn, &start, &rest) ||
		*rest != '\0' ||
		parse->end_lsn == NULL ||
		!pitr_backup_parse_lsn(parse->end_lsn, &end, &rest) ||
		*rest != '\0' ||
		end < start)
	{
		manifest_error(parse,
					   "backup manifest has a WAL range without valid start and end LSNs");
		return;
	}

	if (parse->nranges == 0)
	{
		parse->first_tli = (TimeLineID) tli;
		parse->first_end = end;
	}
	parse->last_tli = (TimeLineID) tli;
	parse->last_start = start;
	parse->nranges++;
}

/* The field "fname" of the top object (level 1) or of a list entry. */
static ManifestField
lookup_field(ManifestParse *parse, int level, const char *fname)
{
	ManifestField section = level == 1 ? MF_OTHER : parse->section;

	if (level != 1 && section == MF_OTHER)
		return MF_OTHER;
	for (int f = MF_OTHER + 1; f < lengthof(manifest_fields); f++)
	{
		if (manifest_fields[f].section == section &&
			strcmp(fname, manifest_fields[f].name) == 0)
			return (ManifestField) f;
	}
	return MF_OTHER;
}

/* The top object; the Files and WAL-Ranges arrays; an entry of either. */
static void
manifest_open(void *state, int level, bool is_array)
{
	ManifestParse *parse = state;

	if (is_array)
	{
		if (level == 1 && parse->top_is_object &&
			(parse->top_field == MF_FILES || parse->top_field == MF_WAL_RANGES))
			parse->section = parse->top_field;
	}
	else if (level == 0)
		parse->top_is_object = true;
	else if (level == 2 && parse->section != MF_OTHER)
	{
		parse->in_entry = true;
		parse->entry_field = MF_OTHER;
		reset_entry(parse);
	}
}

static void
manifest_close(void *state, int level, bool is_array)
{
	ManifestParse *parse = state;

	if (is_array)
	{
		if (level == 1)
			parse->section = MF_OTHER;
	}
	else if (level == 2 && parse->in_entry)
	{
		if (parse->error == NULL)
		{
			if (parse->section == MF_FILES)
				finish_file(parse);
			else
				finish_wal_range(parse);
		}
		parse->in_entry = false;
	}
}

static void
manifest_field(void *state, int level, char *fname)
{
	ManifestParse *parse = state;

	if (level == 1 && parse->top_is_object)
		parse->top_field = lookup_field(parse, level, fname);
	else if (level == 3 && parse->in_entry)
		parse->entry_field = lookup_field(parse, level, fname);
	pfree(fname);
}

static void
manifest_scalar(void *state, int level, char *token, JsonTokenType tokentype)
{
	ManifestParse *parse = state;
	ManifestField field = MF_OTHER;
	char	  **slot = NULL;

	/* null means absent; objects and arrays as values are ignored */
	if (tokentype == JSON_TOKEN_NULL)
	{
		pfree(token);
		return;
	}

	if (level == 1 && parse->top_is_object)
		field = parse->top_field;
	else if (level == 3 && parse->in_entry)
		field = parse->entry_field;

	if (field == MF_FILES || field == MF_WAL_RANGES)
		manifest_error(parse,
					   "backup manifest has a list that is not an array");
	else if (field != MF_OTHER)
		slot = field_slot(parse, field);

	if (slot != NULL)
		set_value(slot, token);
	else
		pfree(token);
}

/*
 * Does the JSON nest deeper than "limit"?  The server's parser recurses and
 * would raise an ERROR at the stack depth limit; a manifest nests 3 deep.
 */
static bool
nests_too_deep(const char *buf, size_t len, int limit)
{
	int			depth = 0;
	bool		in_string = false;

	for (size_t i = 0; i < len; i++)
	{
		char		c = buf[i];

		if (in_string)
		{
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
		}
		else if (c == '"')
			in_string = true;
		else if (c == '{' || c == '[')
		{
			if (++depth > limit)
				return true;
		}
		else if (c == '}' || c == ']')
			depth--;
	}
	return false;
}

/*
 * Check the Manifest-Checksum: SHA-256 over every byte before the line that
 * holds it.  pg_basebackup puts that field last, on a line of its own.
 */
static bool
verify_manifest_checksum(const char *buf, size_t len, const char *expected,
						 char **err)
{
	static const char key[] = "\"Manifest-Checksum\"";
	size_t		keylen = sizeof(key) - 1;
	size_t		pos;
	size_t		linestart;
	bool		found = false;
	uint8		want[PG_SHA256_DIGEST_LENGTH + 1];
	uint8		got[PG_SHA256_DIGEST_LENGTH];
	size_t		wantlen;
	pg_cryptohash_ctx *ctx;

	if (strlen(expected) != PG_SHA256_DIGEST_LENGTH * 2 ||
		!hex_decode_string(expected, want, &wantlen))
	{
		*err = psprintf("invalid backup manifest checksum \"%s\"", expected);
		return false;
	}

	/* the last occurrence: a file name could contain the key */
	for (pos = len >= keylen ? len - keylen + 1 : 0; pos > 0; pos--)
	{
		if (memcmp(buf + pos - 1, key, keylen) == 0)
		{
			found = true;
			break;
		}
	}
	if (!found)
	{
		*err = pstrdup("backup manifest has no checksum");
		return false;
	}
	linestart = pos - 1;
	while (linestart > 0 && buf[linestart - 1] != '\n')
		linestart--;
	if (linestart == 0)
	{
		*err = pstrdup("backup manifest checksum is not on a line of its own");
		return false;
	}

	ctx = pg_cryptohash_create(PG_SHA256);
	if (ctx == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	if (pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) buf, linestart) < 0 ||
		pg_cryptohash_final(ctx, got, sizeof(got)) < 0)
	{
		*err = psprintf("could not compute backup manifest checksum: %s",
						   pg_cryptohash_error(ctx));
		pg_cryptohash_free(ctx);
		return false;
	}
	pg_cryptohash_free(ctx);

	if (memcmp(got, want, PG_SHA256_DIGEST_LENGTH) != 0)
	{
		*err = pstrdup("backup manifest checksum mismatch");
		return false;
	}
	return true;
}

static const PitrJsonSem manifest_sem = {
	.open = manifest_open,
	.close = manifest_close,
	.field = manifest_field,
	.scalar = manifest_scalar,
};

/*
 * Everything but the list of files ends up in "b"; see backup.h.
 */
bool
pitr_parse_backup_manifest(const char *buf, size_t len, PitrBackup *b,
						   List **files, char **err)
{
	MemoryContext resultcxt = CurrentMemoryContext;
	MemoryContext parsecxt;
	ManifestParse parse;
	char	   *jerr;
	bool		ok = false;
	uint64		v;

	*err = NULL;
	if (files != NULL)
		*files = NIL;
	if (len > (size_t) INT_MAX)
	{
		*err = pstrdup("backup manifest is too large");
		return false;
	}

	if (nests_too_deep(buf, len, MAX_MANIFEST_DEPTH))
	{
		*err = pstrdup("backup manifest is nested too deeply");
		return false;
	}

	/* the lexer's tokens are garbage to us: keep them out of resultcxt */
	parsecxt = AllocSetContextCreate(CurrentMemoryContext,
									 "pitr_restore manifest parse",
									 ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(parsecxt);

	memset(&parse, 0, sizeof(parse));
	parse.resultcxt = resultcxt;
	parse.want_files = (files != NULL);

	/* manifests are UTF-8; names that are not use Encoded-Path */
	jerr = pitr_json_parse(buf, len, &manifest_sem, &parse);

	MemoryContextSwitchTo(resultcxt);

	if (jerr != NULL)
		*err = psprintf("could not parse backup manifest: %s", jerr);
	else if (parse.error != NULL)
		*err = parse.error;
	else if (!parse.top_is_object || parse.version == NULL)
		*err = pstrdup("backup manifest has no \"PostgreSQL-Backup-Manifest-Version\"");
	else if (!pitr_backup_parse_uint64(parse.version, &v) || v < 1 || v > 2)
		*err = psprintf("unsupported backup manifest version \"%s\"",
						   parse.version);
	else if (parse.manifest_checksum == NULL)
		*err = pstrdup("backup manifest has no checksum");
	else if (verify_manifest_checksum(buf, len, parse.manifest_checksum,
									  err))
		ok = true;

	if (ok && parse.nranges > 0 && b->start_lsn != InvalidXLogRecPtr &&
		b->start_lsn != parse.last_start)
	{
		*err = psprintf("backup manifest WAL range starts at %X/%X, but the backup starts at %X/%X",
						   LSN_FORMAT_ARGS(parse.last_start),
						   LSN_FORMAT_ARGS(b->start_lsn));
		ok = false;
	}

	/*
	 * Version 2 (PostgreSQL 17) records the system identifier: it must be
	 * the one pg_control has, as pg_combinebackup and pg_verifybackup
	 * require.
	 */
	if (ok && parse.system_id != NULL)
	{
		if (!pitr_backup_parse_uint64(parse.system_id, &v) || v == 0)
		{
			*err = psprintf("backup manifest has an invalid system identifier \"%s\"",
							parse.system_id);
			ok = false;
		}
		else if (b->system_identifier != 0 && b->system_identifier != v)
		{
			*err = psprintf("backup manifest has system identifier " UINT64_FORMAT ", but the backup's pg_control has " UINT64_FORMAT,
							v, b->system_identifier);
			ok = false;
		}
	}

	if (ok)
	{
		if (parse.nranges > 0 && b->start_lsn == InvalidXLogRecPtr)
		{
			b->start_lsn = parse.last_start;
			b->start_tli = parse.last_tli;
		}
		if (parse.nranges > 0 && b->stop_lsn == InvalidXLogRecPtr)
		{
			b->stop_lsn = parse.first_end;
			b->stop_tli = parse.first_tli;
		}
		if (parse.system_id != NULL && b->system_identifier == 0)
			b->system_identifier = v;
		b->has_manifest = true;
		if (files != NULL)
			*files = parse.files;
	}
	else if (files != NULL)
		list_free_deep(parse.files);

	MemoryContextDelete(parsecxt);
	return ok;
}
