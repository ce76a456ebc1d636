/*-------------------------------------------------------------------------
 *
 * sidecar.c
 *	  Writing and parsing the segment summary sidecar (see sidecar.h), and
 *	  checking that a sidecar describes exactly one archived file.
 *
 * The format is line oriented, one "key value..." per line in a fixed
 * order, so that a DBA can read it and a parser can be strict:
 *
 *	pitr_restore segment summary 1
 *	file 000000010000000000000003.zst
 *	size 1234567
 *	...
 *	relations 3
 *	rels 0 1262
 *	rels 5 1259 16384
 *	event restore_point 0/3000060 0/30000A0 0 7441... - 0 0 - =before_deploy
 *	end 8c3e2f10
 *
 * The last line holds the CRC-32C of every byte before it, so a torn or
 * edited sidecar is refused.  Strings are "-" (NULL) or "=" followed by
 * the text, bytes outside printable ASCII and '%' written as %XX.
 * Timestamps are TimestampTz microseconds, so nothing is lost.  Format 3
 * adds the relation files the segment touches: "relations N" and N pairs
 * in "rels <db> <relfilenode>..." lines, one per database, both ascending;
 * or "relations -" when not known (more than PITR_SIDECAR_MAX_RELATIONS).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "port/pg_crc32c.h"
#include "storage/fd.h"

#include "format/archive_files.h"
#include "format/hex.h"
#include "format/relset.h"
#include "format/sidecar.h"

/* ---- writing ---- */

static void
put_string(StringInfo buf, const char *s)
{
	if (s == NULL)
	{
		appendStringInfoChar(buf, '-');
		return;
	}
	appendStringInfoChar(buf, '=');
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		if (*p > 0x20 && *p < 0x7f && *p != '%')
			appendStringInfoChar(buf, (char) *p);
		else
			appendStringInfo(buf, "%%%02X", *p);
	}
}

static void
put_lsn(StringInfo buf, XLogRecPtr lsn)
{
	appendStringInfo(buf, "%X/%X", LSN_FORMAT_ARGS(lsn));
}

/* "relations N" and a "rels" line per database, or "relations -". */
static void
put_relations(StringInfo buf, const PitrRelSet *set)
{
	Oid		   *dbs;
	Oid		   *rels;
	int			n;

	if (set == NULL || pitr_relset_count(set) > PITR_SIDECAR_MAX_RELATIONS)
	{
		appendStringInfoString(buf, "relations -\n");
		return;
	}
	n = pitr_relset_arrays(set, &dbs, &rels);
	appendStringInfo(buf, "relations %d", n);
	for (int i = 0; i < n; i++)
	{
		if (i == 0 || dbs[i] != dbs[i - 1])
			appendStringInfo(buf, "\nrels %u", dbs[i]);
		appendStringInfo(buf, " %u", rels[i]);
	}
	appendStringInfoChar(buf, '\n');
	pfree(dbs);
	pfree(rels);
}

void
pitr_sidecar_format(const PitrSidecar *sc, StringInfo buf)
{
	const PitrSegmentSummary *s = &sc->sum;
	int			start = buf->len;
	pg_crc32c	crc;
	ListCell   *lc;

	appendStringInfo(buf, "%s %d\n", PITR_SIDECAR_MAGIC, PITR_SIDECAR_VERSION);
	appendStringInfoString(buf, "file ");
	put_string(buf, sc->file_name);
	appendStringInfo(buf, "\nsize " INT64_FORMAT "\n", sc->file_size);
	appendStringInfo(buf, "mtime " INT64_FORMAT ".%09d\n", sc->mtime_sec, sc->mtime_nsec);
	appendStringInfo(buf, "crc32c %08x\n", sc->crc);
	appendStringInfoString(buf, "segment ");
	put_string(buf, sc->segment_name);
	appendStringInfo(buf, "\ncompression %s\n", pitr_compression_name(sc->compression));
	appendStringInfo(buf, "sysid " UINT64_FORMAT "\n", sc->sysid);
	appendStringInfo(buf, "magic %u\ninfo %u\nseg_size %u\nblcksz %u\n",
					 sc->magic, sc->info, sc->seg_size, sc->blcksz);
	appendStringInfoString(buf, "pageaddr ");
	put_lsn(buf, sc->pageaddr);
	appendStringInfoString(buf, "\nprev ");
	put_string(buf, sc->prev_file);
	appendStringInfoString(buf, "\nstart ");
	put_lsn(buf, sc->start);
	appendStringInfoString(buf, "\nfirst_lsn ");
	put_lsn(buf, s->first_lsn);
	appendStringInfoString(buf, "\nnext_lsn ");
	put_lsn(buf, s->next_lsn);
	appendStringInfoString(buf, "\nfirst_prev ");
	put_lsn(buf, s->has_link ? s->first_prev : InvalidXLogRecPtr);
	appendStringInfoString(buf, "\nlast_lsn ");
	put_lsn(buf, s->has_link ? s->last_lsn : InvalidXLogRecPtr);
	appendStringInfo(buf, "\nrecords " INT64_FORMAT "\ncommits " INT64_FORMAT
					 "\naborts " INT64_FORMAT "\n",
					 s->records, s->commits, s->aborts);
	if (s->has_xact_time)
		appendStringInfo(buf, "xact_time " INT64_FORMAT " " INT64_FORMAT " "
						 INT64_FORMAT " " INT64_FORMAT "\n",
						 (int64) s->first_xact_time, (int64) s->last_xact_time,
						 (int64) s->min_xact_time, (int64) s->max_xact_time);
	else
		appendStringInfoString(buf, "xact_time -\n");
	if (s->has_xid)
		appendStringInfo(buf, "xid %u %u\n", s->min_xid, s->max_xid);
	else
		appendStringInfoString(buf, "xid -\n");
	appendStringInfo(buf, "has_switch %d\nwal_level_minimal %d\npending_marks %d\ncomplete %d\n",
					 s->has_switch ? 1 : 0, s->wal_level_minimal ? 1 : 0,
					 s->pending_marks, s->complete ? 1 : 0);
	appendStringInfoString(buf, "error ");
	put_string(buf, s->error);
	appendStringInfoChar(buf, '\n');
	put_relations(buf, s->rels);

	foreach(lc, s->events)
	{
		PitrWalEvent *ev = lfirst(lc);

		appendStringInfo(buf, "event %s ", pitr_event_kind_name(ev->kind));
		put_lsn(buf, ev->lsn);
		appendStringInfoChar(buf, ' ');
		put_lsn(buf, ev->end_lsn);
		appendStringInfo(buf, " %u ", ev->xid);
		if (ev->has_time)
			appendStringInfo(buf, INT64_FORMAT, (int64) ev->time);
		else
			appendStringInfoChar(buf, '-');
		appendStringInfoChar(buf, ' ');
		put_lsn(buf, ev->ref_lsn);
		appendStringInfo(buf, " %u %u ", ev->tli, ev->prev_tli);
		put_string(buf, ev->outcome);
		appendStringInfoChar(buf, ' ');
		put_string(buf, ev->name);
		appendStringInfoChar(buf, '\n');
	}

	INIT_CRC32C(crc);
	COMP_CRC32C(crc, buf->data + start, buf->len - start);
	FIN_CRC32C(crc);
	appendStringInfo(buf, "end %08x\n", crc);
}

/* ---- parsing ---- */

typedef struct Cursor
{
	const char *p;				/* next unread byte */
	const char *end;
	int			lineno;
	char	   *err;
} Cursor;

/* The next line, NUL-terminated in a copy; NULL at the end of the text. */
static char *
next_line(Cursor *c)
{
	const char *nl;
	char	   *line;

	if (c->p >= c->end)
		return NULL;
	nl = memchr(c->p, '\n', c->end - c->p);
	if (nl == NULL)
		return NULL;			/* a last line without newline is torn */
	line = pnstrdup(c->p, nl - c->p);
	if (strlen(line) != (size_t) (nl - c->p))
	{
		c->err = psprintf("line %d contains a NUL byte", c->lineno + 1);
		return NULL;
	}
	c->p = nl + 1;
	c->lineno++;
	return line;
}

static bool
fail(Cursor *c, const char *what)
{
	if (c->err == NULL)
		c->err = psprintf("line %d: %s", c->lineno, what);
	return false;
}

/* Split off the next space-separated word of *s. */
static char *
word(char **s)
{
	char	   *w = *s;
	char	   *sp;

	if (w == NULL)
		return NULL;
	sp = strchr(w, ' ');
	if (sp)
	{
		*sp = '\0';
		*s = sp + 1;
	}
	else
		*s = NULL;
	return w;
}

static bool
parse_u64(const char *w, uint64 *v, int base)
{
	uint64		r = 0;
	int			n = 0;

	if (w == NULL || *w == '\0')
		return false;
	for (; *w; w++, n++)
	{
		int			d;

		if (*w >= '0' && *w <= '9')
			d = *w - '0';
		else if (base == 16 && *w >= 'a' && *w <= 'f')
			d = *w - 'a' + 10;
		else if (base == 16 && *w >= 'A' && *w <= 'F')
			d = *w - 'A' + 10;
		else
			return false;
		if (r > (PG_UINT64_MAX - d) / base)
			return false;
		r = r * base + d;
	}
	*v = r;
	return n > 0;
}

static bool
parse_i64(const char *w, int64 *v)
{
	uint64		u;
	bool		neg = (w != NULL && *w == '-');

	if (!parse_u64(neg ? w + 1 : w, &u, 10) || u > (uint64) PG_INT64_MAX)
		return false;
	*v = neg ? -(int64) u : (int64) u;
	return true;
}

static bool
parse_u32(const char *w, uint32 *v)
{
	uint64		u;

	if (!parse_u64(w, &u, 10) || u > PG_UINT32_MAX)
		return false;
	*v = (uint32) u;
	return true;
}

static bool
parse_bool(const char *w, bool *v)
{
	if (w == NULL || (strcmp(w, "0") != 0 && strcmp(w, "1") != 0))
		return false;
	*v = (w[0] == '1');
	return true;
}

static bool
parse_lsn(const char *w, XLogRecPtr *lsn)
{
	const char *slash;
	char		hi[9];
	uint64		h,
				l;

	if (w == NULL || (slash = strchr(w, '/')) == NULL ||
		slash - w < 1 || slash - w > 8 || strlen(slash + 1) > 8)
		return false;
	memcpy(hi, w, slash - w);
	hi[slash - w] = '\0';
	if (!parse_u64(hi, &h, 16) || !parse_u64(slash + 1, &l, 16))
		return false;
	*lsn = (h << 32) | l;
	return true;
}

/* "-" is NULL; "=text" is text with %XX escapes undone. */
static bool
parse_string(const char *w, char **out)
{
	StringInfoData s;

	if (w == NULL)
		return false;
	if (strcmp(w, "-") == 0)
	{
		*out = NULL;
		return true;
	}
	if (w[0] != '=')
		return false;
	initStringInfo(&s);
	for (w++; *w; w++)
	{
		if (*w == '%')
		{
			/* %02X is what the writer emits: nothing else is read */
			int			h1 = pitr_hex_digit(w[1], false);
			int			h2 = h1 >= 0 ? pitr_hex_digit(w[2], false) : -1;

			if (h2 < 0 || (h1 == 0 && h2 == 0))
				return false;
			appendStringInfoChar(&s, (char) (h1 * 16 + h2));
			w += 2;
		}
		else if ((unsigned char) *w <= 0x20 || (unsigned char) *w >= 0x7f)
			return false;
		else
			appendStringInfoChar(&s, *w);
	}
	*out = s.data;
	return true;
}

/* The next line must be "key value..."; give the rest of the line. */
static char *
expect(Cursor *c, const char *key)
{
	char	   *line = next_line(c);
	size_t		klen = strlen(key);

	if (line == NULL)
		return NULL;
	if (strncmp(line, key, klen) != 0 || line[klen] != ' ')
	{
		fail(c, psprintf("expected \"%s\"", key));
		return NULL;
	}
	return line + klen + 1;
}

/* One value line: the rest must be exactly one word. */
static char *
expect1(Cursor *c, const char *key)
{
	char	   *rest = expect(c, key);

	if (rest && strchr(rest, ' '))
	{
		fail(c, psprintf("\"%s\" takes one value", key));
		return NULL;
	}
	return rest;
}

static bool
parse_event(Cursor *c, char *rest, PitrSegmentSummary *s)
{
	PitrWalEvent *ev = palloc0(sizeof(PitrWalEvent));
	char	   *kind = word(&rest);
	char	   *w;
	char	   *outcome;
	bool		found = false;
	uint32		u;

	for (int k = PITR_EVENT_RESTORE_POINT; k <= PITR_EVENT_MARK; k++)
		if (kind && strcmp(kind, pitr_event_kind_name((PitrEventKind) k)) == 0)
		{
			ev->kind = (PitrEventKind) k;
			found = true;
		}
	if (!found)
		return fail(c, "unknown event kind");
	if (!parse_lsn(word(&rest), &ev->lsn) || !parse_lsn(word(&rest), &ev->end_lsn))
		return fail(c, "bad event LSN");
	if (!parse_u32(word(&rest), &ev->xid))
		return fail(c, "bad event xid");
	w = word(&rest);
	if (w && strcmp(w, "-") == 0)
		ev->has_time = false;
	else if (parse_i64(w, &ev->time))
		ev->has_time = true;
	else
		return fail(c, "bad event time");
	if (!parse_lsn(word(&rest), &ev->ref_lsn))
		return fail(c, "bad event reference LSN");
	if (!parse_u32(word(&rest), &u))
		return fail(c, "bad event timeline");
	ev->tli = u;
	if (!parse_u32(word(&rest), &u))
		return fail(c, "bad event previous timeline");
	ev->prev_tli = u;
	if (!parse_string(word(&rest), &outcome))
		return fail(c, "bad event outcome");
	if (outcome == NULL)
		ev->outcome = NULL;
	else if (strcmp(outcome, "committed") == 0)
		ev->outcome = "committed";
	else if (strcmp(outcome, "aborted") == 0)
		ev->outcome = "aborted";
	else
		return fail(c, "unknown event outcome");
	if (!parse_string(word(&rest), &ev->name) || rest != NULL)
		return fail(c, "bad event name");
	s->events = lappend(s->events, ev);
	return true;
}

/*
 * "relations -", or "relations N" and the "rels" lines holding exactly N
 * pairs, databases ascending, each database's files ascending.
 */
static bool
parse_relations(Cursor *c, PitrSegmentSummary *s)
{
	char	   *v = expect1(c, "relations");
	uint32		n;
	int			seen = 0;
	bool		have_db = false;
	uint32		last_db = 0;

	if (v == NULL)
		return fail(c, "bad relations");
	if (strcmp(v, "-") == 0)
	{
		s->rels = NULL;
		return true;
	}
	if (!parse_u32(v, &n) || n > PITR_SIDECAR_MAX_RELATIONS)
		return fail(c, "bad relations count");
	s->rels = pitr_relset_create();
	while (seen < (int) n)
	{
		char	   *rest = expect(c, "rels");
		uint32		db;
		uint32		rel;
		bool		have_rel = false;
		uint32		last_rel = 0;

		if (rest == NULL || !parse_u32(word(&rest), &db) ||
			(have_db && db <= last_db))
			return fail(c, "bad rels database");
		have_db = true;
		last_db = db;
		if (rest == NULL)
			return fail(c, "rels line without files");
		while (rest != NULL)
		{
			if (!parse_u32(word(&rest), &rel) || (have_rel && rel <= last_rel) ||
				++seen > (int) n)
				return fail(c, "bad rels file");
			have_rel = true;
			last_rel = rel;
			pitr_relset_add(s->rels, (Oid) db, (Oid) rel);
		}
	}
	return true;
}

static bool
parse_body(Cursor *c, PitrSidecar *sc)
{
	PitrSegmentSummary *s = &sc->sum;
	char	   *v;
	char	   *dot;
	uint64		u;
	uint32		u32;
	int64		i;
	char	   *comp;
	char	   *line;

#define NEED(cond, what) do { if (!(cond)) return fail(c, what); } while (0)

	NEED((v = expect1(c, "file")) && parse_string(v, &sc->file_name) &&
		 sc->file_name != NULL, "bad file name");
	NEED((v = expect1(c, "size")) && parse_i64(v, &sc->file_size) &&
		 sc->file_size >= 0, "bad size");
	NEED((v = expect1(c, "mtime")) && (dot = strchr(v, '.')) != NULL &&
		 strlen(dot + 1) == 9, "bad mtime");
	*dot = '\0';
	NEED(parse_i64(v, &sc->mtime_sec) && parse_u32(dot + 1, &u32) &&
		 u32 < 1000000000, "bad mtime");
	sc->mtime_nsec = (int32) u32;
	NEED((v = expect1(c, "crc32c")) && strlen(v) == 8 && parse_u64(v, &u, 16),
		 "bad crc32c");
	sc->crc = (uint32) u;
	NEED((v = expect1(c, "segment")) && parse_string(v, &sc->segment_name) &&
		 sc->segment_name != NULL, "bad segment name");
	NEED((comp = expect1(c, "compression")) != NULL, "bad compression");
	{
		bool		known = false;

		for (int k = 0; k < PITR_NUM_COMPRESSIONS; k++)
			if (strcmp(comp, pitr_fetch_order[k].name) == 0)
			{
				sc->compression = pitr_fetch_order[k].c;
				known = true;
			}
		NEED(known, "unknown compression");
	}
	NEED((v = expect1(c, "sysid")) && parse_u64(v, &sc->sysid, 10), "bad sysid");
	NEED((v = expect1(c, "magic")) && parse_u32(v, &u32) && u32 <= PG_UINT16_MAX,
		 "bad magic");
	sc->magic = (uint16) u32;
	NEED((v = expect1(c, "info")) && parse_u32(v, &u32) && u32 <= PG_UINT16_MAX,
		 "bad info");
	sc->info = (uint16) u32;
	NEED((v = expect1(c, "seg_size")) && parse_u32(v, &sc->seg_size), "bad seg_size");
	NEED((v = expect1(c, "blcksz")) && parse_u32(v, &sc->blcksz), "bad blcksz");
	NEED((v = expect1(c, "pageaddr")) && parse_lsn(v, &sc->pageaddr), "bad pageaddr");
	NEED((v = expect1(c, "prev")) && parse_string(v, &sc->prev_file), "bad prev");
	NEED((v = expect1(c, "start")) && parse_lsn(v, &sc->start), "bad start");
	NEED((v = expect1(c, "first_lsn")) && parse_lsn(v, &s->first_lsn), "bad first_lsn");
	NEED((v = expect1(c, "next_lsn")) && parse_lsn(v, &s->next_lsn), "bad next_lsn");
	if (sc->version >= 2)
	{
		NEED((v = expect1(c, "first_prev")) && parse_lsn(v, &s->first_prev),
			 "bad first_prev");
		NEED((v = expect1(c, "last_lsn")) && parse_lsn(v, &s->last_lsn),
			 "bad last_lsn");
		s->has_link = !XLogRecPtrIsInvalid(s->last_lsn);
	}
	NEED((v = expect1(c, "records")) && parse_i64(v, &s->records) && s->records >= 0,
		 "bad records");
	NEED((v = expect1(c, "commits")) && parse_i64(v, &s->commits) && s->commits >= 0,
		 "bad commits");
	NEED((v = expect1(c, "aborts")) && parse_i64(v, &s->aborts) && s->aborts >= 0,
		 "bad aborts");
	NEED((v = expect(c, "xact_time")) != NULL, "bad xact_time");
	if (strcmp(v, "-") == 0)
		s->has_xact_time = false;
	else
	{
		NEED(parse_i64(word(&v), &i), "bad xact_time");
		s->first_xact_time = i;
		NEED(parse_i64(word(&v), &i), "bad xact_time");
		s->last_xact_time = i;
		NEED(parse_i64(word(&v), &i), "bad xact_time");
		s->min_xact_time = i;
		NEED(parse_i64(word(&v), &i) && v == NULL, "bad xact_time");
		s->max_xact_time = i;
		s->has_xact_time = true;
	}
	NEED((v = expect(c, "xid")) != NULL, "bad xid");
	if (strcmp(v, "-") == 0)
		s->has_xid = false;
	else
	{
		NEED(parse_u32(word(&v), &s->min_xid) && parse_u32(word(&v), &s->max_xid) &&
			 v == NULL, "bad xid");
		s->has_xid = true;
	}
	NEED((v = expect1(c, "has_switch")) && parse_bool(v, &s->has_switch), "bad has_switch");
	NEED((v = expect1(c, "wal_level_minimal")) && parse_bool(v, &s->wal_level_minimal),
		 "bad wal_level_minimal");
	NEED((v = expect1(c, "pending_marks")) && parse_u32(v, &u32) && u32 <= PG_INT32_MAX,
		 "bad pending_marks");
	s->pending_marks = (int) u32;
	NEED((v = expect1(c, "complete")) && parse_bool(v, &s->complete), "bad complete");
	NEED((v = expect1(c, "error")) && parse_string(v, &s->error), "bad error");
	if (sc->version >= 3 && !parse_relations(c, s))
		return false;

	/* Events, then the end line (checked by the caller). */
	for (;;)
	{
		const char *before = c->p;

		line = next_line(c);
		NEED(line != NULL, "missing end line");
		if (strncmp(line, "end ", 4) == 0)
		{
			c->p = before;		/* leave it for the caller */
			c->lineno--;
			return true;
		}
		NEED(strncmp(line, "event ", 6) == 0, "expected \"event\" or \"end\"");
		if (!parse_event(c, line + 6, s))
			return false;
	}
#undef NEED
}

PitrSidecarStatus
pitr_sidecar_parse(const char *buf, size_t len, PitrSidecar *sc, char **errmsg)
{
	Cursor		c;
	char	   *line;
	const char *end_line;
	pg_crc32c	crc;
	uint64		want;
	size_t		mlen = strlen(PITR_SIDECAR_MAGIC);

	memset(sc, 0, sizeof(*sc));
	*errmsg = NULL;
	c.p = buf;
	c.end = buf + len;
	c.lineno = 0;
	c.err = NULL;

	if (len > PITR_SIDECAR_MAX_SIZE)
	{
		*errmsg = psprintf("sidecar is %zu bytes long, more than the %d allowed",
						   len, PITR_SIDECAR_MAX_SIZE);
		return PITR_SIDECAR_SYNTAX;
	}

	/* The end line is checked first: a torn file has none. */
	if (len < 13 || buf[len - 1] != '\n')
	{
		*errmsg = pstrdup("sidecar does not end with a complete line");
		return PITR_SIDECAR_TRUNCATED;
	}
	end_line = buf + len - 13;
	if ((end_line != buf && end_line[-1] != '\n') || memcmp(end_line, "end ", 4) != 0)
	{
		*errmsg = pstrdup("sidecar has no end line");
		return PITR_SIDECAR_TRUNCATED;
	}

	line = next_line(&c);
	if (line == NULL || strncmp(line, PITR_SIDECAR_MAGIC, mlen) != 0 ||
		line[mlen] != ' ')
	{
		*errmsg = pstrdup("not a pitr_restore segment summary");
		return PITR_SIDECAR_BAD_VERSION;
	}
	if (!parse_u64(line + mlen + 1, &want, 10) ||
		want < PITR_SIDECAR_MIN_VERSION || want > PITR_SIDECAR_VERSION)
	{
		*errmsg = psprintf("segment summary format version \"%s\" is not supported (expected %d to %d)",
						   line + mlen + 1, PITR_SIDECAR_MIN_VERSION,
						   PITR_SIDECAR_VERSION);
		return PITR_SIDECAR_BAD_VERSION;
	}
	sc->version = (int) want;

	/* Verify the sidecar's own checksum before trusting any field. */
	{
		char		hex[9];

		memcpy(hex, end_line + 4, 8);
		hex[8] = '\0';
		if (end_line[12] != '\n' || !parse_u64(hex, &want, 16))
		{
			*errmsg = pstrdup("malformed end line");
			return PITR_SIDECAR_SYNTAX;
		}
		INIT_CRC32C(crc);
		COMP_CRC32C(crc, buf, end_line - buf);
		FIN_CRC32C(crc);
		if (crc != (pg_crc32c) want)
		{
			*errmsg = psprintf("sidecar checksum mismatch: computed %08x, stored %08x",
							   crc, (uint32) want);
			return PITR_SIDECAR_BAD_CHECKSUM;
		}
	}

	if (!parse_body(&c, sc))
	{
		*errmsg = c.err ? c.err : pstrdup("malformed sidecar");
		return PITR_SIDECAR_SYNTAX;
	}
	if (c.p != end_line)
	{
		*errmsg = pstrdup("text after the end line");
		return PITR_SIDECAR_SYNTAX;
	}
	return PITR_SIDECAR_OK;
}

/* ---- matching a file ---- */

bool
pitr_file_crc32c(const char *path, uint32 *crc_out, int64 *size, char **why)
{
	char		buf[65536];
	int			fd;
	ssize_t		n;
	pg_crc32c	crc;
	char	   *msg;

	/*
	 * Regular files only, opened without blocking (a FIFO in the file's
	 * place must not hang the caller); no ERROR before the close.
	 */
	fd = pitr_open_regular(path, &msg);
	if (fd < 0)
	{
		*why = psprintf("could not read file \"%s\": %s", path, msg);
		return false;
	}
	INIT_CRC32C(crc);
	*size = 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
	{
		COMP_CRC32C(crc, buf, n);
		*size += n;
	}
	if (n < 0)
	{
		int			save = errno;

		CloseTransientFile(fd);
		*why = psprintf("could not read file \"%s\": %s", path, strerror(save));
		return false;
	}
	CloseTransientFile(fd);
	FIN_CRC32C(crc);
	*crc_out = crc;
	return true;
}

bool
pitr_sidecar_matches(const PitrSidecar *sc, const char *path,
					 PitrSidecarCheck check, char **why)
{
	const char *base = strrchr(path, '/');
	struct stat st;

	base = base ? base + 1 : path;
	if (sc->version < PITR_SIDECAR_MIN_VERSION || sc->version > PITR_SIDECAR_VERSION)
	{
		*why = psprintf("segment summary format version %d is not supported",
						sc->version);
		return false;
	}
	if (sc->file_name == NULL || strcmp(sc->file_name, base) != 0)
	{
		*why = psprintf("segment summary describes \"%s\", not \"%s\"",
						sc->file_name ? sc->file_name : "", base);
		return false;
	}
	if (lstat(path, &st) != 0)
	{
		*why = psprintf("could not stat file \"%s\": %s", path, strerror(errno));
		return false;
	}
	if (!S_ISREG(st.st_mode))
	{
		*why = psprintf("\"%s\" is not a regular file", path);
		return false;
	}
	if ((int64) st.st_size != sc->file_size)
	{
		*why = psprintf("file \"%s\" holds " INT64_FORMAT " bytes, the summary says " INT64_FORMAT,
						path, (int64) st.st_size, sc->file_size);
		return false;
	}
	if (check == PITR_SIDECAR_CHECK_STAT)
	{
		if ((int64) st.st_mtim.tv_sec != sc->mtime_sec ||
			(int32) st.st_mtim.tv_nsec != sc->mtime_nsec)
		{
			*why = psprintf("file \"%s\" was modified after its summary was written", path);
			return false;
		}
	}
	else
	{
		uint32		crc;
		int64		size;

		if (!pitr_file_crc32c(path, &crc, &size, why))
			return false;
		if (size != sc->file_size || crc != sc->crc)
		{
			*why = psprintf("file \"%s\" has CRC-32C %08x, the summary says %08x",
							path, crc, sc->crc);
			return false;
		}
	}
	return true;
}
