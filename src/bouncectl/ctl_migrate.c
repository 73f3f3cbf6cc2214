/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * ctl_migrate.c - bouncectl(8) migrate --to TARGET: the database of --db
 * or -c (a relay's SQLite file, usually) copied into a new one, most
 * often the PostgreSQL server a fleet of relays shares (issue 13).
 * Every table with its ids (store_copy()), in one transaction of the
 * target: a failure leaves it as it was, and a target that holds data
 * already is refused, so that two runs cannot mix two relays' histories
 * under colliding ids.  The source is opened read-only and never
 * changed.  Afterwards the rows of each table are counted on both
 * sides and shown; any difference is an error.
 *
 * The target's URL may hold a password: it is never printed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <getopt.h>

#include "bouncectl/ctl_int.h"
#include "bouncectl/ctl_json.h"
#include "bouncectl/ctl_out.h"
#include "store/store.h"

#define MIGRATE_BUSY_MS	5000	/* without --wait */

static const struct ctl_col count_cols[] = {
	{ "table", CTL_COL_STR, true, 0 },
	{ "source", CTL_COL_NUM, true, 0 },
	{ "target", CTL_COL_NUM, true, 0 },
};

/* store_copy()'s progress, on a terminal. */
static void
progress(void *arg, const char *table, int64_t done, int64_t total)
{
	ctl_progress_show(arg, false, "migrate: %s %" PRId64 " of %" PRId64,
	    table, done, total);
}

/*
 * The counts of both sides as a table, CSV, or inside the JSON document;
 * true when every table matches.
 */
static bool
show_counts(const struct ctl_opts *o, const int64_t *src,
    const int64_t *dst)
{
	struct ctl_out	 out;
	struct ctl_val	 v[3];
	size_t		 i;
	bool		 same = true;
	JsonObject	*jo;

	if (o->json) {
		jo = json_object_new();
		json_object_set_string_member(jo, "command", "migrate");
		ctl_json_open(stdout, jo, "tables");
	}
	ctl_out_init(&out, stdout, ctl_out_fmt(o), count_cols, 3,
	    CTL_OUT_INNER);
	for (i = 0; i < STORE_COPY_NTABLES; i++) {
		v[0].s = store_copy_tables[i];
		v[1].n = src[i];
		v[2].n = dst[i];
		ctl_out_row(&out, v);
		if (src[i] != dst[i])
			same = false;
	}
	ctl_out_end(&out);
	if (o->json) {
		jo = json_object_new();
		json_object_set_boolean_member(jo, "verified", same);
		ctl_json_close(stdout, jo);
	}
	return same;
}

/* Open the target read-write, creating it (a new SQLite file, or the
 * schema in an existing PostgreSQL database). */
static int
open_target(const struct ctl_opts *o, const char *to, struct store **t)
{
	char		 err[512];
	enum bd_status	 st;

	err[0] = '\0';
	st = store_open(to, 0, o->wait_ms >= 0 ? o->wait_ms :
	    MIGRATE_BUSY_MS, t, err, sizeof(err));
	if (st != BD_OK) {
		fprintf(stderr, "bouncectl: migrate: the target: %s\n",
		    err[0] ? err : bd_strerror(st));
		return CTL_EXIT_ERROR;
	}
	return CTL_EXIT_OK;
}

/* Copy, then count both sides; the exit status. */
static int
migrate(const struct ctl_opts *o, struct store *s, struct store *t)
{
	struct ctl_progress	 prog;
	int64_t			 src[STORE_COPY_NTABLES];
	int64_t			 dst[STORE_COPY_NTABLES];
	char			 err[1024];
	enum bd_status		 st;

	ctl_progress_init(&prog);
	st = store_copy(s, t, progress, &prog, err, sizeof(err));
	ctl_progress_done(&prog);
	if (st != BD_OK) {
		fprintf(stderr, "bouncectl: migrate: %s\n",
		    err[0] ? err : bd_strerror(st));
		if (st != BD_ECONFIG)
			fprintf(stderr, "bouncectl: migrate: nothing was "
			    "copied (the target is as it was)\n");
		return CTL_EXIT_ERROR;
	}
	if (store_copy_count(s, src) != BD_OK)
		return ctl_store_fail(s, "migrate: counting the source");
	if (store_copy_count(t, dst) != BD_OK)
		return ctl_store_fail(t, "migrate: counting the target");
	if (!show_counts(o, src, dst)) {
		fprintf(stderr, "bouncectl: migrate: the counts differ "
		    "(bounced wrote to the source meanwhile?)\n");
		return CTL_EXIT_ERROR;
	}
	if (!o->json && !o->csv)
		printf("migrated: every table has as many rows as the "
		    "source\n");
	return CTL_EXIT_OK;
}

/*
 * ctl_migrate - bouncectl migrate --to TARGET
 *
 * Returns 0 when everything was copied and the counts agree; 2 on a bad
 * option, a target that is not empty or cannot be opened, a failure
 * (nothing copied), or counts that differ.
 */
int
ctl_migrate(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "to", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct store	*s = NULL, *t = NULL;
	const char	*to = NULL;
	int		 ch, rc;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch != 't')
			return CTL_EXIT_ERROR;
		to = optarg;
	}
	if (to == NULL || *to == '\0' || optind != argc) {
		fprintf(stderr, "usage: bouncectl migrate --to TARGET\n");
		return CTL_EXIT_ERROR;
	}
	if ((rc = ctl_store_open(o, STORE_RDONLY, &s)) != CTL_EXIT_OK)
		return rc;
	if ((rc = open_target(o, to, &t)) == CTL_EXIT_OK)
		rc = migrate(o, s, t);
	store_close(t);
	store_close(s);
	return rc;
}
