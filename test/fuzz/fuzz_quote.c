/*
 * fuzz_quote.c
 *	  libFuzzer harness: the quoting helpers (src/format/quote.c).  Each
 *	  quoted value is read back the way its consumer reads it, by a small
 *	  independent decoder written from the consumer's grammar:
 *	  - pitr_quote_shell: one POSIX shell word (sh's single quotes, and a
 *	    backslash outside them); nothing may be left unquoted;
 *	  - pitr_quote_conf: a postgresql.conf string token (guc-file.l's
 *	    STRING: no raw line break, '' and backslash escapes as GUC_scanstr
 *	    undoes them);
 *	  - pitr_escape_percent: the server's %-expansion of restore_command
 *	    (no %f, %p or %r may survive; %% is one %).
 *	  Each must give back the input exactly.  The input is the value, up
 *	  to its first NUL (a C string).
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "quote.h"
#include "report.h"
#include "shim.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One shell word, as sh reads it; NULL if it is not exactly one word. */
static char *
sh_word(const char *q)
{
	StringInfoData out;

	initStringInfo(&out);
	while (*q)
	{
		if (*q == '\'')
		{
			const char *end = strchr(q + 1, '\'');

			if (end == NULL)
				return NULL;	/* unterminated */
			appendBinaryStringInfo(&out, q + 1, end - q - 1);
			q = end + 1;
		}
		else if (*q == '\\')
		{
			if (q[1] == '\0' || q[1] == '\n')
				return NULL;
			appendStringInfoChar(&out, q[1]);
			q += 2;
		}
		else
			return NULL;		/* an unquoted character: never emitted */
	}
	return out.data;
}

/* A postgresql.conf STRING token, decoded; NULL if it is not one. */
static char *
conf_string(const char *q)
{
	/* GUC_scanstr's letter escapes and what each stands for */
	static const char letters[] = "bfnrt";
	static const char meanings[] = "\b\f\n\r\t";
	StringInfoData out;
	size_t		len = strlen(q);

	if (len < 2 || q[0] != '\'' || q[len - 1] != '\'')
		return NULL;
	initStringInfo(&out);
	for (size_t i = 1; i < len - 1; i++)
	{
		char		c = q[i];

		if (c == '\n')
			return NULL;		/* the lexer's STRING never spans lines */
		if (c == '\'')
		{
			if (q[i + 1] != '\'' || i + 1 >= len - 1)
				return NULL;	/* would end the token early */
			appendStringInfoChar(&out, '\'');
			i++;
		}
		else if (c == '\\')
		{
			char		n = q[i + 1];
			const char *letter;

			if (i + 1 >= len - 1)
				return NULL;	/* would escape the closing quote */
			i++;
			letter = strchr(letters, n);	/* n is no NUL: q[len - 1] is */
			if (letter != NULL)
				appendStringInfoChar(&out, meanings[letter - letters]);
			else if (n >= '0' && n <= '7')
			{
				int			v = n - '0';
				int			k;

				for (k = 1; k < 3 && i + 1 < len - 1 &&
					 q[i + 1] >= '0' && q[i + 1] <= '7'; k++)
					v = v * 8 + (q[++i] - '0');
				appendStringInfoChar(&out, (char) v);
			}
			else
				appendStringInfoChar(&out, n);
		}
		else
			appendStringInfoChar(&out, c);
	}
	return out.data;
}

/* restore_command's %-expansion; NULL if a %f, %p or %r would expand. */
static char *
percent_expand(const char *q)
{
	StringInfoData out;

	initStringInfo(&out);
	for (; *q; q++)
	{
		if (*q == '%')
		{
			if (q[1] == 'f' || q[1] == 'p' || q[1] == 'r')
				return NULL;
			if (q[1] == '%')
				q++;
		}
		appendStringInfoChar(&out, *q);
	}
	return out.data;
}

static void
check(const char *what, const char *in, const char *quoted, const char *back)
{
	if (back == NULL || strcmp(back, in) != 0)
	{
		fprintf(stderr, "%s does not read back: [%s] -> [%s] -> [%s]\n",
				what, in, quoted, back ? back : "(not one token)");
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *s = pnstrdup((const char *) data, size);
	char	   *sh = pitr_quote_shell(s);
	char	   *pct = pitr_escape_percent(s);
	char	   *conf = pitr_quote_conf(s);
	/* composed as settings.c composes restore_command */
	char	   *cmd = pitr_quote_conf(pitr_escape_percent(pitr_quote_shell(s)));

	check("pitr_quote_shell", s, sh, sh_word(sh));
	check("pitr_escape_percent", s, pct, percent_expand(pct));
	check("pitr_quote_conf", s, conf, conf_string(conf));
	{
		char	   *c = conf_string(cmd);
		char	   *p = c ? percent_expand(c) : NULL;

		check("the composition", s, cmd, p ? sh_word(p) : NULL);
	}
	fuzz_report("shell: %s", sh);
	fuzz_report("conf: %s", conf);
	fuzz_report("restore_command: %s", cmd);
	fuzz_reset();
	return 0;
}
