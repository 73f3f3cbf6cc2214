/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * ctl_events.c - bouncectl(8) events: every recorded event and every
 * change of a recipient's state, in the order they happened, each with
 * its cursor, for applications that act on bounces (ask a user for a new
 * address, stop a subscription).  The rows come from the feed table
 * (schema v4, filled by triggers: store.c), read with store_feed().
 *
 * The JSON Lines schema (bouncectl(8), EVENTS) is a promise: fields are
 * added, never renamed or removed.  An application keeps the cursor of
 * the last line it handled and resumes with --since CURSOR: nothing is
 * lost and nothing is given twice.  --follow polls the database once a
 * second (a read-only handle: bounced is never waited for) and flushes
 * each batch, so that a pipe gets lines as they are recorded.
 */
#include <ctype.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "bouncectl/ctl_int.h"
#include "bouncectl/ctl_out.h"
#include "store/store.h"

#define EVENTS_BATCH	1000	/* rows read per query */
#define EVENTS_POLL_MS	1000	/* --follow: between two queries */
#define HOOK_BATCH	100	/* --hook: lines held in memory at most */
#define HOOK_RETRY_MAX	300	/* --hook: longest pause between two tries */

/* The schema of a line: order and names are bouncectl(8)'s EVENTS. */
static const struct ctl_col ev_cols[] = {
	{ "cursor", CTL_COL_NUM, true, 0 },
	{ "type", CTL_COL_STR, true, 0 },
	{ "recorded_at", CTL_COL_TIME, true, 0 },
	{ "recipient", CTL_COL_STR, true, 0 },
	{ "summary", CTL_COL_STR, true, CTL_DIAG_W },
	{ "event_id", CTL_COL_NUM0, false, 0 },
	{ "when", CTL_COL_TIME, false, 0 },
	{ "action", CTL_COL_STR, false, 0 },
	{ "status", CTL_COL_STR, false, 0 },
	{ "reply_code", CTL_COL_NUM0, false, 0 },
	{ "reason", CTL_COL_STR, false, 0 },
	{ "hard", CTL_COL_BOOLN, false, 0 },
	{ "class", CTL_COL_STR, false, 0 },
	{ "who", CTL_COL_STR, false, 0 },
	{ "advice", CTL_COL_STR, false, 0 },
	{ "rule", CTL_COL_STR, false, 0 },
	{ "diagnostic", CTL_COL_STR, false, 0 },
	{ "remote_mta", CTL_COL_STR, false, 0 },
	{ "reporting_mta", CTL_COL_STR, false, 0 },
	{ "queue_id", CTL_COL_STR, false, 0 },
	{ "message_id", CTL_COL_STR, false, 0 },
	{ "envelope_id", CTL_COL_STR, false, 0 },
	{ "sender", CTL_COL_STR, false, 0 },
	{ "campaign", CTL_COL_STR, false, 0 },
	{ "feedback_type", CTL_COL_STR, false, 0 },
	{ "source", CTL_COL_STR, false, 0 },
	{ "trusted", CTL_COL_BOOLN, false, 0 },
	{ "state", CTL_COL_STR, false, 0 },
	{ "state_reason", CTL_COL_STR, false, 0 },
	{ "previous_state", CTL_COL_STR, false, 0 },
	{ "previous_reason", CTL_COL_STR, false, 0 },
	{ "mail_kind", CTL_COL_STR, false, 0 },
};
#define NEV	(sizeof(ev_cols) / sizeof(ev_cols[0]))

static volatile sig_atomic_t	 ev_stop;

static void
ev_on_signal(int sig)
{
	(void)sig;
	ev_stop = 1;
}

/* A line for the hook, held until it is handed over. */
struct hook_item {
	int64_t		 cursor;
	char		*line;
	size_t		 len;
	char		 type[8];
	char		 recipient[ADDR_MAX + 1];
};

struct ev_run {
	struct ctl_out	 out;
	struct hook_item items[HOOK_BATCH];	/* --hook: the batch */
	size_t		 nitems;
	bool		 hook;
	bool		 lines;		/* --follow for a person: a line each */
	int64_t		 n;		/* rows written */
	int64_t		 limit;		/* 0: no limit */
};

/* "soft -> suppressed (soft-limit)", "failed 5.1.1 userunknown". */
static void
ev_summary(const struct store_feed_row *f, char *buf, size_t len)
{
	const struct store_event_row	*e = f->event;

	if (strcmp(f->kind, "state") == 0) {
		snprintf(buf, len, "%s%s%s%s -> %s%s%s%s",
		    f->old_state != NULL ? f->old_state : "?",
		    f->old_reason != NULL && *f->old_reason ? " (" : "",
		    f->old_reason != NULL ? f->old_reason : "",
		    f->old_reason != NULL && *f->old_reason ? ")" : "",
		    f->new_state != NULL ? f->new_state : "?",
		    f->new_reason != NULL && *f->new_reason ? " (" : "",
		    f->new_reason != NULL ? f->new_reason : "",
		    f->new_reason != NULL && *f->new_reason ? ")" : "");
		return;
	}
	snprintf(buf, len, "%s%s%s%s%s", e->action != NULL ? e->action : "?",
	    e->status != NULL ? " " : "", e->status != NULL ? e->status : "",
	    e->reason != NULL ? " " : "", e->reason != NULL ? e->reason : "");
}

/* --hook: keep the row's JSON line for delivery; 1 when the batch is full. */
static int
hook_keep(struct ev_run *r, const struct store_feed_row *f,
    const struct ctl_val *v)
{
	struct hook_item	*it = &r->items[r->nitems];
	FILE			*m;

	it->line = NULL;
	if ((m = open_memstream(&it->line, &it->len)) == NULL)
		return 1;
	ctl_out_object(m, ev_cols, v, NEV);
	if (fclose(m) != 0 || it->line == NULL) {
		free(it->line);
		return 1;
	}
	it->cursor = f->cursor;
	snprintf(it->type, sizeof(it->type), "%s", f->kind);
	snprintf(it->recipient, sizeof(it->recipient), "%s", f->recipient);
	return ++r->nitems == HOOK_BATCH;
}

static int
ev_row(void *arg, const struct store_feed_row *f)
{
	struct ev_run			*r = arg;
	const struct store_event_row	*e = f->event;
	struct ctl_val			 v[NEV];
	char				 sum[256];
	bool				 ev = strcmp(f->kind, "event") == 0;

	memset(v, 0, sizeof(v));
	ev_summary(f, sum, sizeof(sum));
	v[0].n = f->cursor;
	v[1].s = f->kind;
	v[2].n = f->ts;
	v[3].s = f->recipient;
	v[4].s = sum;
	v[5].n = f->event_id;
	v[11].n = v[26].n = -1;		/* hard, trusted: null */
	if (ev && e != NULL) {
		v[6].n = e->when;
		v[7].s = e->action;
		v[8].s = e->status;
		v[9].n = e->reply_code;
		v[10].s = e->reason;
		v[11].n = e->hard;
		v[12].s = e->class;
		v[13].s = e->who;
		v[14].s = e->advice;
		v[15].s = e->rule;
		v[16].s = e->diagnostic;
		v[17].s = e->remote_mta;
		v[18].s = e->reporting_mta;
		v[19].s = e->queue_id;
		v[20].s = e->message_id;
		v[21].s = e->envelope_id;
		v[22].s = e->sender;
		v[23].s = e->campaign;
		v[24].s = e->feedback_type;
		v[25].s = e->source;
		v[26].n = e->trusted;
		v[31].s = e->mail_kind;
	}
	if (!ev) {
		v[27].s = f->new_state;
		v[28].s = f->new_reason;
		v[29].s = f->old_state;
		v[30].s = f->old_reason;
	}
	if (r->hook)
		return hook_keep(r, f, v);
	if (r->lines) {
		char	 t[32], *cell;

		ctl_out_time(f->ts, t, sizeof(t));
		/* from the network: made safe for a terminal */
		if ((cell = ctl_out_cell(f->recipient, 0)) != NULL) {
			printf("%" PRId64 "  %s  %s  %s  %s\n", f->cursor, t,
			    f->kind, cell, sum);
			free(cell);
		}
	} else
		ctl_out_row(&r->out, v);
	return r->limit > 0 && ++r->n >= r->limit;
}

/* --since: a cursor (digits) or a date; false after a message. */
static bool
ev_since(const char *arg, int64_t *after, int64_t *since)
{
	size_t	 n = strlen(arg);

	if (n > 0 && strspn(arg, "0123456789") == n)
		return ctl_parse_i64(arg, 0, INT64_MAX / 2, after) ||
		    (fprintf(stderr, "bouncectl: events --since: cursor out "
		    "of range\n"), false);
	return ctl_opt_since(arg, (int64_t)time(NULL), since);
}

/* Sleep secs seconds unless a signal comes; false when one came. */
static bool
nap(int secs)
{
	int	 i;

	for (i = 0; i < secs * 10 && !ev_stop; i++)
		usleep(100000);
	return !ev_stop;
}

/*
 * Hand the batch to the hook, in order, each until it is taken (a pause
 * of 1, 2, 4 ... HOOK_RETRY_MAX seconds between tries), keeping the
 * cursor of each in the database under name; *after follows.  false on
 * a signal or a database failure (message on stderr).
 */
static bool
hook_batch(struct store *s, struct ev_run *r, struct ctl_hook *h,
    const char *name, int64_t *after, int64_t *delivered)
{
	struct ctl_hook_meta	 m;
	struct store_cursor	 cur;
	struct hook_item	*it;
	char			 why[256];
	size_t			 i;
	int			 pause;
	bool			 ok = true;

	for (i = 0; i < r->nitems && ok; i++) {
		it = &r->items[i];
		m.cursor = it->cursor;
		m.type = it->type;
		m.recipient = it->recipient;
		for (pause = 1; !ctl_hook_deliver(h, it->line, it->len, &m,
		    why, sizeof(why)); pause = pause * 2 > HOOK_RETRY_MAX ?
		    HOOK_RETRY_MAX : pause * 2) {
			fprintf(stderr, "bouncectl: events --hook: cursor %"
			    PRId64 ": %s; trying again in %d s\n", it->cursor,
			    why, pause);
			if (!nap(pause)) {
				ok = false;
				break;
			}
		}
		if (!ok)
			break;
		memset(&cur, 0, sizeof(cur));
		cur.off = (uint64_t)it->cursor;
		if (store_cursor_set(s, name, &cur, (int64_t)time(NULL)) !=
		    BD_OK) {
			ctl_store_fail(s, "events --hook: cursor");
			ok = false;
			break;
		}
		*after = it->cursor;
		(*delivered)++;
	}
	for (i = 0; i < r->nitems; i++)
		free(r->items[i].line);
	r->nitems = 0;
	return ok;
}

/*
 * --hook: deliver what the feed holds after the kept cursor (or after,
 * the first time), then, with --follow, what comes; the exit status.
 */
static int
hook_loop(struct store *s, struct ev_run *r, const char *target,
    const char *name, int64_t after, int64_t since, bool follow)
{
	struct ctl_hook		*h;
	struct store_cursor	 cur;
	int64_t			 last, delivered = 0;
	int			 rc = CTL_EXIT_OK;

	if ((h = ctl_hook_new(target)) == NULL)
		return CTL_EXIT_ERROR;
	if (store_cursor_get(s, name, &cur) == BD_OK) {
		after = (int64_t)cur.off;
		since = 0;
	}
	r->hook = true;
	for (;;) {
		if (store_feed(s, after, since, HOOK_BATCH, ev_row, r,
		    &last) != BD_OK) {
			rc = ctl_store_fail(s, "events");
			break;
		}
		if (r->nitems > 0) {
			if (!hook_batch(s, r, h, name, &after, &delivered)) {
				rc = ev_stop ? CTL_EXIT_OK : CTL_EXIT_ERROR;
				break;
			}
			since = 0;
			continue;
		}
		if (!follow || !nap(EVENTS_POLL_MS / 1000))
			break;
	}
	fprintf(stderr, "bouncectl: events --hook: %" PRId64 " handed to %s, "
	    "cursor %s at %" PRId64 "\n", delivered, target, name, after);
	ctl_hook_free(h);
	return rc;
}

/*
 * ctl_events - bouncectl events [--since CURSOR|DATE] [--follow]
 * [--limit N]
 *
 * Returns 0 (at the end of the feed, after --limit rows, or on SIGINT or
 * SIGTERM with --follow), or 2 on a bad option or a database failure.
 */
int
ctl_events(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "since",	required_argument, NULL, 's' },
		{ "follow",	no_argument, NULL, 'f' },
		{ "limit",	required_argument, NULL, 'l' },
		{ "hook",	optional_argument, NULL, 'h' },
		{ "cursor",	required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct bd_config	*cfg = NULL;
	struct state_policy	 pol;
	const char		*target = NULL, *cname = "hook";
	char			 name[160];
	struct sigaction	 sa;
	struct store		*s;
	struct ev_run		 r;
	int64_t			 after = 0, since = 0, last;
	int			 ch, rc;
	bool			 follow = false, hook = false;

	memset(&r, 0, sizeof(r));
	while ((ch = getopt_long(argc, argv, "f", lo, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (!ev_since(optarg, &after, &since))
				return CTL_EXIT_ERROR;
			break;
		case 'f':
			follow = true;
			break;
		case 'h':
			hook = true;
			target = optarg;
			break;
		case 'c':
			cname = optarg;
			break;
		case 'l':
			if (!ctl_parse_i64(optarg, 1, INT64_MAX / 2,
			    &r.limit)) {
				fprintf(stderr, "bouncectl: events --limit: "
				    "not a count: \"%s\"\n", optarg);
				return CTL_EXIT_ERROR;
			}
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc)
		goto usage;
	/* --hook: the target is EventHook of the configuration by default */
	if (hook && target == NULL) {
		if (ctl_config_policy(o, &cfg, &pol) != CTL_EXIT_OK)
			return CTL_EXIT_ERROR;
		if (cfg->event_hook == NULL || cfg->event_hook[0] == '\0') {
			fprintf(stderr, "bouncectl: events --hook: no EventHook "
			    "in %s; give --hook=TARGET\n", cfg->path != NULL ?
			    cfg->path : "the configuration");
			config_free(cfg);
			return CTL_EXIT_ERROR;
		}
		target = cfg->event_hook;
	}
	/* the hook keeps its cursor in the database: a read-write handle */
	if ((rc = ctl_store_open(o, hook ? STORE_NOCREATE : STORE_RDONLY,
	    &s)) != CTL_EXIT_OK) {
		config_free(cfg);
		return rc;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ev_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (hook) {
		snprintf(name, sizeof(name), "hook:%s", cname);
		rc = hook_loop(s, &r, target, name, after, since, follow);
		store_close(s);
		config_free(cfg);
		return rc;
	}
	/* a table is written at its end: --follow gives a line a row */
	r.lines = follow && ctl_out_fmt(o) == CTL_FMT_TABLE;
	ctl_out_init(&r.out, stdout, ctl_out_fmt(o), ev_cols, NEV,
	    CTL_OUT_JSONL);
	for (;;) {
		if (store_feed(s, after, since, EVENTS_BATCH, ev_row, &r,
		    &last) != BD_OK) {
			rc = ctl_store_fail(s, "events");
			break;
		}
		fflush(stdout);
		if (ferror(stdout) || (r.limit > 0 && r.n >= r.limit))
			break;
		if (last != after) {
			after = last;
			continue;
		}
		if (!follow || ev_stop)
			break;
		usleep(EVENTS_POLL_MS * 1000);
		if (ev_stop)
			break;
	}
	if (!r.lines)
		ctl_out_end(&r.out);
	store_close(s);
	return rc;
usage:
	fprintf(stderr, "usage: bouncectl events [--since CURSOR|DATE] "
	    "[--follow] [--limit N] [--hook[=TARGET] [--cursor NAME]]\n");
	return CTL_EXIT_ERROR;
}
