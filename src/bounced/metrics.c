/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * metrics.c - bounced's metrics for Prometheus: the process counters
 * only bounced knows (bounces by outcome, our failures by kind, the time
 * a bounce takes at end of message, untrusted reports), followed by what
 * the database says (store_metrics(), the same that bouncectl metrics
 * prints), written every METRICS_PERIOD seconds into MetricsFile for
 * node_exporter's textfile collector.
 *
 * A file rather than a port: a milter that parses hostile mail should
 * not also listen for HTTP (a socket to bind, authenticate and sandbox);
 * node_exporter already runs on most hosts that Prometheus watches, and
 * the file survives a restart of bounced.  The cost is freshness (at
 * most METRICS_PERIOD seconds old).  The file is written beside its name
 * and renamed, so a reader never sees half of it.
 *
 * The counters are atomics bumped once per bounce by the milter's
 * threads; the writer is a thread of its own with its own read-only
 * database handle, so writing never delays mail.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "bounced/metrics.h"
#include "log/log.h"
#include "store/store.h"

#define METRICS_PERIOD	30	/* seconds between two writes */
#define METRICS_BUSY_MS	200	/* the writer waits no longer for a lock */

/* The upper bounds of the bounce time histogram, in microseconds. */
static const int64_t	 bucket_us[] = {
	1000, 5000, 10000, 50000, 100000, 500000, 1000000, 5000000,
};
#define NBUCKET	(sizeof(bucket_us) / sizeof(bucket_us[0]))

static const char *const outcome_name[] = { "recorded", "pass",
    "unrecorded" };
static const char *const error_name[] = { "busy", "nomem", "limit",
    "parse", "store" };
#define NOUTCOME	(sizeof(outcome_name) / sizeof(outcome_name[0]))
#define NERROR		(sizeof(error_name) / sizeof(error_name[0]))

/* RCPT TO of ordinary mail under SuppressedRecipients (metrics_rcpt()). */
static const char *const rcpt_name[] = { "active", "rejected", "tagged",
    "unknown" };
#define NRCPT		(sizeof(rcpt_name) / sizeof(rcpt_name[0]))
/* The upper bounds of the lookup time histogram, in microseconds: a
 * cached answer takes about one, a database read tens. */
static const int64_t	 lookup_us[] = {
	10, 100, 1000, 10000, 100000, 1000000,
};
#define NLOOKUP	(sizeof(lookup_us) / sizeof(lookup_us[0]))

static struct {
	uint64_t	 outcome[NOUTCOME];
	uint64_t	 error[NERROR];
	uint64_t	 rcpts, events_new, untrusted;
	uint64_t	 bucket[NBUCKET + 1];	/* the last: +Inf */
	uint64_t	 sum_us;
	uint64_t	 ordinary;
	uint64_t	 rcpt[NRCPT];
	uint64_t	 lookup[NLOOKUP + 1];	/* the last: +Inf */
	uint64_t	 lookup_sum_us;
	int64_t		 started;
} m;

static char	*metrics_path;

static void
bump(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

static uint64_t
get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* metrics_now_us - a monotonic clock for the bounce time, microseconds */
int64_t
metrics_now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * metrics_bounce - count one bounce at its end of message
 *
 * Arguments: outcome, 0 recorded, 1 passed (nothing to record), 2 not
 * recorded by our failure; error, NULL or one of busy, nomem, limit,
 * parse, store; rcpts, its recipients; events_new, the events that were
 * new; untrusted, the events not tied to mail this relay sent; us, the
 * time it took.
 */
void
metrics_bounce(int outcome, const char *error, size_t rcpts,
    size_t events_new, size_t untrusted, int64_t us)
{
	size_t	 i;

	if (outcome >= 0 && (size_t)outcome < NOUTCOME)
		bump(&m.outcome[outcome], 1);
	for (i = 0; error != NULL && i < NERROR; i++)
		if (strcmp(error, error_name[i]) == 0)
			bump(&m.error[i], 1);
	bump(&m.rcpts, rcpts);
	bump(&m.events_new, events_new);
	bump(&m.untrusted, untrusted);
	for (i = 0; i < NBUCKET && us > bucket_us[i]; i++)
		;
	bump(&m.bucket[i], 1);
	bump(&m.sum_us, us > 0 ? (uint64_t)us : 0);
}

/* metrics_ordinary - count one ordinary message (not a bounce) answered */
void
metrics_ordinary(void)
{
	bump(&m.ordinary, 1);
}

/*
 * metrics_rcpt - count one recipient of ordinary mail looked up for
 * SuppressedRecipients
 *
 * Arguments: answer, METRICS_RCPT_*; us, the time the lookup took.
 */
void
metrics_rcpt(int answer, int64_t us)
{
	size_t	 i;

	if (answer >= 0 && (size_t)answer < NRCPT)
		bump(&m.rcpt[answer], 1);
	for (i = 0; i < NLOOKUP && us > lookup_us[i]; i++)
		;
	bump(&m.lookup[i], 1);
	bump(&m.lookup_sum_us, us > 0 ? (uint64_t)us : 0);
}

/* One histogram, its buckets cumulative as the format wants. */
static void
histogram(FILE *fp, const char *name, const int64_t *le, size_t nle,
    const uint64_t *bucket, uint64_t sum_us)
{
	uint64_t	 cum = 0;
	size_t		 i;

	for (i = 0; i <= nle; i++) {
		cum += get(&bucket[i]);
		if (i < nle)
			fprintf(fp, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name,
			    (double)le[i] / 1e6, cum);
	}
	fprintf(fp, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n%s_sum %.6f\n"
	    "%s_count %" PRIu64 "\n", name, cum, name, (double)sum_us / 1e6,
	    name, cum);
}

/*
 * metrics_write_process - the process counters in the Prometheus text
 * format (the histogram's buckets cumulative, as the format wants)
 */
void
metrics_write_process(FILE *fp)
{
	size_t		 i;

	fputs("# HELP bounced_bounces_total Bounces seen at end of message, "
	    "by outcome (recorded; pass: nothing to record; unrecorded: our "
	    "failure, OnError applied).\n# TYPE bounced_bounces_total "
	    "counter\n", fp);
	for (i = 0; i < NOUTCOME; i++)
		fprintf(fp, "bounced_bounces_total{outcome=\"%s\"} %" PRIu64
		    "\n", outcome_name[i], get(&m.outcome[i]));
	fputs("# HELP bounced_bounce_errors_total Bounces not analysed or "
	    "not recorded, by cause (busy, nomem, limit, parse, store: the "
	    "database).\n# TYPE bounced_bounce_errors_total counter\n", fp);
	for (i = 0; i < NERROR; i++)
		fprintf(fp, "bounced_bounce_errors_total{error=\"%s\"} %"
		    PRIu64 "\n", error_name[i], get(&m.error[i]));
	fprintf(fp, "# HELP bounced_bounce_recipients_total Recipients "
	    "reported by the bounces.\n# TYPE bounced_bounce_recipients_total "
	    "counter\nbounced_bounce_recipients_total %" PRIu64 "\n",
	    get(&m.rcpts));
	fprintf(fp, "# HELP bounced_events_recorded_total Events the bounces "
	    "added to the database (new ones only).\n# TYPE "
	    "bounced_events_recorded_total counter\n"
	    "bounced_events_recorded_total %" PRIu64 "\n", get(&m.events_new));
	fprintf(fp, "# HELP bounced_untrusted_reports_total Recipients of "
	    "bounces not tied to mail this relay sent (recorded, not acted "
	    "on).\n# TYPE bounced_untrusted_reports_total counter\n"
	    "bounced_untrusted_reports_total %" PRIu64 "\n",
	    get(&m.untrusted));
	fputs("# HELP bounced_bounce_seconds Time from end of message to the "
	    "milter's answer for a bounce (parse, classify, record).\n"
	    "# TYPE bounced_bounce_seconds histogram\n", fp);
	histogram(fp, "bounced_bounce_seconds", bucket_us, NBUCKET, m.bucket,
	    get(&m.sum_us));
	fprintf(fp, "# HELP bounced_ordinary_messages_total Ordinary messages "
	    "(not bounces) the milter answered; it accepts them all.\n"
	    "# TYPE bounced_ordinary_messages_total counter\n"
	    "bounced_ordinary_messages_total %" PRIu64 "\n",
	    get(&m.ordinary));
	fputs("# HELP bounced_rcpt_lookups_total Recipients of ordinary mail "
	    "looked up at RCPT TO (SuppressedRecipients), by answer (active: "
	    "let through; rejected; tagged; unknown: the database did not "
	    "answer, let through).\n# TYPE bounced_rcpt_lookups_total "
	    "counter\n", fp);
	for (i = 0; i < NRCPT; i++)
		fprintf(fp, "bounced_rcpt_lookups_total{answer=\"%s\"} %"
		    PRIu64 "\n", rcpt_name[i], get(&m.rcpt[i]));
	fputs("# HELP bounced_rcpt_lookup_seconds Time a recipient lookup at "
	    "RCPT TO took (the cache, else the database).\n"
	    "# TYPE bounced_rcpt_lookup_seconds histogram\n", fp);
	histogram(fp, "bounced_rcpt_lookup_seconds", lookup_us, NLOOKUP,
	    m.lookup, get(&m.lookup_sum_us));
	fprintf(fp, "# HELP bounced_start_time_seconds When this bounced "
	    "started.\n# TYPE bounced_start_time_seconds gauge\n"
	    "bounced_start_time_seconds %" PRId64 "\n", m.started);
}

/* Write the file once: process counters, then the database's. */
static void
write_once(const char *db, struct store **s, bool *failing)
{
	char		 tmp[PATH_MAX], err[256];
	FILE		*fp;
	bool		 up = false;

	snprintf(tmp, sizeof(tmp), "%s.tmp", metrics_path);
	if ((fp = fopen(tmp, "w")) == NULL) {
		if (!*failing)
			log_warn("MetricsFile %s: %s", tmp, strerror(errno));
		*failing = true;
		return;
	}
	metrics_write_process(fp);
	if (*s == NULL && store_open(db, STORE_RDONLY, METRICS_BUSY_MS, s,
	    err, sizeof(err)) != BD_OK)
		*s = NULL;
	if (*s != NULL) {
		up = store_metrics(*s, fp, (int64_t)time(NULL)) == BD_OK;
		if (!up) {
			store_close(*s);	/* opened again next time */
			*s = NULL;
		}
	}
	fprintf(fp, "# HELP bounced_database_up Whether the database answered "
	    "the last metrics query.\n# TYPE bounced_database_up gauge\n"
	    "bounced_database_up %d\n", up ? 1 : 0);
	if (fclose(fp) != 0 || rename(tmp, metrics_path) == -1) {
		if (!*failing)
			log_warn("MetricsFile %s: %s", metrics_path,
			    strerror(errno));
		*failing = true;
		(void)unlink(tmp);
		return;
	}
	if (*failing)
		log_info("MetricsFile %s: written again", metrics_path);
	*failing = false;
}

static void *
writer_main(void *arg)
{
	char		*db = arg;
	struct store	*s = NULL;
	bool		 failing = false;

	for (;;) {
		write_once(db, &s, &failing);
		sleep(METRICS_PERIOD);
	}
	return NULL;
}

/*
 * metrics_start - note the start time and, when c->metrics_file is set,
 * start the thread that writes it every METRICS_PERIOD seconds
 *
 * Notes: after the fork of -b (threads do not survive it).  A failure to
 * start is a warning: metrics never stop mail.
 */
void
metrics_start(const struct bd_config *c)
{
	pthread_t	 th;
	char		*db;

	m.started = (int64_t)time(NULL);
	if (c->metrics_file == NULL || c->metrics_file[0] == '\0')
		return;
	if ((metrics_path = strdup(c->metrics_file)) == NULL ||
	    (db = strdup(c->database)) == NULL) {
		log_warn("MetricsFile: out of memory; no metrics");
		return;
	}
	if ((errno = pthread_create(&th, NULL, writer_main, db)) != 0) {
		log_warn("MetricsFile: cannot start its thread: %s",
		    strerror(errno));
		return;
	}
	(void)pthread_detach(th);
	log_info("metrics every %d s in %s", METRICS_PERIOD, metrics_path);
}
