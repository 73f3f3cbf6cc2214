/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * dsndump.c - developer tool: parse bounce files with dsn_parse() and
 * print one JSON object per reported recipient (JSON lines):
 * {"file","index","recipient","original_recipient","action","status",
 *  "reply_code","diagnostic","remote_mta","mta","kind"}.
 * A message with no recipients prints nothing.  Not installed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "parse/dsn.h"
#include "bouncectl/ctl_json.h"

static int
slurp(const char *path, struct buf *b)
{
	FILE	*fp;
	char	 chunk[65536];
	size_t	 n;

	if ((fp = fopen(path, "rb")) == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (buf_append(b, chunk, n) == BD_ENOMEM) {
			fclose(fp);
			return -1;
		}
	fclose(fp);
	return 0;
}

static void
dump(const char *path, const struct dsn_report *r)
{
	const struct dsn_rcpt	*rc;
	size_t			 i;
	JsonObject		*o;

	for (i = 0; i < r->nrcpts; i++) {
		rc = &r->rcpts[i];
		o = json_object_new();
		ctl_json_set_str(o, "file", path);
		json_object_set_int_member(o, "index", (gint64)i + 1);
		ctl_json_set_str(o, "recipient", rc->final_recipient);
		ctl_json_set_str(o, "original_recipient",
		    rc->original_recipient);
		ctl_json_set_str(o, "action", ev_action_name(rc->action));
		ctl_json_set_str(o, "status", rc->status);
		json_object_set_int_member(o, "reply_code", rc->reply_code);
		ctl_json_set_str(o, "diagnostic", rc->diagnostic);
		ctl_json_set_str(o, "remote_mta", rc->remote_mta);
		ctl_json_set_str(o, "mta", r->mta);
		ctl_json_set_str(o, "kind", dsn_kind_name(r->kind));
		ctl_json_put(stdout, o);
	}
}

int
main(int argc, char *argv[])
{
	struct dsn_options	 opt = DSN_OPTIONS_DEFAULT;
	struct dsn_report	*r;
	struct buf		 b;
	int			 i, rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: dsndump file ...\n");
		return 2;
	}
	dsn_init();
	for (i = 1; i < argc; i++) {
		buf_init(&b, 0);
		if (slurp(argv[i], &b) != 0) {
			fprintf(stderr, "dsndump: %s: %s\n", argv[i],
			    strerror(errno));
			rc = 1;
		} else if (dsn_parse(b.data, b.len, &opt, &r) != BD_OK) {
			fprintf(stderr, "dsndump: %s: out of memory\n",
			    argv[i]);
			rc = 1;
		} else {
			dump(argv[i], r);
			dsn_report_free(r);
		}
		buf_free(&b);
	}
	dsn_shutdown();
	return rc;
}
