/*
 * server: what the MariaDB server says of itself — the settings postdesk
 * relies on and its clock — for postdesk-admin doctor (lib/domain/doctor.c).
 */
#include <string.h>

#include "store/store.h"

/*
 * information_schema.TRIGGERS lists only triggers of tables on which the
 * user holds TRIGGER: a count short of sql/0011's three means the
 * triggers or that privilege are missing.
 */
static const char SQL_FACTS[] =
    "SELECT @@GLOBAL.max_allowed_packet, UNIX_TIMESTAMP(), @@GLOBAL.log_bin, "
    "@@GLOBAL.log_bin_trust_function_creators, "
    "(SELECT COUNT(*) FROM information_schema.TRIGGERS "
    "WHERE TRIGGER_SCHEMA = DATABASE() "
    "AND EVENT_OBJECT_TABLE = 'incoming_email')";

int
store_server_facts(struct db *db, struct server_facts *f, struct err *err)
{
	struct db_res r;

	memset(f, 0, sizeof *f);
	if (db_query(db, SQL_FACTS, NULL, 0, &r, err) == -1)
		return -1;
	if (r.nrows == 1) {
		f->max_allowed_packet = db_res_int(&r, 0, 0);
		f->now = db_res_int(&r, 0, 1);
		f->log_bin = db_res_int(&r, 0, 2) != 0;
		f->trust_creators = db_res_int(&r, 0, 3) != 0;
		f->triggers = db_res_int(&r, 0, 4);
	}
	db_res_free(&r);
	return 0;
}
