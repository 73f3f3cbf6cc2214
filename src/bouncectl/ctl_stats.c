/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * ctl_stats.c - bouncectl(8) subcommands that count and tidy the store:
 * stats (sends, their outcomes and bounce rates per domain, reason, day
 * or campaign, with warning thresholds), prune (forget old events) and
 * expire (end suppressions older than their reason's rule).
 *
 * stats opens the store read-only; prune and expire write and refuse a
 * database that does not exist (ctl_store_open()).  A warning goes to
 * stderr as well as into the table, so that cron mails it.  Rates are
 * kept as hundredths of a percent, integers, never floating point.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bouncectl/ctl_out.h"
#include "bouncectl/ctl_int.h"
#include "store/store.h"

static const struct ctl_col stat_cols[] = {
	{ "key", CTL_COL_STR, true, 0 },
	{ "sends", CTL_COL_NUM, true, 0 },
	{ "delivered", CTL_COL_NUM, true, 0 },
	{ "soft", CTL_COL_NUM, true, 0 },
	{ "hard", CTL_COL_NUM, true, 0 },
	{ "sender_side", CTL_COL_NUM, true, 0 },
	{ "bounce_rate", CTL_COL_PCT, true, 0 },
	{ "hard_rate", CTL_COL_PCT, true, 0 },
	{ "suppressed", CTL_COL_NUM, true, 0 },
	{ "events", CTL_COL_NUM, true, 0 },
	{ "warning", CTL_COL_STR, true, 0 },
	{ "sends_delivered", CTL_COL_NUM, false, 0 },
	{ "sends_soft", CTL_COL_NUM, false, 0 },
	{ "sends_hard", CTL_COL_NUM, false, 0 },
	{ "sends_sender_side", CTL_COL_NUM, false, 0 },
};
#define NSTAT	(sizeof(stat_cols) / sizeof(stat_cols[0]))

struct stat_arg {
	struct ctl_out	 out;
	int64_t		 warn_total;	/* hundredths of a percent */
	int64_t		 warn_hard;
	int64_t		 min_sends;
	int64_t		 since;
	int		 crossed;
	const char	*by;
};

/* part / whole in hundredths of a percent, rounded; -1 without a whole */
static int64_t
pct(int64_t part, int64_t whole)
{
	if (whole <= 0)
		return -1;
	return (part * 10000 + whole / 2) / whole;
}

/* The warning of a group, "" for none; on stderr too. */
static void
stat_warn(struct stat_arg *a, const struct store_stat_row *r, int64_t total,
    int64_t hard, char *warn, size_t len)
{
	size_t	 n;

	warn[0] = '\0';
	if (r->sends < a->min_sends || r->sends <= 0)
		return;
	if (total > a->warn_total)
		snprintf(warn, len, "bounce rate above %" PRId64 ".%02" PRId64
		    "%%", a->warn_total / 100, a->warn_total % 100);
	n = strlen(warn);
	if (hard > a->warn_hard)
		snprintf(warn + n, len - n, "%shard rate above %" PRId64
		    ".%02" PRId64 "%%", n > 0 ? "; " : "", a->warn_hard / 100,
		    a->warn_hard % 100);
	if (warn[0] == '\0')
		return;
	a->crossed = 1;
	fprintf(stderr, "bouncectl: warning: %s%s%s: %s (%" PRId64 ".%02"
	    PRId64 "%% of %" PRId64 " sends, hard %" PRId64 ".%02" PRId64
	    "%%)\n", a->by != NULL ? a->by : "", a->by != NULL ? " " : "",
	    r->key[0] ? r->key : "(none)", warn, total / 100, total % 100,
	    r->sends, hard / 100, hard % 100);
}

static int
stat_cb(void *arg, const struct store_stat_row *r)
{
	struct stat_arg	*a = arg;
	struct ctl_val	 v[NSTAT];
	char		 warn[128];
	int64_t		 total, hard;
	bool		 sends = r->sends > 0;

	/*
	 * With sends (the log is read): the outcome of each send.  Without
	 * (DSNs only): the events, and no rate.
	 */
	total = pct(r->sends_soft + r->sends_hard + r->sends_sender, r->sends);
	hard = pct(r->sends_hard, r->sends);
	stat_warn(a, r, total, hard, warn, sizeof(warn));
	memset(v, 0, sizeof(v));
	v[0].s = r->key[0] ? r->key : "(none)";
	v[1].n = r->sends;
	v[2].n = sends ? r->sends_delivered : r->delivered;
	v[3].n = sends ? r->sends_soft : r->soft;
	v[4].n = sends ? r->sends_hard : r->hard;
	v[5].n = sends ? r->sends_sender : r->sender;
	v[6].n = total;
	v[7].n = hard;
	v[8].n = r->suppressed;
	v[9].n = r->events;
	v[10].s = warn;
	v[11].n = r->sends_delivered;
	v[12].n = r->sends_soft;
	v[13].n = r->sends_hard;
	v[14].n = r->sends_sender;
	ctl_out_row(&a->out, v);
	return 0;
}

/* A percentage "2", "0.5", "1.25" to hundredths of a percent. */
static bool
parse_pct(const char *s, int64_t *out)
{
	int64_t	 whole = 0, frac = 0;
	int	 nd = 0;

	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++)
		if ((whole = whole * 10 + (*s - '0')) > 100)
			return false;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			if (nd++ < 2)
				frac = frac * 10 + (*s - '0');
	if (*s == '%')
		s++;
	if (*s != '\0')
		return false;
	while (nd < 2) {
		frac *= 10;
		nd++;
	}
	*out = whole * 100 + frac;
	return *out <= 10000;
}

/* One option of stats into a; false after a message on stderr. */
static bool
stats_opt(int ch, const char *arg, struct stat_arg *a)
{
	static const char *const bys[] = { "domain", "reason", "day",
	    "campaign" };
	size_t	 i;

	switch (ch) {
	case 'b':
		for (i = 0; i < sizeof(bys) / sizeof(bys[0]); i++)
			if (strcmp(arg, bys[i]) == 0) {
				a->by = bys[i];
				return true;
			}
		fprintf(stderr, "bouncectl: stats --by: \"%s\" is not "
		    "domain, reason, day or campaign\n", arg);
		return false;
	case 'S':
		return ctl_opt_since(arg, (int64_t)time(NULL), &a->since);
	case 't':
	case 'h':
		if (parse_pct(arg, ch == 't' ? &a->warn_total : &a->warn_hard))
			return true;
		fprintf(stderr, "bouncectl: --warn-%s: not a percentage from "
		    "0 to 100: \"%s\"\n", ch == 't' ? "total" : "hard", arg);
		return false;
	case 'm':
		if (ctl_parse_i64(arg, 1, INT64_MAX / 2, &a->min_sends))
			return true;
		fprintf(stderr, "bouncectl: --min-sends: not a count: "
		    "\"%s\"\n", arg);
		return false;
	}
	fprintf(stderr, "usage: bouncectl stats [--by domain|reason|day|"
	    "campaign] [--since DATE] [--warn-total PCT] [--warn-hard PCT] "
	    "[--min-sends N]\n");
	return false;
}

/*
 * ctl_stats - bouncectl stats [--by domain|reason|day|campaign]
 * [--since DATE] [--warn-total PCT] [--warn-hard PCT] [--min-sends N]
 *
 * Sends, their outcomes and bounce rates where the MTA log is read
 * (ingest-log, follow-log), else the events; a warning on stderr (and in
 * the warning column) for each group of at least N sends (default 100)
 * whose bounce rate passes PCT (default 2%) or hard bounce rate passes
 * its PCT (default 0.5%).
 * Returns 0; 1 when a group crossed a threshold; 2 on a bad option or a
 * database failure.
 */
int
ctl_stats(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "by", required_argument, NULL, 'b' },
		{ "since", required_argument, NULL, 'S' },
		{ "warn-total", required_argument, NULL, 't' },
		{ "warn-hard", required_argument, NULL, 'h' },
		{ "min-sends", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	struct stat_arg	 sa;
	struct store	*s;
	int		 ch, rc;

	memset(&sa, 0, sizeof(sa));
	sa.warn_total = 200;
	sa.warn_hard = 50;
	sa.min_sends = 100;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1)
		if (!stats_opt(ch, optarg, &sa))
			return CTL_EXIT_ERROR;
	if (optind != argc) {
		fprintf(stderr, "bouncectl: stats: unexpected \"%s\"\n",
		    argv[optind]);
		return CTL_EXIT_ERROR;
	}
	if ((rc = ctl_store_open(o, STORE_RDONLY, &s)) != CTL_EXIT_OK)
		return rc;
	ctl_out_init(&sa.out, stdout, ctl_out_fmt(o), stat_cols, NSTAT, 0);
	if (store_stats_since(s, sa.by, sa.since, stat_cb, &sa) != BD_OK) {
		ctl_out_end(&sa.out);
		rc = ctl_store_fail(s, "stats");
	} else if (!ctl_out_end(&sa.out))
		rc = CTL_EXIT_ERROR;
	else if (sa.crossed)
		rc = CTL_EXIT_SUPPRESSED;	/* 1: needs attention */
	store_close(s);
	return rc;
}

/* The summary of prune or expire: {"NAME":N} with --json, else text. */
static void
count_out(const struct ctl_opts *o, const char *name, int64_t n,
    const char *text)
{
	struct ctl_col	 col = { name, CTL_COL_NUM, true, 0 };
	struct ctl_val	 v = { NULL, n };

	if (o->json)
		ctl_out_object(stdout, &col, &v, 1);
	else
		printf("%s\n", text);
}

/*
 * ctl_prune - bouncectl prune --older-than DAYS: delete events older than
 * DAYS days; recipient states are kept
 *
 * Returns 0, or 2 on a bad option, a missing database (without
 * --create) or a database failure.
 */
int
ctl_prune(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "older-than", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct store	*s;
	char		 text[128];
	int64_t		 days = -1, n = 0;
	int		 ch, rc;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch != 'o' || !ctl_parse_i64(optarg, 1, 1000000, &days)) {
			fprintf(stderr, "usage: bouncectl prune --older-than "
			    "DAYS (a whole number, at least 1)\n");
			return CTL_EXIT_ERROR;
		}
	}
	if (days < 1 || optind != argc) {
		fprintf(stderr, "usage: bouncectl prune --older-than DAYS\n");
		return CTL_EXIT_ERROR;
	}
	if ((rc = ctl_store_open(o, 0, &s)) != CTL_EXIT_OK)
		return rc;
	if (store_prune(s, (int64_t)time(NULL) - days * 86400, &n) != BD_OK)
		rc = ctl_store_fail(s, "prune");
	else {
		snprintf(text, sizeof(text), "pruned %" PRId64 " event%s older "
		    "than %" PRId64 " days", n, n == 1 ? "" : "s", days);
		count_out(o, "pruned", n, text);
	}
	store_close(s);
	return rc;
}

/* Add the rules of one argument to rules[*n]; false after a message. */
static bool
expire_arg(const char *arg, struct store_expiry *rules, size_t *n)
{
	struct store_expiry	 one[STORE_EXPIRY_MAX];
	char			 err[256];
	size_t			 k, i, j;

	if (!store_expiry_parse(arg, one, STORE_EXPIRY_MAX, &k, err,
	    sizeof(err))) {
		fprintf(stderr, "bouncectl: expire: %s\n", err);
		return false;
	}
	for (i = 0; i < k; i++) {
		for (j = 0; j < *n; j++)
			if (strcmp(rules[j].reason, one[i].reason) == 0) {
				fprintf(stderr, "bouncectl: expire: %s given "
				    "twice\n", one[i].reason);
				return false;
			}
		if (*n == STORE_EXPIRY_MAX) {
			fprintf(stderr, "bouncectl: expire: too many rules\n");
			return false;
		}
		rules[(*n)++] = one[i];
	}
	return true;
}

/*
 * ctl_expire - bouncectl expire RULE...: end suppressions older than
 * their rule ("soft-limit:180d", "hard:1y"; manual never expires)
 *
 * Returns 0, or 2 on a bad rule, a missing database (without --create)
 * or a database failure.
 */
int
ctl_expire(const struct ctl_opts *o, int argc, char **argv)
{
	struct store_expiry	 rules[STORE_EXPIRY_MAX];
	struct store		*s;
	char			 text[128];
	size_t			 n = 0;
	int64_t			 done = 0;
	int			 a, rc;

	if (argc < 2) {
		fprintf(stderr, "usage: bouncectl expire REASON:AGE... (e.g. "
		    "soft-limit:180d)\n");
		return CTL_EXIT_ERROR;
	}
	for (a = 1; a < argc; a++)
		if (!expire_arg(argv[a], rules, &n))
			return CTL_EXIT_ERROR;
	if ((rc = ctl_store_open(o, 0, &s)) != CTL_EXIT_OK)
		return rc;
	if (store_expire(s, (int64_t)time(NULL), rules, n, &done) != BD_OK)
		rc = ctl_store_fail(s, "expire");
	else {
		snprintf(text, sizeof(text), "expired %" PRId64
		    " suppression%s", done, done == 1 ? "" : "s");
		count_out(o, "expired", done, text);
	}
	store_close(s);
	return rc;
}
