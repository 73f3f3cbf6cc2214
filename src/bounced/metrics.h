/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics.h - bounced's metrics for Prometheus (metrics.c): counters
 * bumped by the milter, written with the database's into MetricsFile
 * for node_exporter's textfile collector.
 */
#ifndef BD_METRICS_H
#define BD_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct bd_config;

/* The outcomes of metrics_bounce() (milter_bounce.c's enum outcome). */
#define METRICS_RECORDED	0
#define METRICS_PASS		1
#define METRICS_UNRECORDED	2

/* The answers of metrics_rcpt(). */
#define METRICS_RCPT_ACTIVE	0	/* not suppressed: let through */
#define METRICS_RCPT_REJECTED	1	/* suppressed, SuppressedRecipients reject */
#define METRICS_RCPT_TAGGED	2	/* suppressed, SuppressedRecipients tag */
#define METRICS_RCPT_UNKNOWN	3	/* the lookup failed: let through */

/* metrics_now_us - a monotonic clock, microseconds */
int64_t metrics_now_us(void);
/* metrics_bounce - count one bounce: outcome, error (NULL or a word), sizes, time */
void metrics_bounce(int outcome, const char *error, size_t rcpts,
    size_t events_new, size_t untrusted, int64_t us);
/* metrics_ordinary - count one ordinary message answered */
void metrics_ordinary(void);
/* metrics_rcpt - count one RCPT TO lookup: answer (METRICS_RCPT_*), time */
void metrics_rcpt(int answer, int64_t us);
/* metrics_write_process - the process counters, Prometheus text format */
void metrics_write_process(FILE *fp);
/* metrics_start - the start time; the MetricsFile writer thread if set */
void metrics_start(const struct bd_config *c);

#endif
