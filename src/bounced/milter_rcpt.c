/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * milter_rcpt.c - SuppressedRecipients at RCPT TO, for the libmilter
 * glue: ask rcache.c whether a recipient of ordinary mail is suppressed,
 * then refuse it with RejectReply (smfi_setreply(3); RFC 5321 section
 * 4.2, RFC 3463 enhanced code) or note it for X-Bounce-Suppressed.
 *
 * It never fails the mail: a lookup that cannot be answered is "not
 * suppressed", and the incident is logged once when it starts and once
 * when it ends (rcache.c keeps that state).  It never sees a bounce:
 * mlfi_envrcpt only calls it for ordinary mail, and decide() checks again.
 * Ordinary mail is not logged at INFO (bounced(8), LOGGING): what was
 * refused is said at DEBUG; the MTA logs the refusal itself.
 *
 * It must not: keep the SMFICTX it is given, or block longer than one
 * store_lookup() on the read-only handle (its busy timeout bounds it).
 */
#include <stdio.h>
#include <string.h>

#include "log/log.h"
#include "bounced/metrics.h"
#include "bounced/milter_int.h"

/* Is rcpt suppressed?  reason gets why; never fails the mail. */
static enum rcache_answer
lookup(const struct msg_ctx *mc, const char *rcpt, char *reason,
    size_t reasonlen)
{
	struct milter_handles	 h;
	enum rcache_answer	 a;
	enum rcache_incident	 inc;
	enum bd_status		 err;
	char			 msg[256], san[LOG_SANITIZE_BUF];

	milter_shared(&h);
	if (h.rcache == NULL)
		return RCACHE_FAILED;
	a = rcache_lookup_msg(h.rcache, h.lookup, rcpt, milter_now(), reason,
	    reasonlen, &inc, &err, msg, sizeof(msg));
	if (inc == RCACHE_STARTED)
		log_warn("%s: recipient lookup failed (%s: %s): not enforcing "
		    "SuppressedRecipients until the database answers again",
		    milter_qid(mc), bd_strerror(err), msg[0] != '\0' ?
		    log_sanitize(msg, san, sizeof(san)) : "no detail");
	else if (inc == RCACHE_RECOVERED)
		log_info("%s: recipient lookups work again", milter_qid(mc));
	return a;
}

/*
 * "550 5.1.1 text" into code, xcode ("" if none) and text; RejectReply
 * was checked at load (conf.c), so the code is three digits and a
 * space.
 */
static void
split_reply(const char *reply, char *code, char *xcode, const char **text)
{
	memcpy(code, reply, 3);
	code[3] = '\0';
	reply += 4;
	xcode[0] = '\0';
	if (reply[0] == code[0] && reply[1] == '.') {
		size_t n = strcspn(reply, " ");

		if (n < 16) {
			memcpy(xcode, reply, n);
			xcode[n] = '\0';
			reply += n + 1;
		}
	}
	*text = reply;
}

/*
 * milter_rcpt_check - SuppressedRecipients for one recipient
 *
 * Arguments: ctx, of mlfi_envrcpt; cc; mc, an ordinary message; rcpt,
 * the address as the MTA gave it.
 *
 * Returns OUT_MORE (not suppressed, or the lookup failed) or
 * OUT_RCPT_SUPPRESSED, with the reply set (reject) or the address added
 * to mc->tag (tag), normalised by addr_normalize() ("<Bob@X.test>"
 * becomes "Bob@x.test").
 */
enum outcome
milter_rcpt_check(SMFICTX *ctx, struct conn_ctx *cc, struct msg_ctx *mc,
    const char *rcpt)
{
	const struct bd_config	*c = cc->conf;
	char			 reason[32], code[4], xcode[16];
	char			 addr[ADDR_MAX + 1], san[LOG_SANITIZE_BUF];
	const char		*text;
	enum rcache_answer	 a;
	int64_t			 t0;

	if (mc->bounce || c->suppressed_rcpt == RCPT_OFF)
		return OUT_MORE;
	t0 = metrics_now_us();
	a = lookup(mc, rcpt, reason, sizeof(reason));
	metrics_rcpt(a == RCACHE_ACTIVE ? METRICS_RCPT_ACTIVE :
	    a == RCACHE_FAILED ? METRICS_RCPT_UNKNOWN :
	    c->suppressed_rcpt == RCPT_REJECT ? METRICS_RCPT_REJECTED :
	    METRICS_RCPT_TAGGED, metrics_now_us() - t0);
	if (a != RCACHE_SUPPRESSED)
		return OUT_MORE;
	/*
	 * The MTA's RCPT argument keeps its angle brackets (RFC 5321
	 * section 4.1.2 Forward-path): log and tag the address as stored.
	 */
	if (!addr_normalize(rcpt, addr, sizeof(addr)))
		(void)snprintf(addr, sizeof(addr), "%s", rcpt);
	(void)log_sanitize(addr, san, sizeof(san));
	log_debug("%s: suppressed rcpt=<%s> reason=%s action=%s",
	    milter_qid(mc), san, reason,
	    c->suppressed_rcpt == RCPT_REJECT ? "reject" : "tag");
	if (c->suppressed_rcpt == RCPT_REJECT) {
		split_reply(c->reject_reply, code, xcode, &text);
		(void)smfi_setreply(ctx, code, xcode[0] ? xcode : NULL,
		    (char *)text);
	} else if (buf_printf(&mc->tag, "%s%s", mc->tag.len ? ", " : "",
	    san) != BD_OK)
		log_debug("%s: X-Bounce-Suppressed is full", milter_qid(mc));
	return OUT_RCPT_SUPPRESSED;
}

/*
 * milter_rcpt_forget - forget cached answers about these recipients
 *
 * Arguments: evs and n, events just recorded: their state may have
 * changed, and RCPT TO must not go on using the old answer.
 */
void
milter_rcpt_forget(const struct bd_event *evs, size_t n)
{
	struct milter_handles	 h;
	size_t			 i;

	milter_shared(&h);
	for (i = 0; h.rcache != NULL && i < n; i++)
		rcache_forget(h.rcache, evs[i].recipient);
}
