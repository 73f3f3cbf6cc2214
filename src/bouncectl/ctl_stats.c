/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * ctl_stats.c - bouncectl(8) subcommands that count and tidy the store:
 * stats (sends, their outcomes and bounce rates per domain, reason, day
 * or campaign, with warning thresholds; with --untrusted, the reports
 * the trust policy held, per source and domain), prune (forget old
 * events) and expire (end suppressions older than their reason's rule).
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

#include "bouncectl/ctl_json.h"
#include "bouncectl/ctl_out.h"
#include "bouncectl/ctl_int.h"
#include "conf/conf.h"
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
	/* our own path's failures (who = local): never the recipient's */
	{ "local", CTL_COL_NUM, true, 0 },
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
	bool		 untrusted;	/* --untrusted */
};

/* stats --untrusted: the held reports, per source and domain. */
static const struct ctl_col untrusted_cols[] = {
	{ "source", CTL_COL_STR, true, 0 },
	{ "domain", CTL_COL_STR, true, 0 },
	{ "reports", CTL_COL_NUM, true, 0 },
	{ "recipients", CTL_COL_NUM, true, 0 },
	{ "first", CTL_COL_TIME, true, 0 },
	{ "last", CTL_COL_TIME, true, 0 },
	{ "why", CTL_COL_STR, true, 0 },
};
#define NUNTRUSTED	(sizeof(untrusted_cols) / sizeof(untrusted_cols[0]))

static int
untrusted_cb(void *arg, const struct store_untrusted_row *r)
{
	struct ctl_val	 v[NUNTRUSTED];

	memset(v, 0, sizeof(v));
	v[0].s = r->source[0] ? r->source : "(unknown)";
	v[1].s = r->domain;
	v[2].n = r->events;
	v[3].n = r->recipients;
	v[4].n = r->first;
	v[5].n = r->last;
	v[6].s = r->why;
	ctl_out_row(arg, v);
	return 0;
}

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
	v[15].n = r->local;
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
	    "campaign", "kind" };
	size_t	 i;

	switch (ch) {
	case 'b':
		for (i = 0; i < sizeof(bys) / sizeof(bys[0]); i++)
			if (strcmp(arg, bys[i]) == 0) {
				a->by = bys[i];
				return true;
			}
		fprintf(stderr, "bouncectl: stats --by: \"%s\" is not "
		    "domain, reason, day, campaign or kind\n", arg);
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
	case 'u':
		a->untrusted = true;
		return true;
	}
	fprintf(stderr, "usage: bouncectl stats [--by domain|reason|day|"
	    "campaign|kind] [--since DATE] [--warn-total PCT] [--warn-hard PCT] "
	    "[--min-sends N] | --untrusted [--since DATE]\n");
	return false;
}

/* {"by":...,"since":...,"warn_total":...,"groups": */
static void
stats_json_head(const struct stat_arg *a)
{
	JsonObject	*o = json_object_new();
	char		 t[64];

	ctl_json_set_str(o, "by", a->by);
	ctl_out_time(a->since, t, sizeof(t));
	ctl_json_set_str(o, "since", t[0] ? t : NULL);
	json_object_set_double_member(o, "warn_total",
	    (double)a->warn_total / 100);
	json_object_set_double_member(o, "warn_hard",
	    (double)a->warn_hard / 100);
	json_object_set_int_member(o, "min_sends", a->min_sends);
	ctl_json_open(stdout, o, "groups");
}

/* ,"crossed":bool} */
static void
stats_json_tail(const struct stat_arg *a)
{
	JsonObject	*o = json_object_new();

	json_object_set_boolean_member(o, "crossed", a->crossed);
	ctl_json_close(stdout, o);
}

/*
 * ctl_stats - bouncectl stats [--by domain|reason|day|campaign]
 * [--since DATE] [--warn-total PCT] [--warn-hard PCT] [--min-sends N]
 *
 * Sends, their outcomes and bounce rates where the MTA log is read
 * (ingest-log, follow-log), else the events; a warning on stderr (and in
 * the warning column) for each group of at least N sends (default 100)
 * whose bounce rate passes PCT (default 2%) or hard bounce rate passes
 * its PCT (default 0.5%).  With --untrusted: the reports the trust
 * policy held (never acted on), per SMTP client and recipient domain.
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
		{ "untrusted", no_argument, NULL, 'u' },
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
	if (sa.untrusted) {
		ctl_out_init(&sa.out, stdout, ctl_out_fmt(o), untrusted_cols,
		    NUNTRUSTED, 0);
		if (store_untrusted(s, sa.since, untrusted_cb, &sa.out) !=
		    BD_OK) {
			ctl_out_end(&sa.out);
			rc = ctl_store_fail(s, "stats");
		} else if (!ctl_out_end(&sa.out))
			rc = CTL_EXIT_ERROR;
		store_close(s);
		return rc;
	}
	/* a report: one JSON document, the groups an array in it */
	if (o->json)
		stats_json_head(&sa);
	ctl_out_init(&sa.out, stdout, ctl_out_fmt(o), stat_cols, NSTAT,
	    CTL_OUT_INNER);
	if (store_stats_since(s, sa.by, sa.since, stat_cb, &sa) != BD_OK) {
		ctl_out_end(&sa.out);
		rc = ctl_store_fail(s, "stats");
	} else if (!ctl_out_end(&sa.out))
		rc = CTL_EXIT_ERROR;
	else if (sa.crossed)
		rc = CTL_EXIT_SUPPRESSED;	/* 1: needs attention */
	if (o->json)
		stats_json_tail(&sa);
	store_close(s);
	return rc;
}

/* ---- prune and expire: the addresses they touch, then a count ---- */

static const struct ctl_col expire_cols[] = {
	{ "address", CTL_COL_STR, true, 0 },
	{ "reason", CTL_COL_STR, true, 0 },
	{ "suppressed_since", CTL_COL_TIME, true, 0 },
};
static const struct ctl_col prune_cols[] = {
	{ "address", CTL_COL_STR, true, 0 },
	{ "events", CTL_COL_NUM, true, 0 },
	{ "oldest", CTL_COL_TIME, true, 0 },
	{ "newest", CTL_COL_TIME, true, 0 },
};

/* One run of prune or expire: its output and counts. */
struct upkeep {
	const struct ctl_opts	*o;
	const char		*cmd;		/* "prune", "expire" */
	bool			 dry;
	struct ctl_out		 out;
	int64_t			 addrs;		/* rows listed */
	int64_t			 events;	/* prune: events listed */
};

static int
upkeep_row(void *arg, const struct store_addr_row *r)
{
	struct upkeep	*u = arg;
	struct ctl_val	 v[4];

	memset(v, 0, sizeof(v));
	v[0].s = r->address;
	if (strcmp(u->cmd, "expire") == 0) {
		v[1].s = r->reason;
		v[2].n = r->since;
	} else {
		v[1].n = r->count;
		v[2].n = r->since;
		v[3].n = r->until;
		u->events += r->count;
	}
	ctl_out_row(&u->out, v);
	u->addrs++;
	return 0;
}

/*
 * Start the output: {"command":...,"dry_run":...,"addresses":[ with
 * --json (one document), the CSV header, or a table to fill.
 */
static void
upkeep_begin(struct upkeep *u)
{
	bool		 expire = strcmp(u->cmd, "expire") == 0;
	JsonObject	*o;

	if (u->o->json) {
		o = json_object_new();
		ctl_json_set_str(o, "command", u->cmd);
		json_object_set_boolean_member(o, "dry_run", u->dry);
		ctl_json_open(stdout, o, "addresses");
	}
	ctl_out_init(&u->out, stdout, ctl_out_fmt(u->o), expire ?
	    expire_cols : prune_cols, expire ? 3 : 4, CTL_OUT_INNER);
}

/* The list, then the count: ,"expired":N} or a sentence (not in CSV). */
static void
upkeep_end(struct upkeep *u, int64_t n, bool ok)
{
	bool		 expire = strcmp(u->cmd, "expire") == 0;
	JsonObject	*o;

	if (u->out.fmt == CTL_FMT_TABLE && u->out.nrows == 0)
		u->out.flags |= CTL_OUT_NOHEAD;
	ctl_out_end(&u->out);
	if (u->o->json) {
		o = json_object_new();
		json_object_set_int_member(o, expire ? "expired" : "pruned",
		    ok ? n : 0);
		ctl_json_close(stdout, o);
		return;
	}
	if (!ok || u->o->csv)
		return;
	if (expire)
		printf("%s %" PRId64 " suppression%s%s\n", u->dry ?
		    "would expire" : "expired", n, n == 1 ? "" : "s",
		    u->dry ? " (dry run: nothing changed)" : "");
	else
		printf("%s %" PRId64 " event%s of %" PRId64 " address%s%s\n",
		    u->dry ? "would prune" : "pruned", n, n == 1 ? "" : "s",
		    u->addrs, u->addrs == 1 ? "" : "es",
		    u->dry ? " (dry run: nothing changed)" : "");
}

/*
 * Open the store for u (read-only for a dry run) and, for a real run,
 * one write transaction, so that the list and the change see the same
 * rows.  The exit status.
 */
static int
upkeep_open(struct upkeep *u, struct store **s)
{
	int	 rc;

	if ((rc = ctl_store_open(u->o, u->dry ? STORE_RDONLY : 0, s)) !=
	    CTL_EXIT_OK)
		return rc;
	if (!u->dry && store_batch_begin(*s) != BD_OK) {
		rc = ctl_store_fail(*s, u->cmd);
		store_close(*s);
		*s = NULL;
	}
	return rc;
}

/* Commit (ok) or roll back a real run; the exit status. */
static int
upkeep_close(struct upkeep *u, struct store *s, bool ok)
{
	int	 rc = ok ? CTL_EXIT_OK : CTL_EXIT_ERROR;

	if (!u->dry && store_batch_end(s, ok) != BD_OK && ok)
		rc = ctl_store_fail(s, u->cmd);
	store_close(s);
	return rc;
}

/*
 * An event hook (events --hook, its cursor "hook:NAME") that has not
 * handed on every event older than the prune's date would skip those a
 * prune deletes (their feed rows go with them): *before is brought back
 * to the oldest such event, so that they stay, and the operator is told
 * which hook is behind and what to do.  false on a database failure.
 */
static bool
prune_spare_hooks(struct store *s, int64_t days, int64_t *before)
{
	struct store_hold	 h;
	char			 since[32];
	bool			 held;

	if (store_prune_hold(s, *before, &held, &h) != BD_OK) {
		ctl_store_fail(s, "prune");
		return false;
	}
	if (!held)
		return true;
	ctl_out_time(h.oldest, since, sizeof(since));
	fprintf(stderr, "bouncectl: prune: %s has not handed on %" PRId64
	    " event%s older than %" PRId64 " days yet (its cursor is at %"
	    PRId64 "): events since %s are kept; let its `bouncectl events "
	    "--hook` catch up, or prune with --ignore-hooks to delete them "
	    "anyway (the hook then skips them)\n", h.hook, h.events,
	    h.events == 1 ? "" : "s", days, h.cursor, since);
	*before = h.oldest;
	return true;
}

/*
 * ctl_prune - bouncectl prune --older-than DAYS [--dry-run]: delete
 * events older than DAYS days (recipient states are kept), listing the
 * addresses whose events go
 *
 * Returns 0, or 2 on a bad option, a missing database (without
 * --create) or a database failure (nothing deleted).
 */
int
ctl_prune(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "older-than", required_argument, NULL, 'o' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "ignore-hooks", no_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	struct upkeep		 u;
	struct store		*s;
	struct bd_config	*cfg = NULL;
	struct state_policy	 pol;
	int64_t			 days = -1, n = 0, before;
	int			 ch, rc;
	bool			 ok, ignore_hooks = false;

	memset(&u, 0, sizeof(u));
	u.o = o;
	u.cmd = "prune";
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch == 'n')
			u.dry = true;
		else if (ch == 'i')
			ignore_hooks = true;
		else if (ch != 'o' || !ctl_parse_i64(optarg, 1, 1000000,
		    &days)) {
			fprintf(stderr, "usage: bouncectl prune --older-than "
			    "DAYS (a whole number, at least 1) [--dry-run] "
			    "[--ignore-hooks]\n");
			return CTL_EXIT_ERROR;
		}
	}
	if (days < 1 || optind != argc) {
		fprintf(stderr, "usage: bouncectl prune --older-than DAYS "
		    "[--dry-run] [--ignore-hooks]\n");
		return CTL_EXIT_ERROR;
	}
	if ((rc = upkeep_open(&u, &s)) != CTL_EXIT_OK)
		return rc;
	before = (int64_t)time(NULL) - days * 86400;
	if (!ignore_hooks && !prune_spare_hooks(s, days, &before)) {
		store_close(s);
		return CTL_EXIT_ERROR;
	}
	/* the checkpoints a prune keeps are folded under the states' policy */
	if ((rc = ctl_config_policy(o, &cfg, &pol)) != CTL_EXIT_OK) {
		store_close(s);
		return rc;
	}
	upkeep_begin(&u);
	ok = store_prune_list(s, before, upkeep_row, &u) == BD_OK;
	n = u.events;
	if (ok && !u.dry)
		ok = store_policy_sync(s, &pol, NULL) == BD_OK &&
		    store_prune(s, before, &n) == BD_OK;
	/* the sends of that age too: the milter keeps one per message */
	if (ok && !u.dry)
		ok = store_prune_sends(s, before, NULL) == BD_OK &&
		    store_vacuum(s) == BD_OK;
	if (!ok)
		ctl_store_fail(s, "prune");
	upkeep_end(&u, n, ok);
	config_free(cfg);
	return upkeep_close(&u, s, ok);
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
 * ctl_expire - bouncectl expire [--dry-run] RULE...: end suppressions
 * older than their rule ("soft-limit:180d", "hard:1y"; manual never
 * expires), listing the addresses
 *
 * Returns 0, or 2 on a bad rule, a missing database (without --create)
 * or a database failure (nothing changed).
 */
int
ctl_expire(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct store_expiry	 rules[STORE_EXPIRY_MAX];
	struct upkeep		 u;
	struct store		*s;
	size_t			 n = 0;
	int64_t			 done = 0, now = (int64_t)time(NULL);
	int			 a, ch, rc;
	bool			 ok;

	memset(&u, 0, sizeof(u));
	u.o = o;
	u.cmd = "expire";
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch != 'n')
			goto usage;
		u.dry = true;
	}
	if (optind >= argc)
		goto usage;
	for (a = optind; a < argc; a++)
		if (!expire_arg(argv[a], rules, &n))
			return CTL_EXIT_ERROR;
	if ((rc = upkeep_open(&u, &s)) != CTL_EXIT_OK)
		return rc;
	upkeep_begin(&u);
	ok = store_expire_list(s, now, rules, n, upkeep_row, &u) == BD_OK;
	done = u.addrs;
	if (ok && !u.dry)
		ok = store_expire(s, now, rules, n, &done) == BD_OK;
	if (!ok)
		ctl_store_fail(s, "expire");
	upkeep_end(&u, done, ok);
	return upkeep_close(&u, s, ok);
usage:
	fprintf(stderr, "usage: bouncectl expire [--dry-run] REASON:AGE... "
	    "(e.g. soft-limit:180d)\n");
	return CTL_EXIT_ERROR;
}
