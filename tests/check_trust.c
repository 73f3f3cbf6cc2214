/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * check_trust.c - unit tests of the trust policy (verdict/trust.c: the
 * decision, report dates, prvs= tags, FeedbackSources networks) and of
 * what the store does for it (store_send.c: sends kept and matched;
 * store_record.c: a held report is kept, never acted on; v4 migration),
 * and of the keys of bounced.conf(5) that drive it (conf.c).
 */
#include <sys/stat.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "store/store.h"
#include "verdict/trust.h"
#include "testutil.h"

#define NOW	1795457500	/* 2026-11-23 */
#define DAY	86400

static const unsigned char key[] = "0123456789abcdef-test-key";
#define KEYLEN	(sizeof(key) - 1)

/* ---- the decision ---- */

static const struct decide_case {
	enum trust_policy policy;
	bool		 local;
	bool		 arf;
	bool		 fbl;
	enum prvs_result sig;
	enum trust_match send;
	bool		 want;
	const char	*why;
} decide_cases[] = {
	/* nothing ties it: a stranger's DSN, a local user's injection */
	{ TRUST_POLICY_SENT, false, false, false, PRVS_NONE, TRUST_MATCH_NONE,
	    false, "no-matching-send" },
	{ TRUST_POLICY_SENT, true, false, false, PRVS_NONE, TRUST_MATCH_NONE,
	    false, "no-matching-send" },
	/* Postfix's own DSN and a remote one, tied to their send */
	{ TRUST_POLICY_SENT, true, false, false, PRVS_NONE,
	    TRUST_MATCH_QUEUE_ID, true, "send:queue-id" },
	{ TRUST_POLICY_SENT, false, false, false, PRVS_NONE,
	    TRUST_MATCH_MESSAGE_ID, true, "send:message-id" },
	{ TRUST_POLICY_SENT, false, false, false, PRVS_NONE,
	    TRUST_MATCH_ENVELOPE_ID, true, "send:envelope-id" },
	/* a signature: valid trusts, wrong or expired never */
	{ TRUST_POLICY_SENT, false, false, false, PRVS_VALID,
	    TRUST_MATCH_NONE, true, "signed-return-path" },
	{ TRUST_POLICY_SENT, false, false, false, PRVS_BAD,
	    TRUST_MATCH_MESSAGE_ID, false, "bad-signature" },
	{ TRUST_POLICY_SENT, false, false, false, PRVS_EXPIRED,
	    TRUST_MATCH_QUEUE_ID, false, "expired-signature" },
	{ TRUST_POLICY_SENT, false, false, false, PRVS_NOKEY,
	    TRUST_MATCH_NONE, false, "no-matching-send" },
	/* ARF: from a feedback loop, or tied to a send */
	{ TRUST_POLICY_SENT, false, true, false, PRVS_NONE, TRUST_MATCH_NONE,
	    false, "no-matching-send" },
	{ TRUST_POLICY_SENT, false, true, true, PRVS_NONE, TRUST_MATCH_NONE,
	    true, "feedback-source" },
	{ TRUST_POLICY_SENT, false, false, true, PRVS_NONE, TRUST_MATCH_NONE,
	    false, "no-matching-send" },
	{ TRUST_POLICY_SENT, false, true, false, PRVS_NONE,
	    TRUST_MATCH_MESSAGE_ID, true, "send:message-id" },
	/* TrustPolicy local: the non-SMTP path only */
	{ TRUST_POLICY_LOCAL, true, false, false, PRVS_NONE, TRUST_MATCH_NONE,
	    true, "local-path" },
	{ TRUST_POLICY_LOCAL, false, false, false, PRVS_NONE,
	    TRUST_MATCH_NONE, false, "no-matching-send" },
	/* TrustPolicy off: everything, as before */
	{ TRUST_POLICY_OFF, false, true, false, PRVS_BAD, TRUST_MATCH_NONE,
	    true, "policy-off" },
};

START_TEST(test_trust_decide)
{
	const struct decide_case *c = &decide_cases[_i];
	struct trust_facts	 f;
	enum trust_why		 why;
	bool			 got;

	memset(&f, 0, sizeof(f));
	f.policy = c->policy;
	f.local_path = c->local;
	f.feedback = c->arf;
	f.feedback_source = c->fbl;
	f.signature = c->sig;
	f.send = c->send;
	got = trust_decide(&f, &why);
	ck_assert_msg(got == c->want, "case %d: trusted: got %d, want %d",
	    _i, got, c->want);
	ck_assert_msg(strcmp(trust_why_name(why), c->why) == 0,
	    "case %d: why: got %s, want %s", _i, trust_why_name(why), c->why);
	ck_assert(trust_decide(&f, NULL) == c->want);
}
END_TEST

START_TEST(test_trust_needs_send)
{
	struct trust_facts	 f;

	memset(&f, 0, sizeof(f));
	ck_assert(trust_needs_send(&f));
	f.signature = PRVS_BAD;
	ck_assert(!trust_needs_send(&f));
	f.signature = PRVS_EXPIRED;
	ck_assert(!trust_needs_send(&f));
	f.signature = PRVS_VALID;
	ck_assert(trust_needs_send(&f));
	f.policy = TRUST_POLICY_OFF;
	ck_assert(!trust_needs_send(&f));
}
END_TEST

static const struct when_case {
	int64_t	 reported, sent, want;
} when_cases[] = {
	{ NOW - 60, NOW - 120, NOW - 60 },	/* plausible: kept */
	{ 4102444800LL, NOW - 120, NOW },	/* 2100-01-01: now */
	{ NOW + 1, 0, NOW },
	{ 631152000LL, NOW - 120, NOW - 120 },	/* 1990: the send */
	{ 631152000LL, 0, 631152000LL },	/* no send: kept */
	{ 0, NOW - 120, NOW },			/* none: now */
	{ -5, 0, NOW },
	{ NOW - 10, NOW + 50, NOW },		/* a send "later": now */
};

START_TEST(test_trust_when)
{
	const struct when_case	*c = &when_cases[_i];
	int64_t			 got;

	got = trust_when(c->reported, NOW, c->sent);

	ck_assert_msg(got == c->want, "case %d: got %lld, want %lld", _i,
	    (long long)got, (long long)c->want);
}
END_TEST

/* ---- prvs= ---- */

START_TEST(test_prvs_roundtrip)
{
	char			 s[400], orig[400], upper[400 + 2];
	enum prvs_result	 r;
	size_t			 i;

	ck_assert(prvs_sign(key, KEYLEN, "Alice@Sender.test", NOW, s,
	    sizeof(s)));
	ck_assert_msg(strncmp(s, "prvs=0", 6) == 0 && strlen(s) ==
	    strlen("prvs=0DDDHHHHHH=Alice@Sender.test"), "got %s", s);
	ck_assert_msg(strcmp(s + 16, "Alice@Sender.test") == 0,
	    "address part: got %s", s + 16);
	r = prvs_check(key, KEYLEN, s, NOW, 7, orig, sizeof(orig));
	ck_assert_msg(r == PRVS_VALID, "got %s, want valid",
	    prvs_result_name(r));
	ck_assert_str_eq(orig, "Alice@Sender.test");
	/* as an envelope recipient, and after a remote changed the case */
	(void)snprintf(upper, sizeof(upper), "<%s>", s);
	for (i = 0; upper[i] != '\0'; i++)
		upper[i] = (char)(upper[i] >= 'a' && upper[i] <= 'z' ?
		    upper[i] - 32 : upper[i]);
	r = prvs_check(key, KEYLEN, upper, NOW + 3 * DAY, 7, NULL, 0);
	ck_assert_msg(r == PRVS_VALID, "upper case, 3 days: got %s",
	    prvs_result_name(r));
	/* the same tag on the next day it still counts; past max: expired */
	ck_assert_int_eq(prvs_check(key, KEYLEN, s, NOW + 7 * DAY, 7, NULL,
	    0), PRVS_VALID);
	r = prvs_check(key, KEYLEN, s, NOW + 8 * DAY, 7, NULL, 0);
	ck_assert_msg(r == PRVS_EXPIRED, "8 days: got %s, want expired",
	    prvs_result_name(r));
	/* a day number from the future (a replay with a forged day) */
	r = prvs_check(key, KEYLEN, s, NOW - DAY, 7, NULL, 0);
	ck_assert_msg(r == PRVS_EXPIRED, "future: got %s, want expired",
	    prvs_result_name(r));
	/* another key, or no key */
	r = prvs_check((const unsigned char *)"another key, 16 bytes+", 22,
	    s, NOW, 7, NULL, 0);
	ck_assert_msg(r == PRVS_BAD, "other key: got %s, want bad",
	    prvs_result_name(r));
	ck_assert_int_eq(prvs_check(NULL, 0, s, NOW, 7, orig, sizeof(orig)),
	    PRVS_NOKEY);
	ck_assert_str_eq(orig, "Alice@Sender.test");
}
END_TEST

static const struct bad_case {
	const char	*addr;
	enum prvs_result want;
} bad_cases[] = {
	{ "alice@sender.test", PRVS_NONE },
	{ "<alice@sender.test>", PRVS_NONE },
	{ "", PRVS_NONE },
	{ "prvs=", PRVS_BAD },
	{ "prvs=0123abcdef", PRVS_BAD },
	{ "prvs=0123abcdef=", PRVS_BAD },
	{ "prvs=0123abcdef=alice", PRVS_BAD },
	{ "prvs=0123abcdeg=alice@sender.test", PRVS_BAD },	/* not hex */
	{ "prvs=1123abcdef=alice@sender.test", PRVS_BAD },	/* key 1 */
	{ "prvs=0x23abcdef=alice@sender.test", PRVS_BAD },
	{ "prvs=0123abcdef=al ice@sender.test", PRVS_BAD },
	{ "prvs=0123abcdef=alice@sender.test", PRVS_BAD },	/* wrong */
	{ "prvs=0123abcdef0=alice@sender.test", PRVS_BAD },	/* long */
};

START_TEST(test_prvs_bad)
{
	enum prvs_result	 r;

	r = prvs_check(key, KEYLEN, bad_cases[_i].addr, NOW, 7, NULL, 0);
	ck_assert_msg(r == bad_cases[_i].want, "\"%s\": got %s, want %s",
	    bad_cases[_i].addr, prvs_result_name(r),
	    prvs_result_name(bad_cases[_i].want));
}
END_TEST

START_TEST(test_prvs_sign_refuses)
{
	char	 s[64];

	ck_assert(!prvs_sign(key, KEYLEN, "no-at-sign", NOW, s, sizeof(s)));
	ck_assert(!prvs_sign(key, KEYLEN, "<alice@x.test>", NOW, s,
	    sizeof(s)));
	ck_assert(!prvs_sign(key, KEYLEN, "prvs=0123abcdef=a@x.test", NOW, s,
	    sizeof(s)));
	ck_assert(!prvs_sign(key, 8, "alice@x.test", NOW, s, sizeof(s)));
	ck_assert(!prvs_sign(key, KEYLEN, "alice@x.test", NOW, s, 20));
	ck_assert(prvs_sign(key, KEYLEN, "alice@x.test", NOW, s, 29));
}
END_TEST

/* ---- FeedbackSources ---- */

START_TEST(test_trust_nets)
{
	struct trust_net	 nets[4];
	char			 why[128];
	size_t			 n;

	ck_assert(trust_nets_parse("192.0.2.7, 198.51.100.0/24 "
	    "2001:db8:1::/48", nets, 4, &n, why, sizeof(why)));
	ck_assert_int_eq(n, 3);
	ck_assert(trust_nets_match(nets, n, "192.0.2.7"));
	ck_assert(!trust_nets_match(nets, n, "192.0.2.8"));
	ck_assert(trust_nets_match(nets, n, "198.51.100.200"));
	ck_assert(!trust_nets_match(nets, n, "198.51.101.1"));
	ck_assert(trust_nets_match(nets, n, "::ffff:198.51.100.9"));
	ck_assert(trust_nets_match(nets, n, "[198.51.100.9]"));
	ck_assert(trust_nets_match(nets, n, "IPv6:2001:db8:1:ffff::1"));
	ck_assert(!trust_nets_match(nets, n, "2001:db8:2::1"));
	ck_assert(!trust_nets_match(nets, n, "mx.example.net"));
	ck_assert(!trust_nets_match(nets, n, ""));
	ck_assert(!trust_nets_match(nets, n, NULL));
	ck_assert(!trust_nets_match(nets, 0, "192.0.2.7"));
	/* a /0 is everything of its family; a /9 cuts inside a byte */
	ck_assert(trust_nets_parse("0.0.0.0/0", nets, 4, &n, why,
	    sizeof(why)));
	ck_assert(trust_nets_match(nets, n, "203.0.113.1"));
	ck_assert(!trust_nets_match(nets, n, "2001:db8::1"));
	ck_assert(trust_nets_parse("10.128.0.0/9", nets, 4, &n, why,
	    sizeof(why)));
	ck_assert(trust_nets_match(nets, n, "10.200.1.1"));
	ck_assert(!trust_nets_match(nets, n, "10.100.1.1"));
	ck_assert(trust_nets_parse("", nets, 4, &n, why, sizeof(why)));
	ck_assert_int_eq(n, 0);
	ck_assert(!trust_nets_parse("192.0.2.1/33", nets, 4, &n, why,
	    sizeof(why)));
	ck_assert(!trust_nets_parse("192.0.2.1/", nets, 4, &n, why,
	    sizeof(why)));
	ck_assert(!trust_nets_parse("fbl.example.net", nets, 4, &n, why,
	    sizeof(why)));
	ck_assert_msg(strstr(why, "fbl.example.net") != NULL, "why: %s", why);
	ck_assert(!trust_nets_parse("1.1.1.1 2.2.2.2 3.3.3.3 4.4.4.4 "
	    "5.5.5.5", nets, 4, &n, why, sizeof(why)));
}
END_TEST

/* ---- the store ---- */

static char	 tmpdir[256], dbpath[300];
static struct store *store;
static const struct state_policy pol = { .soft_limit = 3,
	.soft_window = 30 * DAY, .complaint_types = 1u << STATE_FB_ABUSE };

static void
setup(void)
{
	testutil_tmpdir("check_trust", tmpdir, sizeof(tmpdir));
	testutil_store(tmpdir, dbpath, sizeof(dbpath), &store);
}

static void
teardown(void)
{
	store_close(store);
	testutil_rmtree(tmpdir);
}

static void
send_one(const char *qid, const char *rcpt, const char *msgid,
    const char *envid, int64_t when)
{
	struct store_send	 v;

	memset(&v, 0, sizeof(v));
	v.queue_id = qid;
	v.recipient = rcpt;
	v.message_id = msgid;
	v.envelope_id = envid;
	v.sender = "alice@sender.test";
	ck_assert_int_eq(store_record_sends(store, &v, 1, when), BD_OK);
}

static enum trust_match
match(const char *rcpt, const char *orcpt, const char *qid,
    const char *msgid, const char *envid, int64_t since, int64_t *when)
{
	struct store_send_key	 k;
	struct store_send_found	 f;

	memset(&k, 0, sizeof(k));
	k.recipient = rcpt;
	k.original_recipient = orcpt;
	k.queue_ids[0] = qid;
	k.nqueue_ids = 1;
	k.message_id = msgid;
	k.envelope_id = envid;
	ck_assert_int_eq(store_send_match(store, &k, since, &f), BD_OK);
	if (when != NULL)
		*when = f.when;
	return f.how;
}

START_TEST(test_store_send_match)
{
	int64_t	 when = 0;

	send_one("AAA111", "<Bob@Remote.TEST>", " <m1@sender.test>", "env-1",
	    NOW - DAY);
	/* by queue id, Message-ID (either form), ENVID; to that recipient */
	ck_assert_int_eq(match("Bob@remote.test", NULL, "AAA111", NULL, NULL,
	    0, &when), TRUST_MATCH_QUEUE_ID);
	ck_assert(when == NOW - DAY);
	ck_assert_int_eq(match("Bob@remote.test", NULL, NULL,
	    "m1@sender.test", NULL, 0, NULL), TRUST_MATCH_MESSAGE_ID);
	ck_assert_int_eq(match("Bob@remote.test", NULL, "XXX",
	    "<m1@sender.test>", NULL, 0, NULL), TRUST_MATCH_MESSAGE_ID);
	ck_assert_int_eq(match("Bob@remote.test", NULL, NULL, NULL, "env-1",
	    0, NULL), TRUST_MATCH_ENVELOPE_ID);
	/* the queue id wins over the Message-ID */
	ck_assert_int_eq(match("Bob@remote.test", NULL, "AAA111",
	    "m1@sender.test", "env-1", 0, NULL), TRUST_MATCH_QUEUE_ID);
	/* another recipient, another message, too old: nothing */
	ck_assert_int_eq(match("carol@remote.test", NULL, "AAA111",
	    "m1@sender.test", "env-1", 0, NULL), TRUST_MATCH_NONE);
	ck_assert_int_eq(match("Bob@remote.test", NULL, "BBB222",
	    "m2@sender.test", "env-2", 0, NULL), TRUST_MATCH_NONE);
	ck_assert_int_eq(match("Bob@remote.test", NULL, "AAA111", NULL, NULL,
	    NOW, NULL), TRUST_MATCH_NONE);
	/* the remote reports another final recipient: the original counts */
	ck_assert_int_eq(match("robert@remote.test", "Bob@remote.test",
	    NULL, "m1@sender.test", NULL, 0, NULL), TRUST_MATCH_MESSAGE_ID);
	/* among sends of one kind the newest; a better kind even if older */
	send_one("CCC333", "bob@remote.test", "<m1@sender.test>", "env-1",
	    NOW - 3 * DAY);
	send_one("DDD444", "bob@remote.test", "<m1@sender.test>", "env-1",
	    NOW - 2 * 3600);
	ck_assert_int_eq(match("Bob@remote.test", NULL, NULL,
	    "m1@sender.test", NULL, 0, &when), TRUST_MATCH_MESSAGE_ID);
	ck_assert(when == NOW - 2 * 3600);
	ck_assert_int_eq(match("Bob@remote.test", NULL, "CCC333",
	    "m1@sender.test", "env-1", 0, &when), TRUST_MATCH_QUEUE_ID);
	ck_assert(when == NOW - 3 * DAY);
	ck_assert_int_eq(match("Bob@remote.test", NULL, NULL, NULL, "env-1",
	    NOW - 2 * DAY, &when), TRUST_MATCH_ENVELOPE_ID);
	ck_assert(when == NOW - 2 * 3600);
	/* either recipient form: the newest send of the two */
	send_one("EEE555", "robert@remote.test", "<m1@sender.test>", "env-1",
	    NOW - 60);
	ck_assert_int_eq(match("robert@remote.test", "Bob@remote.test",
	    NULL, "m1@sender.test", NULL, 0, &when), TRUST_MATCH_MESSAGE_ID);
	ck_assert(when == NOW - 60);
	/* garbage never matches, never fails */
	ck_assert_int_eq(match("not an address", NULL, "AAA111", NULL, NULL,
	    0, NULL), TRUST_MATCH_NONE);
	ck_assert_int_eq(match("Bob@remote.test", NULL, "", "", "", 0,
	    NULL), TRUST_MATCH_NONE);
}
END_TEST

START_TEST(test_store_sends_idempotent)
{
	struct bd_event	 ev;
	int64_t		 n = 0;

	/* the log knew the send first, without a Message-ID */
	memset(&ev, 0, sizeof(ev));
	ev.when = NOW - 100;
	ev.recipient = "bob@remote.test";
	ev.action = EV_ACT_DELIVERED;
	ev.status = "2.0.0";
	ev.queue_id = "AAA111";
	ev.sender = "alice@sender.test";
	ev.source = EV_SRC_LOG;
	ev.trusted = true;
	ev.verdict.reason = "delivered";
	ck_assert_int_eq(store_record(store, &ev, 1, &pol, NOW, NULL), BD_OK);
	send_one("AAA111", "bob@remote.test", "<m1@sender.test>", "e1", NOW);
	send_one("AAA111", "bob@remote.test", "<m1@sender.test>", "e1", NOW);
	ck_assert_int_eq(testutil_count_rows(dbpath, "SELECT COUNT(*) FROM "
	    "sends"), 1);
	/* the log's row kept its date and outcome, got the Message-ID */
	ck_assert_int_eq(testutil_count_rows(dbpath, "SELECT COUNT(*) FROM "
	    "sends WHERE ts = 1795457400 AND outcome = 'delivered' AND "
	    "message_id = 'm1@sender.test' AND envelope_id = 'e1'"), 1);
	ck_assert_int_eq(store_prune_sends(store, NOW, &n), BD_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(testutil_count_rows(dbpath, "SELECT COUNT(*) FROM "
	    "sends"), 0);
}
END_TEST

/* A forged hard bounce for carol, judged untrusted by the milter. */
static void
forged(struct bd_event *ev, int64_t when, const char *why)
{
	memset(ev, 0, sizeof(*ev));
	ev->when = when;
	ev->recipient = "carol@remote.test";
	ev->action = EV_ACT_FAILED;
	ev->status = "5.1.1";
	ev->message_id = "forged@sender.test";
	ev->source = EV_SRC_DSN_REMOTE;
	ev->verdict.reason = "userunknown";
	ev->verdict.hard = true;
	ev->verdict.who = EV_WHO_RECIPIENT;
	ev->trusted = false;
	ev->trust_why = why;
	ev->client_addr = "192.0.2.66";
}

struct hist {
	int		 n;
	char		 class[32], why[32], client[32];
	bool		 trusted;
};

static int
hist_cb(void *arg, const struct store_event_row *e)
{
	struct hist	*h = arg;

	h->n++;
	(void)snprintf(h->class, sizeof(h->class), "%s", e->class);
	(void)snprintf(h->why, sizeof(h->why), "%s",
	    e->trust_why ? e->trust_why : "(null)");
	(void)snprintf(h->client, sizeof(h->client), "%s",
	    e->client_addr ? e->client_addr : "(null)");
	h->trusted = e->trusted;
	return 0;
}

START_TEST(test_store_held_never_acts)
{
	struct store_recipient	 rec;
	struct bd_event		 ev;
	struct hist		 h;
	size_t			 nn = 0;

	forged(&ev, NOW, "no-matching-send");
	ck_assert_int_eq(store_record(store, &ev, 1, &pol, NOW, &nn), BD_OK);
	ck_assert_int_eq(nn, 1);
	/* recorded, shown, but no state, no date */
	ck_assert_int_eq(store_lookup(store, "carol@remote.test", &rec),
	    BD_ENOTFOUND);
	memset(&h, 0, sizeof(h));
	ck_assert_int_eq(store_history(store, "carol@remote.test", hist_cb,
	    &h), BD_OK);
	ck_assert_int_eq(h.n, 1);
	ck_assert_str_eq(h.class, "untrusted");
	ck_assert_str_eq(h.why, "no-matching-send");
	ck_assert_str_eq(h.client, "192.0.2.66");
	ck_assert(!h.trusted);
	/* the same forgery again: nothing new */
	ck_assert_int_eq(store_record(store, &ev, 1, &pol, NOW, &nn), BD_OK);
	ck_assert_int_eq(nn, 0);
	/* the genuine report of the same message is new, and acts */
	ev.trusted = true;
	ev.trust_why = "send:message-id";
	ck_assert_int_eq(store_record(store, &ev, 1, &pol, NOW, &nn), BD_OK);
	ck_assert_int_eq(nn, 1);
	testutil_assert_state(store, "carol@remote.test", "suppressed",
	    "hard", 0);
	/* the feed of bouncectl events has the trusted one only */
	ck_assert_int_eq(testutil_count_rows(dbpath, "SELECT COUNT(*) FROM "
	    "feed WHERE kind = 'event'"), 1);
	ck_assert_int_eq(testutil_count_rows(dbpath, "SELECT COUNT(*) FROM "
	    "feed f JOIN events e ON e.id = f.event_id WHERE e.class = "
	    "'untrusted'"), 0);
	/* a rebuild replays the trusted one only */
	ck_assert_int_eq(store_rebuild(store, &pol), BD_OK);
	testutil_assert_state(store, "carol@remote.test", "suppressed",
	    "hard", 0);
}
END_TEST

START_TEST(test_store_held_moves_no_date)
{
	struct store_recipient	 rec;
	struct bd_event		 ev;
	int64_t			 since;

	/* dave suppressed by a trusted hard bounce */
	forged(&ev, NOW - DAY, "send:queue-id");
	ev.recipient = "dave@remote.test";
	ev.trusted = true;
	ev.queue_id = "Q1";
	ck_assert_int_eq(store_record(store, &ev, 1, &pol, NOW, NULL), BD_OK);
	ck_assert_int_eq(store_lookup(store, "dave@remote.test", &rec), BD_OK);
	since = rec.suppressed_since;
	/* held reports: a delivery (would reset), soft ones, later dates */
	forged(&ev, NOW + 100 * DAY, "no-matching-send");
	ev.recipient = "dave@remote.test";
	ev.action = EV_ACT_DELIVERED;
	ev.status = "2.0.0";
	ev.verdict.reason = "delivered";
	ev.verdict.hard = false;
	ck_assert_int_eq(store_record(store, &ev, 1, &pol, NOW, NULL), BD_OK);
	ck_assert_int_eq(store_lookup(store, "dave@remote.test", &rec), BD_OK);
	ck_assert_str_eq(rec.state, "suppressed");
	ck_assert(rec.suppressed_since == since);
	ck_assert(rec.last_seen == NOW - DAY);
	ck_assert(rec.last_bounce == NOW - DAY);
	ck_assert_int_eq(store_manual(store, &(struct store_manual){
	    .address = "dave@remote.test", .suppress = false, .by = "t",
	    .when = NOW, .source = EV_SRC_MANUAL }, 1, NULL), BD_OK);
	/* three held soft bounces do not suppress again */
	for (int i = 0; i < 3; i++) {
		char mid[32];

		(void)snprintf(mid, sizeof(mid), "soft-%d@x", i);
		forged(&ev, NOW + 10 + i, "no-matching-send");
		ev.recipient = "dave@remote.test";
		ev.status = "4.2.2";
		ev.message_id = mid;
		ev.verdict.reason = "mailboxfull";
		ev.verdict.hard = false;
		ck_assert_int_eq(store_record(store, &ev, 1, &pol, NOW + 20,
		    NULL), BD_OK);
	}
	testutil_assert_state(store, "dave@remote.test", "active", "", 0);
	/* and are left out of the statistics' event counts */
	ck_assert_int_eq(testutil_count_rows(dbpath, "SELECT COUNT(*) FROM "
	    "events WHERE class = 'untrusted'"), 4);
}
END_TEST

struct stat_count {
	int64_t	 events, hard, soft;
};

static int
stat_cb(void *arg, const struct store_stat_row *r)
{
	struct stat_count	*c = arg;

	c->events += r->events;
	c->hard += r->hard;
	c->soft += r->soft;
	return 0;
}

START_TEST(test_store_held_not_in_stats)
{
	struct bd_event		 ev;
	struct stat_count	 c;

	forged(&ev, NOW, "no-matching-send");
	ck_assert_int_eq(store_record(store, &ev, 1, &pol, NOW, NULL), BD_OK);
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(store_stats(store, NULL, stat_cb, &c), BD_OK);
	ck_assert_msg(c.events == 0 && c.hard == 0, "got events %lld hard "
	    "%lld, want 0 0", (long long)c.events, (long long)c.hard);
}
END_TEST

/* Pruning sends goes in batches and leaves the newer ones. */
START_TEST(test_store_prune_sends_batches)
{
	struct store_send	*v;
	char			(*q)[16];
	int64_t			 n = -1;
	int			 i, total = 2 * STORE_PRUNE_BATCH + 3;

	v = calloc((size_t)total, sizeof(*v));
	q = calloc((size_t)total, sizeof(*q));
	ck_assert(v != NULL && q != NULL);
	for (i = 0; i < total; i++) {
		(void)snprintf(q[i], sizeof(q[i]), "Q%d", i);
		v[i].queue_id = q[i];
		v[i].recipient = "bob@remote.test";
		v[i].when = i < total - 1 ? NOW - 40 * DAY : NOW;
	}
	ck_assert_int_eq(store_record_sends(store, v, (size_t)total, NOW),
	    BD_OK);
	ck_assert_int_eq(store_prune_sends(store, NOW - 30 * DAY, &n), BD_OK);
	ck_assert_msg(n == total - 1, "pruned: got %lld, want %d",
	    (long long)n, total - 1);
	ck_assert_int_eq(testutil_count_rows(dbpath, "SELECT COUNT(*) FROM "
	    "sends"), 1);
	free(v);
	free(q);
}
END_TEST

/* ---- configuration ---- */

START_TEST(test_trust_config)
{
	struct bd_config	*c;
	char			 err[512], path[400], text[800];
	enum bd_status		 s;

	c = testutil_config("");
	ck_assert_int_eq(c->trust_policy, TRUST_POLICY_SENT);
	ck_assert(c->trust_max_age == 30 * DAY);
	ck_assert(c->record_sends);
	ck_assert(!c->sign_envelope);
	ck_assert_int_eq(config_load_key(c, err, sizeof(err)), BD_OK);
	ck_assert_ptr_null(c->sign_key);
	ck_assert(!config_signs_sender(c, "alice@sender.test"));
	config_free(c);

	c = testutil_config("TrustPolicy local\nFeedbackSources 192.0.2.0/24,"
	    " 2001:db8::1\nTrustMaxAge 2d\n");
	ck_assert_int_eq(c->trust_policy, TRUST_POLICY_LOCAL);
	ck_assert_int_eq(c->n_feedback_nets, 2);
	ck_assert(c->trust_max_age == 2 * DAY);
	config_free(c);

	s = config_parse("t.conf", "FeedbackSources fbl.example\n", 28, &c,
	    err, sizeof(err));
	ck_assert_msg(s == BD_ECONFIG && strstr(err, "t.conf:1") != NULL,
	    "got %s (%s)", bd_strerror(s), err);
	s = config_parse("t.conf", "SignEnvelope yes\n", 17, &c, err,
	    sizeof(err));
	ck_assert_msg(s == BD_ECONFIG && strstr(err, "SignKeyFile") != NULL,
	    "got %s (%s)", bd_strerror(s), err);

	/* the key file: mode 0600 only, long enough */
	testutil_tmpdir("check_trust", tmpdir, sizeof(tmpdir));
	(void)snprintf(path, sizeof(path), "%s/prvs.key", tmpdir);
	testutil_write_file(path, "0123456789abcdefXYZ\n", 20);
	(void)snprintf(text, sizeof(text), "SignEnvelope yes\nSignKeyFile %s\n"
	    "SignSenders *@sender.test\n", path);
	c = testutil_config(text);
	ck_assert_int_eq(chmod(path, 0644), 0);
	s = config_load_key(c, err, sizeof(err));
	ck_assert_msg(s == BD_ECONFIG && strstr(err, "chmod") != NULL,
	    "mode 0644: got %s (%s)", bd_strerror(s), err);
	ck_assert(!config_signs_sender(c, "alice@sender.test"));
	ck_assert_int_eq(chmod(path, 0600), 0);
	s = config_load_key(c, err, sizeof(err));
	ck_assert_msg(s == BD_OK, "mode 0600: got %s (%s)", bd_strerror(s),
	    err);
	ck_assert_int_eq(c->sign_key_len, 19);
	ck_assert(memcmp(c->sign_key, "0123456789abcdefXYZ", 19) == 0);
	ck_assert(config_signs_sender(c, "Alice@SENDER.test"));
	ck_assert(!config_signs_sender(c, "alice@elsewhere.test"));
	ck_assert(!config_signs_sender(c, ""));
	ck_assert(!config_signs_sender(c, "prvs=0123abcdef=alice@sender.test"));
	config_free(c);
	testutil_write_file(path, "short\n", 6);
	ck_assert_int_eq(chmod(path, 0600), 0);
	c = testutil_config(text);
	s = config_load_key(c, err, sizeof(err));
	ck_assert_msg(s == BD_ECONFIG && strstr(err, "shorter") != NULL,
	    "short key: got %s (%s)", bd_strerror(s), err);
	config_free(c);
	testutil_rmtree(tmpdir);
}
END_TEST

static Suite *
trust_suite(void)
{
	Suite	*s = suite_create("trust");
	TCase	*tc;

	tc = tcase_create("policy");
	TESTUTIL_LOOP(tc, test_trust_decide, decide_cases);
	tcase_add_test(tc, test_trust_needs_send);
	TESTUTIL_LOOP(tc, test_trust_when, when_cases);
	tcase_add_test(tc, test_trust_nets);
	tcase_add_test(tc, test_trust_config);
	suite_add_tcase(s, tc);

	tc = tcase_create("prvs");
	tcase_add_test(tc, test_prvs_roundtrip);
	TESTUTIL_LOOP(tc, test_prvs_bad, bad_cases);
	tcase_add_test(tc, test_prvs_sign_refuses);
	suite_add_tcase(s, tc);

	tc = tcase_create("store");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_store_send_match);
	tcase_add_test(tc, test_store_sends_idempotent);
	tcase_add_test(tc, test_store_prune_sends_batches);
	tcase_add_test(tc, test_store_held_never_acts);
	tcase_add_test(tc, test_store_held_moves_no_date);
	tcase_add_test(tc, test_store_held_not_in_stats);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_run(trust_suite()) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
