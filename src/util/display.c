/*-------------------------------------------------------------------------
 *
 * display.c
 *	  One display rule for names (display.h), and its SQL face,
 *	  display_text(), used by check_archive, the chart and the SVG.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "util/display.h"

static bool
keep(unsigned char c, bool keep_lines)
{
	if (c >= 0x20 && c != 0x7f)
		return true;
	return keep_lines && (c == '\n' || c == '\r' || c == '\t');
}

static void
escape(StringInfo buf, unsigned char c)
{
	switch (c)
	{
		case '\n':
			appendStringInfoString(buf, "\\n");
			break;
		case '\r':
			appendStringInfoString(buf, "\\r");
			break;
		case '\t':
			appendStringInfoString(buf, "\\t");
			break;
		default:
			appendStringInfo(buf, "\\x%02x", c);
	}
}

const char *
pitr_display(const char *s, bool keep_lines)
{
	int			enc = GetDatabaseEncoding();
	int			len = strlen(s);
	StringInfoData buf;
	int			i = 0;
	bool		changed = false;

	initStringInfo(&buf);
	while (i < len)
	{
		unsigned char c = (unsigned char) s[i];
		int			l;

		if (!IS_HIGHBIT_SET(c))
		{
			if (keep(c, keep_lines))
				appendStringInfoChar(&buf, c);
			else
			{
				escape(&buf, c);
				changed = true;
			}
			i++;
			continue;
		}
		l = pg_encoding_verifymbchar(enc, s + i, len - i);
		if (l <= 0)
		{
			/* not a character of the database encoding: the byte, escaped */
			escape(&buf, c);
			changed = true;
			i++;
			continue;
		}
		appendBinaryStringInfo(&buf, s + i, l);
		i += l;
	}
	if (!changed)
	{
		pfree(buf.data);
		return s;
	}
	return buf.data;
}

const char *
pitr_db_text(const char *s)
{
	int			enc = GetDatabaseEncoding();
	int			len = strlen(s);
	StringInfoData buf;
	int			i = 0;

	if (pg_verifymbstr(s, len, true))
		return s;
	initStringInfo(&buf);
	while (i < len)
	{
		int			l = IS_HIGHBIT_SET(s[i]) ?
			pg_encoding_verifymbchar(enc, s + i, len - i) : 1;

		if (l <= 0)
		{
			appendStringInfo(&buf, "\\x%02x", (unsigned char) s[i]);
			i++;
			continue;
		}
		appendBinaryStringInfo(&buf, s + i, l);
		i += l;
	}
	return buf.data;
}

bool
pitr_db_text_escaped(const char *s)
{
	for (const char *p = strstr(s, "\\x"); p != NULL; p = strstr(p + 1, "\\x"))
		if (strchr("89abcdef", p[2]) != NULL && p[2] != '\0' &&
			p[3] != '\0' && strchr("0123456789abcdef", p[3]) != NULL)
			return true;
	return false;
}

/* display_text(v text, keep_lines boolean DEFAULT false) */
PG_FUNCTION_INFO_V1(pitr_display_text);
Datum
pitr_display_text(PG_FUNCTION_ARGS)
{
	text	   *v = PG_GETARG_TEXT_PP(0);
	bool		keep_lines = PG_NARGS() > 1 && PG_GETARG_BOOL(1);
	char	   *s = text_to_cstring(v);
	const char *d = pitr_display(s, keep_lines);

	if (d == s)
		PG_RETURN_TEXT_P(v);
	PG_RETURN_TEXT_P(cstring_to_text(d));
}
