/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * ctl_backup.c - bouncectl(8) backup FILE: a consistent copy of the live
 * database through SQLite's online backup (store_backup()).  A cp(1) of
 * the database while bounced writes can lose what is still in the
 * write-ahead log (-wal), or copy a torn page; this cannot.  The store is
 * opened read-only: bounced keeps recording while the copy is made.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bouncectl/ctl_int.h"
#include "bouncectl/ctl_json.h"
#include "store/store.h"

/*
 * ctl_backup - bouncectl backup FILE
 *
 * Returns 0, or 2 when FILE exists, cannot be written, or the copy
 * fails (then FILE is removed).
 */
int
ctl_backup(const struct ctl_opts *o, int argc, char **argv)
{
	struct store	*s;
	int64_t		 pages = 0;
	int		 rc;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: bouncectl backup FILE\n");
		return CTL_EXIT_ERROR;
	}
	if ((rc = ctl_store_open(o, STORE_RDONLY, &s)) != CTL_EXIT_OK)
		return rc;
	if (store_backup(s, argv[1], &pages) != BD_OK)
		rc = ctl_store_fail(s, "backup");
	else if (o->json) {
		JsonObject	*jo = json_object_new();

		ctl_json_set_str(jo, "backup", argv[1]);
		json_object_set_int_member(jo, "pages", pages);
		ctl_json_put(stdout, jo);
	} else
		printf("backup %s: %" PRId64 " pages, checked\n", argv[1],
		    pages);
	store_close(s);
	return rc;
}
