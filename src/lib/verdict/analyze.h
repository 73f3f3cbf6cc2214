/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * analyze.h - the core pipeline: message bytes -> parsed report ->
 * a verdict per recipient -> events.  The milter and bouncectl classify
 * both go through here, so they can never disagree.  Pure.
 */
#ifndef BD_ANALYZE_H
#define BD_ANALYZE_H

#include "util/bd.h"
#include "verdict/classify.h"
#include "parse/dsn.h"
#include "util/event.h"
#include "verdict/rules.h"

struct analysis {
	struct dsn_report	*report;
	struct verdict		*verdicts;	/* report->nrcpts entries */
	char			**recipients;	/* normalised, "" when not an address */
};

/* analyze_message - parse and classify; free *out with analysis_free() */
enum bd_status analyze_message(const struct rules *rules, const char *msg,
    size_t len, const struct dsn_options *opt, struct analysis **out);
/* analysis_free - NULL is fine */
void analysis_free(struct analysis *a);
/*
 * analysis_event - fill ev (borrowing from a) for recipient i; now is used
 * when the report carries no date of its own.
 */
void analysis_event(const struct analysis *a, size_t i, enum ev_source src,
    int64_t now, struct bd_event *ev);

#endif
