/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * analyze.c - the core pipeline shared by the milter and bouncectl:
 * parse a message, classify every reported recipient, and present each
 * one as an event.  Pure: no I/O, no logging, no clock (the caller
 * passes "now").
 */
#include <stdlib.h>
#include <string.h>

#include "verdict/analyze.h"

/*
 * analyze_message - parse msg and classify each recipient under rules
 *
 * Returns BD_OK with *out set (out->report->nrcpts may be 0 when the
 * message is not a bounce), or BD_ENOMEM.  Free with analysis_free().
 */
enum bd_status
analyze_message(const struct rules *rules, const char *msg, size_t len,
    const struct dsn_options *opt, struct analysis **out)
{
	struct analysis		*a;
	struct dsn_report	*r;
	struct classify_input	 in;
	enum bd_status		 st;
	char			 addr[ADDR_MAX + 1];
	size_t			 i;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return BD_ENOMEM;
	if ((st = dsn_parse(msg, len, opt, &a->report)) != BD_OK) {
		free(a);
		return st;
	}
	r = a->report;
	if (r->nrcpts > 0) {
		a->verdicts = calloc(r->nrcpts, sizeof(*a->verdicts));
		a->recipients = calloc(r->nrcpts, sizeof(*a->recipients));
		if (a->verdicts == NULL || a->recipients == NULL) {
			analysis_free(a);
			return BD_ENOMEM;
		}
	}
	for (i = 0; i < r->nrcpts; i++) {
		const struct dsn_rcpt *rc = &r->rcpts[i];

		memset(&in, 0, sizeof(in));
		in.status = rc->status;
		in.reply_code = rc->reply_code;
		in.diagnostic = rc->diagnostic;
		in.action = rc->action;
		in.kind = r->kind;
		in.mta = r->mta;
		in.feedback_type = r->feedback_type;
		in.smtp_command = rc->smtp_command;
		in.diagnostic_type = rc->diagnostic_type;
		in.remote_mta = rc->remote_mta;
		in.status_comment = rc->status_comment;
		classify(rules, &in, &a->verdicts[i]);
		if (!addr_normalize(rc->final_recipient, addr, sizeof(addr)))
			addr[0] = '\0';
		if ((a->recipients[i] = strdup(addr)) == NULL) {
			analysis_free(a);
			return BD_ENOMEM;
		}
	}
	*out = a;
	return BD_OK;
}

void
analysis_free(struct analysis *a)
{
	size_t	 i;

	if (a == NULL)
		return;
	if (a->recipients && a->report)
		for (i = 0; i < a->report->nrcpts; i++)
			free(a->recipients[i]);
	free(a->recipients);
	free(a->verdicts);
	dsn_report_free(a->report);
	free(a);
}

/*
 * analysis_event - present recipient i of a as an event
 *
 * The event borrows every string from a; it is valid until
 * analysis_free(a).  The event's time is when the failure was
 * reported: the recipient's Last-Attempt-Date, else the bounce's own
 * Date, else the report's Arrival-Date (the original message's arrival:
 * Postfix's DSNs carry no Last-Attempt-Date, and an expiry would be
 * dated days early), else now; a feedback report (RFC 5965) is dated
 * by the Arrival-Date of the message complained of.  The store bounds
 * it (store_record()).
 */
void
analysis_event(const struct analysis *a, size_t i, enum ev_source src,
    int64_t now, struct bd_event *ev)
{
	struct dsn_report	*r = a->report;	/* its dates read here */
	struct dsn_rcpt		*rc = &r->rcpts[i];
	int64_t			 t;

	memset(ev, 0, sizeof(*ev));
	/* Each date is read only when the one before it is missing. */
	if (r->feedback_type != NULL && r->feedback_type[0] != '\0')
		ev->when = (t = dsn_date_get(&r->arrival_date)) != 0 ? t :
		    (t = dsn_date_get(&r->date)) != 0 ? t : now;
	else
		ev->when = (t = dsn_date_get(&rc->last_attempt)) != 0 ? t :
		    (t = dsn_date_get(&r->date)) != 0 ? t :
		    (t = dsn_date_get(&r->arrival_date)) != 0 ? t : now;
	ev->recipient = a->recipients[i];
	ev->original_recipient = rc->original_recipient;
	ev->action = rc->action;
	ev->status = a->verdicts[i].status[0] ? a->verdicts[i].status :
	    rc->status;
	ev->reply_code = rc->reply_code;
	ev->diagnostic = rc->diagnostic;
	ev->remote_mta = rc->remote_mta;
	ev->reporting_mta = r->reporting_mta;
	ev->queue_id = r->queue_id;
	ev->message_id = r->orig_message_id;
	ev->envelope_id = r->envelope_id;
	ev->sender = r->sender;
	ev->campaign = r->campaign;
	ev->mail_kind = r->mail_kind;
	ev->feedback_type = r->feedback_type;
	ev->verdict = a->verdicts[i];
	ev->source = src;
	ev->trusted = (src == EV_SRC_DSN_INTERNAL);
}
