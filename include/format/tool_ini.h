/*-------------------------------------------------------------------------
 *
 * tool_ini.h
 *	  The key=value files backup tools write: pgBackRest's INI files with
 *	  JSON values (archive.info, backup.info, backup.manifest, its
 *	  configuration) and Barman's section-less backup.info.
 *
 * Pure parsing: a buffer in, a struct out, a status code plus message on
 * failure.  No SPI, no ereport, so the parsers can be fuzzed.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_TOOL_INI_H
#define PITR_TOOL_INI_H

typedef enum PitrParseStatus
{
	PITR_PARSE_OK,
	PITR_PARSE_SYNTAX,			/* not an INI file / not JSON */
	PITR_PARSE_MISSING,			/* a required key is absent */
	PITR_PARSE_INVALID			/* a value is out of range or malformed */
} PitrParseStatus;

typedef struct PitrIniEntry
{
	char	   *section;		/* "" before the first [section] */
	char	   *key;
	char	   *value;			/* raw text after '=', not trimmed of quotes */
} PitrIniEntry;

typedef struct PitrIni
{
	int			n;
	PitrIniEntry *entries;
} PitrIni;

/*
 * Parse an INI buffer.  Blank lines and lines starting with '#' or ';' are
 * skipped; whitespace around keys and values is trimmed.  With
 * allow_sectionless, keys before any [section] are accepted (Barman).
 */
extern PitrParseStatus pitr_ini_parse(const char *buf, size_t len,
									  bool allow_sectionless,
									  PitrIni *ini, char **msg);

/* The raw value of a key in a section, or NULL; the last one wins. */
extern const char *pitr_ini_get(const PitrIni *ini, const char *section,
								const char *key);

/*
 * The entries of a section in file order: the first at or after *pos
 * (start with 0), moving *pos past it; NULL after the last.
 */
extern const PitrIniEntry *pitr_ini_next(const PitrIni *ini,
										 const char *section, int *pos);

/*
 * A JSON scalar value as text: strings unquoted and unescaped, numbers and
 * booleans as written, null as NULL with *isnull set.
 */
extern PitrParseStatus pitr_json_scalar(const char *json, char **out,
										bool *isnull, char **msg);

/*
 * The top-level scalar fields of a JSON object, as parallel arrays of keys
 * and values (a NULL value for JSON null; nested objects and arrays are
 * skipped).
 */
typedef struct PitrJsonFields
{
	int			n;
	char	  **keys;
	char	  **values;
} PitrJsonFields;

extern PitrParseStatus pitr_json_object_fields(const char *json,
											   PitrJsonFields *out,
											   char **msg);
extern const char *pitr_json_get(const PitrJsonFields *f, const char *key);

#endif							/* PITR_TOOL_INI_H */
