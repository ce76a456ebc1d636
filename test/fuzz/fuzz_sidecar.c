/*
 * fuzz_sidecar.c
 *	  libFuzzer harness: the segment summary sidecar (pitr_sidecar_parse,
 *	  src/format/sidecar.c).
 *
 *	  A sidecar carries its own CRC-32C, so random bytes would almost never
 *	  reach the body parser: each input is parsed as it is, then again with
 *	  its end line's checksum made right (or an end line appended).
 *	  Asserts: a failure says why; a success formats back (pitr_sidecar_format)
 *	  to a text that parses again to the same text (format 1 and 2 inputs
 *	  come back as format 3, their relations not known).
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "port/pg_crc32c.h"

#include "relset.h"
#include "sidecar.h"
#include "report.h"
#include "shim.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
parse_one(const char *buf, size_t len)
{
	PitrSidecar sc;
	PitrSidecar again;
	StringInfoData out;
	StringInfoData out2;
	char	   *err = NULL;
	PitrSidecarStatus st;

	st = pitr_sidecar_parse(buf, len, &sc, &err);
	if (st != PITR_SIDECAR_OK)
	{
		if (err == NULL)
			abort();
		fuzz_report("status %d: %s", (int) st, err);
		return;
	}
	if (err != NULL || sc.file_name == NULL || sc.segment_name == NULL)
		abort();

	/* what was accepted is what the writer would write for it */
	initStringInfo(&out);
	pitr_sidecar_format(&sc, &out);
	if (pitr_sidecar_parse(out.data, out.len, &again, &err) != PITR_SIDECAR_OK)
	{
		fprintf(stderr, "formatted sidecar does not parse: %s\n%s", err, out.data);
		abort();
	}
	initStringInfo(&out2);
	pitr_sidecar_format(&again, &out2);
	if (out.len != out2.len || memcmp(out.data, out2.data, out.len) != 0)
	{
		fprintf(stderr, "sidecar does not round-trip:\n%s---\n%s", out.data, out2.data);
		abort();
	}
	if (sc.sum.rels)
		fuzz_report("ok: %s, %lld records, %d events, %d relations", sc.file_name,
					(long long) sc.sum.records, list_length(sc.sum.events),
					pitr_relset_count(sc.sum.rels));
	else
		fuzz_report("ok: %s, %lld records, %d events, relations not known",
					sc.file_name, (long long) sc.sum.records,
					list_length(sc.sum.events));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	StringInfoData fixed;
	pg_crc32c	crc;
	size_t		body = size;

	parse_one((const char *) data, size);

	/* Again with a valid checksum: drop an end line, compute, append. */
	if (size >= 13 && data[size - 1] == '\n' &&
		memcmp(data + size - 13, "end ", 4) == 0 &&
		(size == 13 || data[size - 14] == '\n'))
		body = size - 13;
	initStringInfo(&fixed);
	appendBinaryStringInfo(&fixed, (const char *) data, body);
	if (fixed.len > 0 && fixed.data[fixed.len - 1] != '\n')
		appendStringInfoChar(&fixed, '\n');
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, fixed.data, fixed.len);
	FIN_CRC32C(crc);
	appendStringInfo(&fixed, "end %08x\n", crc);
	parse_one(fixed.data, fixed.len);

	fuzz_reset();
	return 0;
}
