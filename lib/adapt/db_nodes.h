/*
 * db_nodes: the database servers config key db_host names — one host, or a
 * comma-separated list of Galera nodes tried in order ("db1, db2:3307,
 * [::1]:3306"); a node without a port uses db_port.
 */
#ifndef POSTDESK_DB_NODES_H
#define POSTDESK_DB_NODES_H

#include <stddef.h>

#define DB_NODES_MAX 16

struct db_node {
	char     host[256];
	unsigned port;
};

int db_nodes_parse(const char *list, long default_port, struct db_node *out,
    size_t max, size_t *n, char *why, size_t whysize);

#endif
