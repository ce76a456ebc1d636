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

char *
pitr_quote_shell(const char *s)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '\'');
	for (const char *p = s; *p; p++)
	{
		/* Nothing is special inside single quotes but the quote itself. */
		if (*p == '\'')
			appendStringInfoString(&buf, "'\\''");
		else
			appendStringInfoChar(&buf, *p);
	}
	appendStringInfoChar(&buf, '\'');
	return buf.data;
}

char *
pitr_quote_conf(const char *s)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '\'');
	for (const char *p = s; *p; p++)
	{
		/*
		 * The configuration file parser reads backslash escapes, and a line
		 * break would end the line: write control characters as escapes.
		 */
		if (*p == '\'' || *p == '\\')
			appendStringInfoChar(&buf, *p);
		if (*p == '\n')
			appendStringInfoString(&buf, "\\n");
		else if (*p == '\r')
			appendStringInfoString(&buf, "\\r");
		else if (*p == '\t')
			appendStringInfoString(&buf, "\\t");
		else if ((unsigned char) *p < 0x20 || *p == 0x7f)
			appendStringInfo(&buf, "\\%03o", (unsigned char) *p);
		else
			appendStringInfoChar(&buf, *p);
	}
	appendStringInfoChar(&buf, '\'');
	return buf.data;
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
