/*
 * valid: conservative syntax checks.  An address or domain that passes is
 * plain ASCII that can go into a URL path segment or a header safely.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/valid.h"

/* 8-4-4-4-12 hexadecimal digits, either case. */
int
valid_guid(const char *s)
{
	static const int groups[] = { 8, 4, 4, 4, 12 };

	for (size_t g = 0; g < 5; g++) {
		for (int i = 0; i < groups[g]; i++, s++)
			if (!isxdigit((unsigned char)*s))
				return 0;
		if (g < 4 && *s++ != '-')
			return 0;
	}
	return *s == '\0';
}

/* A DNS name with at least two labels and an alphabetic top-level label. */
int
valid_domain(const char *s)
{
	size_t      total = strlen(s), labels = 0;
	const char *label = s;

	if (total == 0 || total > 253)
		return 0;
	for (;;) {
		const char *p = label;
		size_t      n;
		int         alpha = 1;

		while (*p && *p != '.') {
			if (!isalnum((unsigned char)*p) && *p != '-')
				return 0;
			if (!isalpha((unsigned char)*p))
				alpha = 0;
			p++;
		}
		n = (size_t)(p - label);
		if (n == 0 || n > 63 || label[0] == '-' || p[-1] == '-')
			return 0;
		labels++;
		if (*p == '\0')
			return labels >= 2 && alpha && n >= 2;
		label = p + 1;
	}
}

/* local@domain: dot-atom local part (RFC 5322 atext), valid domain. */
int
valid_email(const char *s)
{
	const char *at = strrchr(s, '@');
	size_t      local;

	if (at == NULL || strlen(s) > 254)
		return 0;
	local = (size_t)(at - s);
	if (local == 0 || local > 64 || s[0] == '.' || at[-1] == '.')
		return 0;
	for (const char *p = s; p < at; p++) {
		if (*p == '.' && p[1] == '.')
			return 0;
		if (!isalnum((unsigned char)*p) &&
		    strchr(".!#$%&'*+/=?^_`{|}~-", *p) == NULL)
			return 0;
	}
	return valid_domain(at + 1);
}

/* YYYY-MM-DD naming a real day between 2000 and 9999. */
int
valid_date(const char *s)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
		31 };
	int              y, m, d, max;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return 0;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 2000 || m < 1 || m > 12 || d < 1)
		return 0;
	max = days[m - 1];
	if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		max = 29;
	return d <= max;
}

/* Digits only, no leading zero, 1 to 10^18 - 1.  Stores it in *out. */
int
valid_id(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t   n = strlen(s);

	if (n == 0 || n > 18 || s[0] == '0')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 0;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 1;
}
