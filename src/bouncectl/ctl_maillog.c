/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * ctl_maillog.c - bouncectl(8) subcommands that read the MTA's delivery log:
 * ingest-log (import a log once) and follow-log (follow it live, until
 * SIGINT or SIGTERM: what a systemd unit runs on a relay).  Both write,
 * so the database must exist unless --create is given.
 *
 * Lines come from maillog/maillog_follow.c (a file followed across rotation, or
 * standard input: `journalctl -f -o short-iso-precise -u postfix@- |
 * bouncectl follow-log -`), go through maillog/maillog_source.c (pure: parse,
 * classify, record) into the store in batches; each batch commits with
 * the file position under the source name "file:PATH" (schema v2
 * cursors table), so a restart resumes after the last line kept and no
 * line counts twice (recording is idempotent besides).  A malformed line
 * is counted and skipped, never fatal.  This file is where the counters
 * and warnings are written out (stderr; the journal under systemd).
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "bouncectl/ctl_out.h"
#include "bouncectl/ctl_int.h"
#include "maillog/maillog_follow.h"
#include "log/log.h"
#include "maillog/maillog_source.h"
#include "verdict/spike.h"
#include "verdict/rules.h"
#include "verdict/state.h"
#include "store/store.h"

#define BATCH_LINES	5000	/* most lines per transaction */
#define BATCH_MS	200	/* longest a batch keeps the write lock */
/*
 * The pause after a batch cut short by BATCH_LINES or BATCH_MS (a
 * backlog): SQLite's locks are not fair, and bounced's threads, which
 * wait for the write lock by polling every few milliseconds, never found
 * it free between two batches of a follower catching up (issue 11: 1,946
 * bounces deferred "database is locked" in two minutes).
 */
#define BATCH_GAP_MS	20
#define REPORT_EVERY	600	/* seconds between follow-log counter lines */
#define SPIKE_DEFAULT	50	/* sender-side failures per domain and hour */

static volatile sig_atomic_t	 stop_sig;

static void
on_signal(int sig)
{
	stop_sig = sig;
}

/* What the log commands need: store, rules, policy, campaign header. */
struct logctx {
	struct store		*s;
	struct rules		*rules;
	struct state_policy	 pol;	/* borrows from cfg (HandOffRelays) */
	struct bd_config	*cfg;
	char			 campaign[128];
	struct logsource	*ls;
	struct logsource_result	 res;
	char			 source[PATH_MAX + 8];
	const char		*path;		/* as given, for messages */
	bool			 stream;	/* stdin or inflated: no position */
	struct ctl_progress	 prog;		/* on a terminal */
};

static int64_t
mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
logctx_free(struct logctx *c)
{
	logsource_free(c->ls);
	rules_unref(c->rules);
	store_close(c->s);
	config_free(c->cfg);
	c->cfg = NULL;
}

/*
 * The config (-c, else the default when it exists)
 * gives the rules, SoftBounceLimit/Window, ComplaintSuppress and
 * CampaignHeader; without one the built-in rules and the defaults of
 * bounced.conf(5) apply (3 sends in 30 days; abuse and opt-out
 * complaints suppress).
 */
static int
logctx_open(const struct ctl_opts *o, const char *path, struct logctx *c)
{
	struct logsource_opts	 lo;
	struct bd_config	*cfg;
	char			 real[PATH_MAX];
	struct tm		 tm;
	time_t			 now = time(NULL);

	memset(c, 0, sizeof(*c));
	if (ctl_config_policy(o, &cfg, &c->pol) != CTL_EXIT_OK)
		return CTL_EXIT_ERROR;
	c->rules = rules_ref(cfg->rules);
	if (cfg->campaign_header != NULL)
		snprintf(c->campaign, sizeof(c->campaign), "%s",
		    cfg->campaign_header);
	c->cfg = cfg;		/* c->pol borrows its HandOffRelays */
	if (ctl_store_open(o, 0, &c->s) != CTL_EXIT_OK) {
		logctx_free(c);
		return CTL_EXIT_ERROR;
	}
	memset(&lo, 0, sizeof(lo));
	lo.rules = c->rules;
	lo.campaign_header = c->campaign[0] ? c->campaign : NULL;
	if (localtime_r(&now, &tm) != NULL)
		lo.gmtoff = tm.tm_gmtoff;
	if (logsource_new(&lo, &c->ls) != BD_OK) {
		fprintf(stderr, "bouncectl: out of memory\n");
		logctx_free(c);
		return CTL_EXIT_ERROR;
	}
	c->path = path;
	c->stream = strcmp(path, "-") == 0;
	if (strcmp(path, "-") == 0)
		snprintf(c->source, sizeof(c->source), "stdin");
	else
		snprintf(c->source, sizeof(c->source), "file:%s",
		    realpath(path, real) != NULL ? real : path);
	return CTL_EXIT_OK;
}

static const struct ctl_col report_cols[] = {
	{ "source", CTL_COL_STR, true, 0 },
	{ "lines", CTL_COL_NUM, true, 0 },
	{ "records", CTL_COL_NUM, true, 0 },
	{ "ignored", CTL_COL_NUM, true, 0 },
	{ "malformed", CTL_COL_NUM, true, 0 },
	{ "deliveries", CTL_COL_NUM, true, 0 },
	{ "bounces", CTL_COL_NUM, true, 0 },
	{ "sender_side", CTL_COL_NUM, true, 0 },
	{ "new_events", CTL_COL_NUM, true, 0 },
	{ "duplicates", CTL_COL_NUM, true, 0 },
	{ "seconds", CTL_COL_MILLI, true, 0 },
	{ "lines_per_second", CTL_COL_NUM, true, 0 },
	/* "sent" to a next hop of ours (HandOffRelays): not deliveries */
	{ "handoffs", CTL_COL_NUM, true, 0 },
};
#define NREPORT	(sizeof(report_cols) / sizeof(report_cols[0]))

/* The counters of a run (ms long): a JSON object on stdout, or a line. */
static void
report(const struct ctl_opts *o, FILE *fp, const char *what,
    const struct logctx *c, int64_t ms)
{
	const struct logsource_result	*r = &c->res;
	struct ctl_val			 v[NREPORT];
	double				 secs = (double)ms / 1000.0;
	double				 rate = ms > 0 ? r->lines / secs : 0;

	if (o->json) {
		memset(v, 0, sizeof(v));
		v[0].s = c->source;
		v[1].n = (int64_t)r->lines;
		v[2].n = (int64_t)r->records;
		v[3].n = (int64_t)r->ignored;
		v[4].n = (int64_t)r->malformed;
		v[5].n = (int64_t)r->deliveries;
		v[6].n = (int64_t)r->bounces;
		v[7].n = (int64_t)r->sender_side;
		v[8].n = (int64_t)r->events_new;
		v[9].n = (int64_t)r->duplicates;
		v[10].n = ms;
		v[11].n = (int64_t)(rate + 0.5);
		v[12].n = (int64_t)r->handoffs;
		ctl_out_object(stdout, report_cols, v, NREPORT);
		return;
	}
	fprintf(fp, "%s %s: %" PRIu64 " lines "
	    "(%" PRIu64 " records, %" PRIu64 " ignored, %" PRIu64
	    " malformed and skipped): %" PRIu64 " deliveries, %" PRIu64
	    " hand-offs, %" PRIu64
	    " bounces (%" PRIu64 " sender-side), %" PRIu64 " new events, %"
	    PRIu64 " already known; %.2f s, %.0f lines/s\n", what, c->source,
	    r->lines, r->records, r->ignored, r->malformed, r->deliveries,
	    r->handoffs, r->bounces, r->sender_side, r->events_new, r->duplicates, secs,
	    rate);
}

/* Let other writers (bounced) take the write lock between two batches. */
static void
batch_gap(void)
{
	const struct timespec	 gap = { 0, BATCH_GAP_MS * 1000000L };

	(void)nanosleep(&gap, NULL);
}

/* Commit the open batch with the position after its last line. */
static enum bd_status
commit_batch(struct logctx *c, struct follow *f, bool keep_pos)
{
	struct follow_pos	 pos;
	struct store_cursor	 cur;
	enum bd_status		 st = BD_OK;

	if (keep_pos) {
		follow_position(f, &pos);
		cur.dev = pos.dev;
		cur.ino = pos.ino;
		cur.off = pos.off;
		cur.updated = 0;
		st = store_cursor_set(c->s, c->source, &cur,
		    (int64_t)time(NULL));
	}
	if (st != BD_OK) {
		store_batch_end(c->s, false);
		return st;
	}
	return store_batch_end(c->s, true);
}

/* The progress line of ingest-log (a terminal only). */
static void
ingest_progress(struct logctx *c, struct follow *f, struct ctl_gz *gz)
{
	struct follow_pos	 pos;
	struct stat		 sb;
	int			 pm = -1;

	if (!c->prog.on)
		return;
	if (gz != NULL)
		pm = ctl_gz_progress(gz);
	else if (!c->stream && stat(c->path, &sb) == 0 && sb.st_size > 0) {
		follow_position(f, &pos);
		pm = (int)(pos.off * 1000 / (uint64_t)sb.st_size);
	}
	if (pm > 1000)
		pm = 1000;
	if (pm >= 0)
		ctl_progress_show(&c->prog, false, "ingest-log %s: %" PRIu64
		    " lines, %" PRIu64 " records, %d%%", c->path,
		    c->res.lines, c->res.records, pm / 10);
	else
		ctl_progress_show(&c->prog, false, "ingest-log %s: %" PRIu64
		    " lines, %" PRIu64 " records", c->path, c->res.lines,
		    c->res.records);
}

/* Where to start: the stored position unless told otherwise. */
static bool
start_pos(struct logctx *c, bool from_start, struct follow_pos *pos)
{
	struct store_cursor	 cur;

	memset(pos, 0, sizeof(*pos));
	if (from_start || c->stream)
		return false;
	if (store_cursor_get(c->s, c->source, &cur) != BD_OK)
		return false;
	pos->dev = cur.dev;
	pos->ino = cur.ino;
	pos->off = cur.off;
	return true;
}

/*
 * The end of ingest-log and follow-log: the failure if any (the batches
 * committed so far are kept, with their position), the counters on
 * stdout, and everything closed.  Returns the exit status.
 */
static int
log_finish(const struct ctl_opts *o, struct logctx *c, struct follow *f,
    enum bd_status st, enum follow_result fr, const char *cmd,
    const char *what, int64_t t0)
{
	int	 rc = CTL_EXIT_ERROR;

	if (st != BD_OK)
		fprintf(stderr, "bouncectl: %s: %s (lines up to the last batch "
		    "are kept)\n", cmd, store_errmsg(c->s));
	else if (fr == FOLLOW_ERROR)
		fprintf(stderr, "bouncectl: %s: %s\n", c->path,
		    strerror(follow_errno(f)));
	else
		rc = CTL_EXIT_OK;
	report(o, stdout, what, c, mono_ms() - t0);
	follow_close(f);
	logctx_free(c);
	return rc;
}

/*
 * ctl_ingest_log - bouncectl ingest-log [--from-start] FILE|-: import a
 * log once, from the position a previous run kept (--from-start: from
 * the top; recording is idempotent, so nothing counts twice either way)
 *
 * Returns 0 (malformed lines are counted and skipped), or 2 when the
 * file cannot be read or the database fails (the batches committed so
 * far are kept, with their position).
 */
int
ctl_ingest_log(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "from-start",	no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct follow_opts	 fo;
	struct follow_pos	 pos;
	struct follow		*f = NULL;
	struct logctx		 c;
	struct ctl_gz		*gz = NULL;
	const char		*line, *path, *z;
	enum follow_result	 fr;
	enum bd_status		 st = BD_OK;
	size_t			 len, inbatch = 0;
	int64_t			 t0, batch_t = 0;
	int			 ch, rc;
	bool			 cut, from_start = false, resumed, zero;

	while ((ch = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		if (ch != 's')
			goto usage;
		from_start = true;
	}
	if (optind != argc - 1)
		goto usage;
	path = argv[optind];
	if ((z = ctl_compression(path)) != NULL && strcmp(z, "gzip") != 0) {
		fprintf(stderr, "bouncectl: %s is %s-compressed: decompress it "
		    "into standard input (%s %s | bouncectl ingest-log -)\n",
		    path, z, strcmp(z, "bzip2") == 0 ? "bzcat" :
		    strcmp(z, "xz") == 0 ? "xzcat" : "zstdcat", path);
		return CTL_EXIT_ERROR;
	}
	if (logctx_open(o, path, &c) != CTL_EXIT_OK)
		return CTL_EXIT_ERROR;
	/* a rotated .gz is read once, whole: no position is kept for it */
	if (z != NULL) {
		if ((gz = ctl_gz_open(path)) == NULL) {
			logctx_free(&c);
			return CTL_EXIT_ERROR;
		}
		c.stream = true;
	}
	resumed = start_pos(&c, from_start, &pos);
	memset(&fo, 0, sizeof(fo));
	fo.flags = FOLLOW_ONCE;
	if (follow_open(c.stream ? NULL : path, resumed ? &pos : NULL, &fo,
	    &f) != BD_OK) {
		fprintf(stderr, "bouncectl: %s: %s\n", path,
		    strerror(f != NULL ? follow_errno(f) : errno));
		follow_close(f);
		(void)ctl_gz_close(gz);
		logctx_free(&c);
		return CTL_EXIT_ERROR;
	}
	ctl_progress_init(&c.prog);
	t0 = mono_ms();
	for (;;) {
		fr = follow_next(f, -1, &line, &len, &cut);
		if (fr != FOLLOW_LINE)
			break;
		if (inbatch == 0) {
			if ((st = store_batch_begin(c.s)) != BD_OK)
				break;
			batch_t = mono_ms();
		}
		if ((st = logsource_feed(c.ls, line, len, (int64_t)time(NULL),
		    c.s, &c.pol, &c.res)) != BD_OK) {
			store_batch_end(c.s, false);
			inbatch = 0;
			break;
		}
		if ((c.res.lines & 255) == 0)
			ingest_progress(&c, f, gz);
		/* short batches: bounced's milter waits for the write lock */
		if (++inbatch == BATCH_LINES || ((inbatch & 255) == 0 &&
		    mono_ms() - batch_t >= BATCH_MS)) {
			inbatch = 0;
			if ((st = commit_batch(&c, f, !c.stream)) != BD_OK)
				break;
			batch_gap();
		}
	}
	if (st == BD_OK && inbatch > 0)
		st = commit_batch(&c, f, !c.stream);
	ctl_progress_done(&c.prog);
	if ((z = ctl_gz_close(gz)) != NULL)
		fprintf(stderr, "bouncectl: %s: %s (the lines before it are "
		    "kept)\n", path, z);
	/* never a silent zero: lines read, none of them a log record */
	zero = st == BD_OK && fr != FOLLOW_ERROR && z == NULL &&
	    c.res.lines > 0 && c.res.records == 0;
	if (zero)
		fprintf(stderr, "bouncectl: %s: none of its %" PRIu64 " lines "
		    "is a delivery record of Postfix or Sendmail: is it a "
		    "mail log?\n", path, c.res.lines);
	rc = log_finish(o, &c, f, st, fr, argv[0],
	    resumed ? "ingested (resumed)" : "ingested", t0);
	if (rc == CTL_EXIT_OK && z != NULL)
		rc = CTL_EXIT_ERROR;
	else if (rc == CTL_EXIT_OK && zero)
		rc = CTL_EXIT_SUPPRESSED;	/* 1: needs attention */
	return rc;
usage:
	fprintf(stderr, "usage: bouncectl ingest-log [--from-start] FILE|-\n");
	return CTL_EXIT_ERROR;
}

/* follow-log's words for a domain over --spike-rate (stderr). */
static void
warn_spike(void *arg, const struct spike *sp)
{
	char	 san[LOG_SANITIZE_BUF], sand[LOG_SANITIZE_BUF];

	(void)arg;
	fprintf(stderr, "bouncectl: warning: sender-side spike: %" PRId64
	    " failures at %s in the last hour (threshold %u/h): %s\n",
	    sp->total, log_sanitize(sp->domain, san, sizeof(san)), sp->rate,
	    log_sanitize(sp->detail, sand, sizeof(sand)));
}

/*
 * The follow-log loop: batches of lines, each committed with its
 * position; a spike check each SPIKE_CHECK_EVERY seconds (verdict/spike.c, the
 * rule bounced's SenderSideAlertRate uses: one warning per domain per
 * hour), counters every ten minutes.  Returns at a signal, the end of
 * input or a failure (*fr says which).
 */
static enum bd_status
follow_loop(const struct ctl_opts *o, struct logctx *c, struct follow *f,
    bool keep, unsigned rate, struct spike_watch *m, enum follow_result *fr)
{
	const char		*line;
	enum bd_status		 st = BD_OK;
	size_t			 len, inbatch = 0;
	int64_t			 t0, batch_t = 0, now;
	int64_t			 last_report;
	bool			 cut;

	t0 = last_report = mono_ms();
	*fr = FOLLOW_TIMEOUT;
	while (!stop_sig) {
		*fr = follow_next(f, 500, &line, &len, &cut);
		if (*fr == FOLLOW_LINE) {
			if (inbatch == 0) {
				if ((st = store_batch_begin(c->s)) != BD_OK)
					return st;
				batch_t = mono_ms();
			}
			inbatch++;
			if ((st = logsource_feed(c->ls, line, len,
			    (int64_t)time(NULL), c->s, &c->pol, &c->res)) !=
			    BD_OK) {
				store_batch_end(c->s, false);
				return st;
			}
		}
		if (inbatch > 0 && (*fr != FOLLOW_LINE ||
		    inbatch >= BATCH_LINES || mono_ms() - batch_t >= BATCH_MS)) {
			inbatch = 0;
			if ((st = commit_batch(c, f, keep)) != BD_OK)
				return st;
			if (*fr == FOLLOW_LINE)
				batch_gap();
		}
		if (*fr == FOLLOW_EOF || *fr == FOLLOW_ERROR)
			break;
		now = (int64_t)time(NULL);
		if (inbatch == 0 && spike_due(m, now, SPIKE_CHECK_EVERY) &&
		    (st = spike_scan(m, c->s, now, rate, warn_spike, NULL,
		    NULL)) != BD_OK)
			return st;
		if (mono_ms() - last_report >= REPORT_EVERY * 1000) {
			last_report = mono_ms();
			report(o, stderr, "so far", c, last_report - t0);
		}
	}
	return inbatch > 0 ? commit_batch(c, f, keep) : BD_OK;
}

/*
 * ctl_follow_log - bouncectl follow-log [--from-end] [--spike-rate N]
 * FILE|-: follow the log until SIGINT/SIGTERM (or the end of standard
 * input), from the position kept by the last run; with no position, from
 * the top of the current file (--from-end: from its end).  The last
 * hour's sender-side failures per destination domain (its reasons
 * summed) are checked each minute (SPIKE_CHECK_EVERY) and a domain that
 * reaches N (default 50) is named in one warning, at most once an hour
 * (spike_scan(), as bounced's SenderSideAlertRate).
 *
 * Returns 0 on a signal or the end of input; 2 when the database fails
 * (the last batch is not kept; a restart resumes before it).
 */
int
ctl_follow_log(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "from-end",	no_argument,		NULL, 'e' },
		{ "spike-rate",	required_argument,	NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct sigaction	 sact;
	struct follow_opts	 fo;
	struct follow_pos	 pos;
	struct follow		*f = NULL;
	struct logctx		 c;
	const char		*path;
	enum follow_result	 fr = FOLLOW_TIMEOUT;
	struct spike_watch	*m = NULL;
	enum bd_status		 st;
	int64_t			 t0;
	long long		 rate = SPIKE_DEFAULT;
	char			*end, fbtypes[STATE_FB_TEXT_MAX];
	int			 ch;
	bool			 from_end = false, resumed, keep;

	while ((ch = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (ch) {
		case 'e':
			from_end = true;
			break;
		case 'r':
			errno = 0;
			rate = strtoll(optarg, &end, 10);
			/* at most 100000000: it fits an unsigned */
			if (errno != 0 || *end != '\0' || rate < 1 ||
			    rate > 100000000) {
				fprintf(stderr, "bouncectl: --spike-rate: not "
				    "a count per hour: \"%s\"\n", optarg);
				return CTL_EXIT_ERROR;
			}
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1)
		goto usage;
	path = argv[optind];
	if (spike_watch_new(&m) != BD_OK) {
		fprintf(stderr, "bouncectl: out of memory\n");
		return CTL_EXIT_ERROR;
	}
	if (logctx_open(o, path, &c) != CTL_EXIT_OK) {
		spike_watch_free(m);
		return CTL_EXIT_ERROR;
	}
	keep = strcmp(c.source, "stdin") != 0;
	resumed = start_pos(&c, false, &pos);
	memset(&fo, 0, sizeof(fo));
	fo.flags = from_end ? FOLLOW_FROM_END : 0;
	if (follow_open(keep ? path : NULL, resumed ? &pos : NULL, &fo, &f) !=
	    BD_OK) {
		fprintf(stderr, "bouncectl: %s: cannot follow\n", path);
		logctx_free(&c);
		spike_watch_free(m);
		return CTL_EXIT_ERROR;
	}
	memset(&sact, 0, sizeof(sact));
	sact.sa_handler = on_signal;
	sigemptyset(&sact.sa_mask);
	sigaction(SIGINT, &sact, NULL);
	sigaction(SIGTERM, &sact, NULL);
	state_complaint_format(c.pol.complaint_types, fbtypes,
	    sizeof(fbtypes));
	fprintf(stderr, "bouncectl: following %s%s (soft limit %u in %"
	    PRId64 " days, complaints suppress: %s, sender-side spike "
	    "%lld/h per domain)\n", c.source,
	    resumed ? ", resuming at the kept position" : "",
	    c.pol.soft_limit, c.pol.soft_window / 86400,
	    fbtypes[0] != '\0' ? fbtypes : "none", rate);
	t0 = mono_ms();
	st = follow_loop(o, &c, f, keep, (unsigned)rate, m, &fr);
	spike_watch_free(m);
	return log_finish(o, &c, f, st, fr, argv[0],
	    stop_sig ? "stopped" : "finished", t0);
usage:
	fprintf(stderr, "usage: bouncectl follow-log [--from-end] "
	    "[--spike-rate N] FILE|-\n");
	return CTL_EXIT_ERROR;
}
