/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * store_send.c - the sends this relay made, as the trust policy needs
 * them (DESIGN.md "Trust", verdict/trust.c): store_record_sends() keeps
 * what the milter saw of outbound mail (queue id, envelope recipients,
 * Message-ID, RFC 3461 ENVID), store_send_match() ties a report to one
 * of them, store_prune_sends() forgets old ones; store_untrusted()
 * counts the reports that were not tied (held: class "untrusted").
 *
 * The rows are those of the MTA log's sends (schema v2, store_record.c):
 * one per original message x recipient, keyed by (queue id, recipient),
 * so a send the milter and the log both see is one row, whoever comes
 * first, and the bounce rates of bouncectl stats count it once.
 *
 * Message-IDs are kept without their angle brackets (RFC 5322 section
 * 3.6.4 msg-id, as the parser returns the original's); the log keeps
 * them with, so a match tries both.  No logging; text is bound, cut.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>


#include "store/store_int.h"

#define MSGID_MAX	STORE_TEXT_MAX

/* "<id@host>" or " id@host " to "id@host" (out has outlen bytes). */
static const char *
msgid_bare(const char *in, char *out, size_t outlen)
{
	const char	*lt, *gt;
	size_t		 n;

	if (in == NULL)
		return NULL;
	if ((lt = strchr(in, '<')) != NULL && (gt = strchr(lt, '>')) != NULL) {
		in = lt + 1;
		n = (size_t)(gt - in);
	} else {
		in += strspn(in, " \t\r\n");
		n = strcspn(in, " \t\r\n");
	}
	if (n == 0 || n >= outlen)
		return NULL;
	memcpy(out, in, n);
	out[n] = '\0';
	return out;
}

/* Both forms of a Message-ID, for a match against either producer. */
static void
msgid_forms(const char *in, char *bare, char *angle, size_t len,
    const char **b, const char **a)
{
	*b = msgid_bare(in, bare, len);
	*a = NULL;
	if (*b != NULL && snprintf(angle, len, "<%s>", *b) < (int)len)
		*a = angle;
}

/* One send; a row the log made first gets what it lacks. */
static enum bd_status
record_send(struct store *s, const struct store_send *v, int64_t when)
{
	struct db_stmt	*st;
	enum bd_status	 r;
	char		 rcpt[ADDR_MAX + 1], mid[MSGID_MAX + 1];
	const char	*m;

	if (v->queue_id == NULL || v->queue_id[0] == '\0' ||
	    v->recipient == NULL ||
	    !addr_normalize(v->recipient, rcpt, sizeof(rcpt)))
		return BD_OK;	/* nothing to tie a report to */
	m = msgid_bare(v->message_id, mid, sizeof(mid));
	if ((r = store_cached(s, "INSERT INTO sends (queue_id, "
	    "recipient, message_id, ts, domain, sender, campaign, "
	    "envelope_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
	    "ON CONFLICT DO NOTHING", &st)) != BD_OK)
		return r;
	store_bind_text(st, 1, v->queue_id, STORE_TEXT_MAX);
	store_bind_text(st, 2, rcpt, ADDR_MAX);
	store_bind_text(st, 3, m, STORE_TEXT_MAX);
	db_bind_int64(st, 4, when);
	store_bind_text(st, 5, store_addr_domain(rcpt), ADDR_MAX);
	store_bind_text(st, 6, v->sender, STORE_TEXT_MAX);
	store_bind_text(st, 7, v->campaign != NULL && v->campaign[0] != '\0' ?
	    v->campaign : NULL, STORE_TEXT_MAX);
	store_bind_text(st, 8, v->envelope_id, STORE_TEXT_MAX);
	if ((r = store_step_done(s, st, "insert send")) != BD_OK)
		return r;
	if (db_changes(s->db) > 0 || (m == NULL &&
	    v->envelope_id == NULL))
		return BD_OK;
	if ((r = store_cached(s, "UPDATE sends SET message_id = "
	    "COALESCE(message_id, ?1), envelope_id = COALESCE(envelope_id, "
	    "?2) WHERE queue_id = ?3 AND recipient = ?4", &st)) != BD_OK)
		return r;
	store_bind_text(st, 1, m, STORE_TEXT_MAX);
	store_bind_text(st, 2, v->envelope_id, STORE_TEXT_MAX);
	store_bind_text(st, 3, v->queue_id, STORE_TEXT_MAX);
	store_bind_text(st, 4, rcpt, ADDR_MAX);
	return store_step_done(s, st, "complete send");
}

/*
 * store_record_sends - keep the sends of one outbound message
 *
 * Arguments: s (read-write); v/n, one per envelope recipient; when,
 * the date of the sends whose own when is 0.
 * Returns BD_OK (idempotent: a send kept before is not changed but for
 * the Message-ID and ENVID it lacked) or a failure after which nothing
 * was kept.
 * Notes: one transaction (a savepoint inside an open batch); entries
 * without a queue id or an address are skipped.
 */
enum bd_status
store_record_sends(struct store *s, const struct store_send *v, size_t n,
    int64_t when)
{
	enum bd_status	 r;
	size_t		 i;

	if (n == 0)
		return BD_OK;
	if (store_writable(s) != BD_OK)
		return BD_EIO;
	pthread_mutex_lock(&s->lock);
	if ((r = store_tx_begin(s)) != BD_OK)
		goto out;
	for (i = 0; i < n; i++)
		if ((r = record_send(s, &v[i], v[i].when > 0 ? v[i].when :
		    when)) != BD_OK) {
			store_tx_rollback(s);
			goto out;
		}
	r = store_tx_commit(s);
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

/*
 * The best send of a recipient in one number: k = how * 2^42 - ts, how
 * the kind of match (1 queue id, 2 Message-ID, 3 ENVID; NULL: none) and
 * ts its date (0 <= ts < 2^42), so that the smallest k is the best kind
 * and, among equals, the newest.  min() needs no sort, and equalities
 * instead of IN lists no temporary table: the query with ORDER BY and
 * IN made SQLite open two temporary b-trees a bounce, 60k instructions
 * of a query that finds nothing (callgrind, bench/milter).  The two
 * recipients (reported, original) each search sends_recipient.
 */
#define MATCH_UNIT	(INT64_C(1) << 42)
#define MATCH_KEY \
	"CASE WHEN queue_id = ?3 OR queue_id = ?4 OR queue_id = ?5 " \
	"OR queue_id = ?6 THEN 1 " \
	"WHEN message_id = ?7 OR message_id = ?8 THEN 2 " \
	"WHEN envelope_id = ?9 THEN 3 END * 4398046511104 - ts"
static const char match_sql[] =
	"SELECT min(k) FROM ("
	"SELECT " MATCH_KEY " AS k FROM sends WHERE recipient = ?1 "
	"AND ts >= ?10 AND ts < 4398046511104 UNION ALL "
	"SELECT " MATCH_KEY " FROM sends WHERE recipient = ?2 "
	"AND ts >= ?10 AND ts < 4398046511104) AS m";

/*
 * store_send_match - a recorded send a report is about
 *
 * Arguments: s; k, what the report says (recipient, original recipient,
 * queue ids, Message-ID, ENVID); since, the oldest send that counts;
 * out, receives how it matched and the send's date.
 * Returns BD_OK with out->how set (TRUST_MATCH_NONE when there is none),
 * or a database failure.
 * Notes: the send must be to the reported recipient (or to the report's
 * Original-Recipient, the address the relay used); a queue id match is
 * preferred, then the Message-ID, then the ENVID; among equals the
 * newest.  Reads only: any handle will do.
 */
enum bd_status
store_send_match(struct store *s, const struct store_send_key *k,
    int64_t since, struct store_send_found *out)
{
	struct db_stmt	*st;
	enum bd_status	 r;
	char		 rcpt[ADDR_MAX + 1], orcpt[ADDR_MAX + 1];
	char		 bare[MSGID_MAX + 1], angle[MSGID_MAX + 3];
	const char	*b, *a;
	size_t		 i;
	int		 rc;

	memset(out, 0, sizeof(*out));
	out->how = TRUST_MATCH_NONE;
	if (k->recipient == NULL ||
	    !addr_normalize(k->recipient, rcpt, sizeof(rcpt)))
		return BD_OK;
	if (k->original_recipient == NULL ||
	    !addr_normalize(k->original_recipient, orcpt, sizeof(orcpt)))
		orcpt[0] = '\0';
	msgid_forms(k->message_id, bare, angle, sizeof(bare), &b, &a);
	pthread_mutex_lock(&s->lock);
	if ((r = store_cached(s, match_sql, &st)) != BD_OK)
		goto out;
	store_bind_text(st, 1, rcpt, ADDR_MAX);
	store_bind_text(st, 2, orcpt[0] ? orcpt : NULL, ADDR_MAX);
	for (i = 0; i < STORE_SEND_QIDS; i++)
		store_bind_text(st, 3 + (int)i, i < k->nqueue_ids &&
		    k->queue_ids[i] != NULL && k->queue_ids[i][0] != '\0' ?
		    k->queue_ids[i] : NULL, STORE_TEXT_MAX);
	store_bind_text(st, 7, b, STORE_TEXT_MAX);
	store_bind_text(st, 8, a, STORE_TEXT_MAX + 2);
	store_bind_text(st, 9, k->envelope_id != NULL &&
	    k->envelope_id[0] != '\0' ? k->envelope_id : NULL,
	    STORE_TEXT_MAX);
	db_bind_int64(st, 10, since > 0 ? since : 0);
	rc = db_step(st);
	if (rc == DB_ROW) {
		if (!db_column_null(st, 0)) {
			int64_t key = db_column_int64(st, 0);
			int64_t how = (key + MATCH_UNIT - 1) / MATCH_UNIT;

			out->when = how * MATCH_UNIT - key;
			out->how = how == 1 ? TRUST_MATCH_QUEUE_ID :
			    how == 2 ? TRUST_MATCH_MESSAGE_ID :
			    TRUST_MATCH_ENVELOPE_ID;
		}
		rc = DB_DONE;
	}
	r = rc == DB_DONE ? BD_OK : store_dberr(s, "match send");
	store_release(s, st);
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

/*
 * store_prune_sends - forget sends older than before
 *
 * Arguments: s (read-write); before; *n_deleted (may be NULL).
 * Returns BD_OK or a database failure (what was deleted before stays).
 * Notes: a report about an older send is no longer trusted by it; the
 * bounce rates of bouncectl stats lose the sends as well.  In batches
 * of STORE_PRUNE_BATCH, each its own transaction, with a pause between,
 * as store_prune() does: bounced records meanwhile.
 */
enum bd_status
store_prune_sends(struct store *s, int64_t before, int64_t *n_deleted)
{
	const struct timespec	 gap = { 0, 10 * 1000000L };	/* 10 ms */
	struct db_stmt		*st;
	enum bd_status		 r;
	int64_t			 n, total = 0;

	if (n_deleted != NULL)
		*n_deleted = 0;
	if (store_writable(s) != BD_OK)
		return BD_EIO;
	do {
		n = 0;
		pthread_mutex_lock(&s->lock);
		if ((r = store_prepare(s, "DELETE FROM sends WHERE (queue_id, recipient) "
		    "IN (SELECT queue_id, recipient FROM sends WHERE ts < ? "
		    "LIMIT ?)", &st)) ==
		    BD_OK) {
			db_bind_int64(st, 1, before);
			db_bind_int64(st, 2, STORE_PRUNE_BATCH);
			if ((r = store_step_done(s, st, "prune sends")) ==
			    BD_OK)
				total += (n = db_changes(s->db));
		}
		pthread_mutex_unlock(&s->lock);
		if (r == BD_OK && n == STORE_PRUNE_BATCH)
			(void)nanosleep(&gap, NULL);
	} while (r == BD_OK && n == STORE_PRUNE_BATCH);
	if (n_deleted != NULL)
		*n_deleted = total;
	return r;
}

struct untrusted_walk {
	store_untrusted_cb	 cb;
	void			*arg;
};

static int
untrusted_row(struct db_stmt *st, void *arg)
{
	struct untrusted_walk		*w = arg;
	struct store_untrusted_row	 r;

	r.source = store_col_text(st, 0) != NULL ? store_col_text(st, 0) : "";
	r.domain = store_col_text(st, 1) != NULL ? store_col_text(st, 1) : "";
	r.events = db_column_int64(st, 2);
	r.recipients = db_column_int64(st, 3);
	r.first = db_column_int64(st, 4);
	r.last = db_column_int64(st, 5);
	r.why = store_col_text(st, 6) != NULL ? store_col_text(st, 6) : "";
	return w->cb(w->arg, &r);
}

/*
 * store_untrusted - what an attack looks like: the held reports
 *
 * Arguments: s; since, only reports recorded at or after it count (0:
 * all); cb/arg, one call per (source, domain), most reports first.
 * Returns BD_OK or a database failure.
 * Notes: by recorded_at, the date bounced saw them: a held report's own
 * date means nothing.  why is the reason most of the group's reports
 * were not trusted.
 */
enum bd_status
store_untrusted(struct store *s, int64_t since, store_untrusted_cb cb,
    void *arg)
{
	struct untrusted_walk	 w = { cb, arg };
	struct db_stmt		*st;
	enum bd_status		 r;

	pthread_mutex_lock(&s->lock);
	if ((r = store_prepare(s, "SELECT src, domain, COUNT(*), "
	    "COUNT(DISTINCT recipient), MIN(recorded_at), MAX(recorded_at), "
	    "(SELECT trust_why FROM events e2 WHERE e2.class = 'untrusted' "
	    "AND COALESCE(e2.client_addr, '') = src AND e2.domain = "
	    "g.domain AND e2.recorded_at >= ?1 GROUP BY trust_why "
	    "ORDER BY COUNT(*) DESC, trust_why LIMIT 1) "
	    "FROM (SELECT COALESCE(client_addr, '') AS src, domain, "
	    "recipient, recorded_at FROM events WHERE class = 'untrusted' "
	    "AND recorded_at >= ?1) g GROUP BY src, domain "
	    "ORDER BY COUNT(*) DESC, src, domain", &st)) == BD_OK) {
		db_bind_int64(st, 1, since > 0 ? since : INT64_MIN);
		r = store_each_row(s, st, "untrusted", untrusted_row, &w);
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

/*
 * Sends (schema v2): a delivery line of the log (sent, deferred, bounced)
 * is one send of the original message to the recipient; every event
 * about a known send, from the log or a DSN, moves its outcome when it
 * is at least as recent; a campaign value names every send of the
 * message.  Idempotent like the events: a line read twice adds nothing.
 * A message from the null sender (RFC 5321 section 4.5.5: the MTA's own
 * DSN, whatever producer reports it) is no send: counting it would
 * dilute the bounce rates of bouncectl stats.  A failure of our own
 * path (local) starts no send: the hand-off is retried, and the
 * message's real outcome comes later.
 */
enum bd_status
store_note_send(struct store *s, const struct bd_event *ev, const char *rcpt,
    const char *class, int64_t ts)
{
	struct db_stmt	*st;
	enum bd_status	 r;

	if (ev->queue_id == NULL || ev->queue_id[0] == '\0')
		return BD_OK;
	if (event_sender_is_null(ev->sender, NULL))
		return BD_OK;	/* a DSN the MTA sent: not a send of ours */
	if (ev->source == EV_SRC_LOG && strcmp(class, "local") != 0 &&
	    (ev->action == EV_ACT_FAILED || ev->action == EV_ACT_DELAYED ||
	    ev->action == EV_ACT_DELIVERED)) {
		if ((r = store_cached(s, "INSERT INTO sends "
		    "(queue_id, recipient, message_id, ts, domain, sender, "
		    "campaign) "
		    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
		    &st)) != BD_OK)
			return r;
		store_bind_text(st, 1, ev->queue_id, STORE_TEXT_MAX);
		store_bind_text(st, 2, rcpt, ADDR_MAX);
		store_bind_text(st, 3, ev->message_id, STORE_TEXT_MAX);
		db_bind_int64(st, 4, ts);
		store_bind_text(st, 5, store_addr_domain(rcpt), ADDR_MAX);
		store_bind_text(st, 6, ev->sender, STORE_TEXT_MAX);
		store_bind_text(st, 7, ev->campaign != NULL &&
		    ev->campaign[0] != '\0' ? ev->campaign : NULL,
		    STORE_TEXT_MAX);
		if ((r = store_step_done(s, st, "insert send")) != BD_OK)
			return r;
	}
	if (strcmp(class, "delivered") == 0 || strcmp(class, "soft") == 0 ||
	    strcmp(class, "deferred") == 0 || strcmp(class, "hard") == 0 ||
	    strcmp(class, "sender") == 0) {
		if ((r = store_cached(s, "UPDATE sends SET outcome = ?1, "
		    "outcome_ts = ?2, reason = ?3 WHERE queue_id = ?4 AND "
		    "recipient = ?5 AND outcome_ts <= ?2", &st)) != BD_OK)
			return r;
		/* a deferral is counted as a soft outcome until it settles */
		db_bind_text(st, 1, strcmp(class, "deferred") == 0 ?
		    "soft" : class, SIZE_MAX);
		db_bind_int64(st, 2, ts);
		store_bind_text(st, 3, ev->verdict.reason, 47);
		store_bind_text(st, 4, ev->queue_id, STORE_TEXT_MAX);
		store_bind_text(st, 5, rcpt, ADDR_MAX);
		if ((r = store_step_done(s, st, "update send")) != BD_OK)
			return r;
	}
	if (ev->campaign != NULL && ev->campaign[0] != '\0') {
		if ((r = store_cached(s, "UPDATE sends SET campaign = ? WHERE "
		    "queue_id = ? AND campaign IS NULL", &st)) != BD_OK)
			return r;
		store_bind_text(st, 1, ev->campaign, STORE_TEXT_MAX);
		store_bind_text(st, 2, ev->queue_id, STORE_TEXT_MAX);
		if ((r = store_step_done(s, st, "send campaign")) != BD_OK)
			return r;
	}
	return BD_OK;
}
