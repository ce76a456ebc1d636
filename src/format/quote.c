/*-------------------------------------------------------------------------
 *
 * quote.c
 *	  Quoting a value for the language it lands in (see quote.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include "format/quote.h"

/* "s" in single quotes, each character written by "put". */
static char *
single_quoted(const char *s, void (*put) (StringInfo buf, char c))
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '\'');
	for (const char *p = s; *p; p++)
		put(&buf, *p);
	appendStringInfoChar(&buf, '\'');
	return buf.data;
}

/* Nothing is special inside single quotes but the quote itself. */
static void
put_shell_char(StringInfo buf, char c)
{
	if (c == '\'')
		appendStringInfoString(buf, "'\\''");
	else
		appendStringInfoChar(buf, c);
}

/*
 * The configuration file parser reads backslash escapes, and a line break
 * would end the line: write control characters as escapes.
 */
static void
put_conf_char(StringInfo buf, char c)
{
	if (c == '\'' || c == '\\')
		appendStringInfoChar(buf, c);
	if (c == '\n')
		appendStringInfoString(buf, "\\n");
	else if (c == '\r')
		appendStringInfoString(buf, "\\r");
	else if (c == '\t')
		appendStringInfoString(buf, "\\t");
	else if ((unsigned char) c < 0x20 || c == 0x7f)
		appendStringInfo(buf, "\\%03o", (unsigned char) c);
	else
		appendStringInfoChar(buf, c);
}

char *
pitr_quote_shell(const char *s)
{
	return single_quoted(s, put_shell_char);
}

char *
pitr_quote_conf(const char *s)
{
	return single_quoted(s, put_conf_char);
}

char *
pitr_escape_percent(const char *s)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (const char *p = s; *p; p++)
	{
		if (*p == '%')
			appendStringInfoChar(&buf, '%');
		appendStringInfoChar(&buf, *p);
	}
	return buf.data;
}

/*
 * shell_quote(s text): the same shell word for SQL (prepare_restore's
 * hint), so the extension has one shell quoter.
 */
PG_FUNCTION_INFO_V1(pitr_shell_quote_text);
Datum
pitr_shell_quote_text(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(pitr_quote_shell(text_to_cstring(PG_GETARG_TEXT_PP(0)))));
}
