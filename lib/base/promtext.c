/*
 * promtext: label values escape backslash, double quote and line feed;
 * HELP text escapes backslash and line feed (the format's only escapes).
 */
#include <math.h>
#include <stdio.h>

#include "base/promtext.h"

static void
escape(struct buf *b, const char *s, int quote)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			buf_puts(b, "\\\\");
		else if (*s == '\n')
			buf_puts(b, "\\n");
		else if (*s == '"' && quote)
			buf_puts(b, "\\\"");
		else
			buf_putc(b, *s);
	}
}

void
prom_label_value(struct buf *b, const char *value)
{
	escape(b, value != NULL ? value : "", 1);
}

void
prom_head(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s ", name);
	escape(b, help, 0);
	buf_printf(b, "\n# TYPE %s %s\n", name, type);
}

static void
series(struct buf *b, const char *name, const struct prom_label *l, size_t n)
{
	buf_puts(b, name);
	if (n == 0) {
		buf_putc(b, ' ');
		return;
	}
	buf_putc(b, '{');
	for (size_t i = 0; i < n; i++) {
		buf_printf(b, "%s%s=\"", i ? "," : "", l[i].name);
		prom_label_value(b, l[i].value);
		buf_putc(b, '"');
	}
	buf_puts(b, "} ");
}

void
prom_u64(struct buf *b, const char *name, const struct prom_label *l, size_t n,
    unsigned long long value)
{
	series(b, name, l, n);
	buf_printf(b, "%llu\n", value);
}

void
prom_f64(struct buf *b, const char *name, const struct prom_label *l, size_t n,
    double value)
{
	series(b, name, l, n);
	if (isnan(value))
		buf_puts(b, "NaN\n");
	else if (isinf(value))
		buf_puts(b, value > 0 ? "+Inf\n" : "-Inf\n");
	else
		buf_printf(b, "%.17g\n", value);
}
