/*
 * enum_name: an enum's values are named by one table of strings, indexed
 * by the value (designated initialisers); the same names go into SQL, JSON
 * and validation.  enum_index() finds a name's value.
 */
#ifndef POSTDESK_ENUM_NAME_H
#define POSTDESK_ENUM_NAME_H

#include <stddef.h>
#include <string.h>

#define ENUM_COUNT(names) (sizeof(names) / sizeof((names)[0]))

/* The index of s in names[0..n), or -1 (s NULL or not a name). */
static inline int
enum_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s != NULL && i < n; i++)
		if (names[i] != NULL && strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

#endif
