/*-------------------------------------------------------------------------
 *
 * hex.h
 *	  One hexadecimal digit's value, for the parsers that decode hex text
 *	  (manifest checksums and encoded paths, LSNs, sidecar %XX escapes).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_HEX_H
#define PITR_HEX_H

/*
 * 0 to 15, or -1 if "c" is not a hex digit.  "lower_ok" false accepts only
 * the upper-case digits, for formats written with %X that are read strictly.
 */
static inline int
pitr_hex_digit(char c, bool lower_ok)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (lower_ok && c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

#endif							/* PITR_HEX_H */
