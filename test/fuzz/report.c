/*
 * report.c
 *	  fuzz_report (report.h): plain C, linked into every harness.
 */
#include <stdarg.h>
#include <stdio.h>

#include "report.h"

int			fuzz_reporting = 0;

void
fuzz_report(const char *fmt,...)
{
	char		line[512];
	va_list		ap;

	if (!fuzz_reporting)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* a reason may quote the input's bytes: one printable line each */
	for (char *p = line; *p; p++)
		if ((unsigned char) *p < 0x20 || (unsigned char) *p >= 0x7f)
			*p = '?';
	printf("  %s\n", line);
	fflush(stdout);
}
