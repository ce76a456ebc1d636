/*-------------------------------------------------------------------------
 *
 * history.c
 *	  Parse timeline history files as recovery does (readTimeLineHistory),
 *	  but from a buffer and without FATAL on bad input.
 *
 * Each line is "parentTLI<TAB>X/X<TAB>reason"; blank lines and lines
 * starting with '#' are skipped.  Time and LSN reasons end in a newline of
 * their own, which leaves blank lines behind them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "history.h"

bool
pitr_parse_history(const char *buf, size_t len, TimeLineID tli,
				   List **entries, char **err)
{
	const char *p = buf;
	const char *end = buf + len;
	int			lineno = 0;
	TimeLineID	last_tli = 0;

	*entries = NIL;
	*err = NULL;

	if (memchr(buf, '\0', len) != NULL)
	{
		*err = pstrdup("history file contains a NUL byte");
		return false;
	}

	while (p < end)
	{
		const char *eol = memchr(p, '\n', end - p);
		char	   *line;
		char	   *s;
		unsigned int parent;
		unsigned int hi,
					lo;
		int			consumed = 0;
		PitrHistoryEntry *e;

		if (eol == NULL)
			eol = end;
		line = pnstrdup(p, eol - p);
		p = eol + 1;
		lineno++;

		for (s = line; *s == ' ' || *s == '\t' || *s == '\r'; s++)
			;
		if (*s == '\0' || *s == '#')
			continue;

		if (sscanf(s, "%u\t%X/%X%n", &parent, &hi, &lo, &consumed) != 3)
		{
			*err = psprintf("syntax error in history file at line %d", lineno);
			return false;
		}
		if (parent <= last_tli || parent >= tli)
		{
			*err = psprintf("invalid timeline %u at line %d of the history of timeline %u",
							parent, lineno, tli);
			return false;
		}
		e = palloc(sizeof(PitrHistoryEntry));
		e->tli = parent;
		e->switchpoint = ((uint64) hi << 32) | lo;
		s += consumed;
		while (*s == '\t' || *s == ' ')
			s++;
		e->reason = pstrdup(s);
		for (int i = strlen(e->reason) - 1;
			 i >= 0 && (e->reason[i] == '\r' || e->reason[i] == ' ');
			 i--)
			e->reason[i] = '\0';
		last_tli = parent;
		*entries = lappend(*entries, e);
	}

	if (*entries == NIL)
	{
		*err = pstrdup("history file is empty");
		return false;
	}
	return true;
}
