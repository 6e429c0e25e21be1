/*
 * promtext: the Prometheus text exposition format, version 0.0.4 — the
 * HELP and TYPE lines of a metric family and its samples, with label
 * values and help text escaped as the format asks.
 */
#ifndef POSTDESK_PROMTEXT_H
#define POSTDESK_PROMTEXT_H

#include <stddef.h>

#include "base/buf.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct prom_label {
	const char *name;
	const char *value; /* UTF-8 */
};

void prom_head(struct buf *, const char *name, const char *type,
    const char *help);
void prom_u64(struct buf *, const char *name, const struct prom_label *,
    size_t nlabels, unsigned long long value);
void prom_f64(struct buf *, const char *name, const struct prom_label *,
    size_t nlabels, double value);
void prom_label_value(struct buf *, const char *value);

#endif
