/*-------------------------------------------------------------------------
 *
 * backup_label.c
 *	  Parse a backup_label or a backup history file (*.backup): a pure
 *	  parser over a buffer, with no file access and no ERROR for bad
 *	  content, so it can be fed anything (and fuzzed).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <stdio.h>

#include "pgtime.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "backup.h"
#include "compat/pg_compat.h"
#include "format/hex.h"

/* Lines of a backup_label or backup history file we understand. */
typedef enum LabelKey
{
	LK_START_WAL,
	LK_STOP_WAL,
	LK_CHECKPOINT,
	LK_BACKUP_FROM,
	LK_START_TIME,
	LK_STOP_TIME,
	LK_LABEL,
	LK_START_TLI,
	LK_STOP_TLI,
	LK_INCR_LSN,
	LK_INCR_TLI,
	LK_COUNT
} LabelKey;

static const char *const label_keys[LK_COUNT] = {
	"START WAL LOCATION:",
	"STOP WAL LOCATION:",
	"CHECKPOINT LOCATION:",
	"BACKUP FROM:",
	"START TIME:",
	"STOP TIME:",
	"LABEL:",
	"START TIMELINE:",
	"STOP TIMELINE:",
	"INCREMENTAL FROM LSN:",
	"INCREMENTAL FROM TLI:",
};

/* A non-negative decimal integer, nothing else. */
bool
pitr_backup_parse_uint64(const char *str, uint64 *result)
{
	uint64		v = 0;

	if (*str == '\0')
		return false;
	for (const char *p = str; *p; p++)
	{
		if (*p < '0' || *p > '9')
			return false;
		if (v > (PG_UINT64_MAX - (*p - '0')) / 10)
			return false;
		v = v * 10 + (*p - '0');
	}
	*result = v;
	return true;
}

bool
pitr_backup_parse_lsn(const char *str, XLogRecPtr *lsn, const char **end)
{
	uint64		parts[2] = {0, 0};
	const char *p = str;

	for (int i = 0; i < 2; i++)
	{
		int			ndigits = 0;

		if (i == 1)
		{
			if (*p != '/')
				return false;
			p++;
		}
		while (ndigits < 9)
		{
			int			d = pitr_hex_digit(*p, true);

			if (d < 0)
				break;
			parts[i] = parts[i] * 16 + d;
			ndigits++;
			p++;
		}
		if (ndigits == 0 || ndigits > 8)
			return false;
	}
	*lsn = (parts[0] << 32) | parts[1];
	if (end != NULL)
		*end = p;
	return true;
}

/* A decimal timeline ID, 1 or more, and nothing else. */
static bool
parse_tli(const char *str, TimeLineID *tli)
{
	uint64		v;

	if (!pitr_backup_parse_uint64(str, &v) || v == 0 || v > PG_UINT32_MAX)
		return false;
	*tli = (TimeLineID) v;
	return true;
}

/*
 * "X/X (file TTTTTTTTXXXXXXXXYYYYYYYY)": the LSN, and the timeline from the
 * file name when there is one (*tli is left alone otherwise).
 */
static bool
parse_wal_location(const char *str, XLogRecPtr *lsn, TimeLineID *tli)
{
	const char *rest;
	TimeLineID	ftli;

	if (!pitr_backup_parse_lsn(str, lsn, &rest))
		return false;
	if (strncmp(rest, " (file ", 7) == 0 && strlen(rest) == 7 + 24 + 1 &&
		strspn(rest + 7, "0123456789ABCDEF") == 24 && rest[7 + 24] == ')' &&
		sscanf(rest + 7, "%08X", &ftli) == 1 && ftli != 0)
		*tli = ftli;
	else if (*rest != '\0' && *rest != ' ')
		return false;
	return true;
}

/*
 * "%Y-%m-%d %H:%M:%S %Z" as the server writes it, the zone being an
 * abbreviation (UTC, CEST) or an offset (+01).  Uses the datetime input
 * routines directly because timestamptz_in would ERROR on bad input.
 */
static bool
parse_label_time(const char *str, TimestampTz *result)
{
	char		workbuf[MAXDATELEN + MAXDATEFIELDS];
	char	   *field[MAXDATEFIELDS];
	int			ftype[MAXDATEFIELDS];
	int			nf;
	int			dtype;
	int			tz;
	struct pg_tm tt;
	fsec_t		fsec;

	if (strlen(str) >= MAXDATELEN)
		return false;
	if (ParseDateTime(str, workbuf, sizeof(workbuf), field, ftype,
					  MAXDATEFIELDS, &nf) != 0)
		return false;
	/* date, time and zone: without a zone the session's would be assumed */
	if (nf < 3)
		return false;
	if (pitr_decode_datetime(field, ftype, nf, &dtype, &tt, &fsec, &tz) != 0 ||
		dtype != DTK_DATE)
		return false;
	if (tm2timestamp(&tt, fsec, &tz, result) != 0 ||
		!IS_VALID_TIMESTAMP(*result))
		return false;
	return true;
}

/* What pitr_parse_backup_label has read so far, beyond "b" itself. */
typedef struct LabelRead
{
	bool		seen[LK_COUNT];
	bool		start_ok;		/* START WAL LOCATION parsed */
	TimeLineID	start_file_tli; /* the timelines of the file names */
	TimeLineID	stop_file_tli;
	bool		start_tli_line; /* START TIMELINE / STOP TIMELINE given */
	bool		stop_tli_line;
} LabelRead;

/* An LSN that is the whole value; false if it is not one. */
static bool
parse_whole_lsn(const char *value, XLogRecPtr *lsn)
{
	const char *rest;

	return pitr_backup_parse_lsn(value, lsn, &rest) && *rest == '\0';
}

/* Take one known line's value into "b". */
static void
read_label_line(LabelKey key, const char *value, PitrBackup *b, LabelRead *r)
{
	XLogRecPtr	lsn;

	switch (key)
	{
		case LK_START_WAL:
			r->start_ok = parse_wal_location(value, &lsn, &r->start_file_tli);
			if (r->start_ok)
				b->start_lsn = lsn;
			break;
		case LK_STOP_WAL:
			if (parse_wal_location(value, &lsn, &r->stop_file_tli))
				b->stop_lsn = lsn;
			break;
		case LK_CHECKPOINT:
			if (parse_whole_lsn(value, &lsn))
				b->checkpoint_lsn = lsn;
			break;
		case LK_BACKUP_FROM:
			b->backup_from = pstrdup(value);
			break;
		case LK_START_TIME:
			b->has_start_time = parse_label_time(value, &b->start_time);
			break;
		case LK_STOP_TIME:
			b->has_stop_time = parse_label_time(value, &b->stop_time);
			break;
		case LK_LABEL:
			b->label = pstrdup(value);
			break;
		case LK_START_TLI:
			r->start_tli_line = parse_tli(value, &b->start_tli);
			break;
		case LK_STOP_TLI:
			r->stop_tli_line = parse_tli(value, &b->stop_tli);
			break;
		case LK_INCR_LSN:
			if (parse_whole_lsn(value, &lsn) && lsn != InvalidXLogRecPtr)
				b->incremental_from_lsn = lsn;
			break;
		case LK_INCR_TLI:
			(void) parse_tli(value, &b->incremental_from_tli);
			break;
		case LK_COUNT:
			break;
	}
}

/* The key "line" starts with (LK_COUNT if none), and its value. */
static LabelKey
label_key(char *line, char **value)
{
	for (int key = 0; key < LK_COUNT; key++)
	{
		size_t		klen = strlen(label_keys[key]);

		if (strncmp(line, label_keys[key], klen) == 0)
		{
			*value = line + klen;
			if (**value == ' ')
				(*value)++;
			return (LabelKey) key;
		}
	}
	return LK_COUNT;
}

/*
 * After the last line: the start is required, an incremental backup
 * (PostgreSQL 17+) names the backup it builds on with both lines, as
 * pg_combinebackup requires, and before PostgreSQL 11 the timelines were
 * only in the file names.  false with *err set if the label is unusable.
 */
static bool
finish_label(PitrBackup *b, const LabelRead *r, char **err)
{
	if (!r->seen[LK_START_WAL])
		*err = pstrdup("missing \"START WAL LOCATION\" line");
	else if (!r->start_ok)
		*err = pstrdup("invalid \"START WAL LOCATION\" line");
	else if ((r->seen[LK_INCR_LSN] || r->seen[LK_INCR_TLI]) &&
			 (b->incremental_from_lsn == InvalidXLogRecPtr ||
			  b->incremental_from_tli == 0))
		*err = pstrdup("invalid or incomplete \"INCREMENTAL FROM LSN\" and \"INCREMENTAL FROM TLI\" lines");
	else if ((r->seen[LK_INCR_LSN] || r->seen[LK_INCR_TLI]) &&
			 b->incremental_from_lsn >= b->start_lsn)
		*err = pstrdup("\"INCREMENTAL FROM LSN\" is not before the backup's start");
	if (*err != NULL)
		return false;

	if (!r->start_tli_line && r->start_file_tli != 0)
		b->start_tli = r->start_file_tli;
	if (!r->stop_tli_line && r->stop_file_tli != 0 &&
		b->stop_lsn != InvalidXLogRecPtr)
		b->stop_tli = r->stop_file_tli;
	return true;
}

/*
 * See backup.h.  Recovery itself reads backup_label with fscanf in a fixed
 * order; we are more forgiving since we only report what we find.
 */
bool
pitr_parse_backup_label(const char *buf, size_t len, PitrBackup *b,
						char **err)
{
	const char *p = buf;
	const char *end = buf + len;
	LabelRead	r;

	*err = NULL;
	memset(&r, 0, sizeof(r));
	while (p < end)
	{
		const char *nl = memchr(p, '\n', end - p);
		size_t		linelen = (nl ? nl : end) - p;
		char	   *line;
		char	   *value = NULL;
		LabelKey	key;

		if (linelen > 0 && p[linelen - 1] == '\r')
			linelen--;
		line = pnstrdup(p, linelen);
		p = nl ? nl + 1 : end;

		key = label_key(line, &value);
		/* unknown lines, and repeats that a LABEL could have forged */
		if (key != LK_COUNT && !r.seen[key])
		{
			r.seen[key] = true;
			read_label_line(key, value, b, &r);
		}
		pfree(line);
	}
	return finish_label(b, &r, err);
}


/*
 * See backup.h.  The same fscanf calls as read_backup_label(), over the
 * buffer as a stream, so that a label our forgiving parser reads but
 * recovery refuses (a mangled first line, a START TIMELINE that disagrees
 * with the file name) makes the backup unusable instead of certified.
 */
bool
pitr_backup_label_recovery_reads(const char *buf, size_t len,
								 XLogRecPtr *start_lsn, TimeLineID *start_tli,
								 XLogRecPtr *checkpoint_lsn, char **err)
{
	FILE	   *lfp;
	char	   *copy;
	char		ch;
	char		walfile[17];	/* %16s */
	char		word[20];
	char		text[1024];
	uint32		hi,
				lo;
	TimeLineID	tli_from_walseg,
				tli_from_file;
	bool		ok = false;

	*err = NULL;
	if (len == 0)
	{
		*err = pstrdup("the file is empty");
		return false;
	}
	/* fmemopen reads at most len bytes; keep a NUL after them for %[ */
	copy = palloc(len + 1);
	memcpy(copy, buf, len);
	copy[len] = '\0';
	lfp = fmemopen(copy, len, "r");
	if (lfp == NULL)
	{
		*err = psprintf("could not read the label: %m");
		pfree(copy);
		return false;
	}

	if (fscanf(lfp, "START WAL LOCATION: %X/%X (file %08X%16s)%c",
			   &hi, &lo, &tli_from_walseg, walfile, &ch) != 5 || ch != '\n')
		*err = pstrdup("its first line is not \"START WAL LOCATION: X/X (file ...)\" as recovery reads it");
	else
	{
		*start_lsn = ((uint64) hi << 32) | lo;
		*start_tli = tli_from_walseg;
		if (fscanf(lfp, "CHECKPOINT LOCATION: %X/%X%c", &hi, &lo, &ch) != 3 ||
			ch != '\n')
			*err = pstrdup("its second line is not \"CHECKPOINT LOCATION: X/X\" as recovery reads it");
		else
		{
			/* the optional lines, in recovery's order: only the timeline is checked */
			int			optional = 0;

			*checkpoint_lsn = ((uint64) hi << 32) | lo;
			optional += fscanf(lfp, "BACKUP METHOD: %19s\n", word) == 1;
			optional += fscanf(lfp, "BACKUP FROM: %19s\n", word) == 1;
			optional += fscanf(lfp, "START TIME: %127[^\n]\n", text) == 1;
			optional += fscanf(lfp, "LABEL: %1023[^\n]\n", text) == 1;
			(void) optional;
			if (fscanf(lfp, "START TIMELINE: %u\n", &tli_from_file) == 1 &&
				tli_from_file != tli_from_walseg)
				*err = psprintf("its START TIMELINE %u disagrees with the timeline %u of its start WAL file",
								tli_from_file, tli_from_walseg);
			else
				ok = true;
		}
	}
	fclose(lfp);
	pfree(copy);
	return ok;
}
