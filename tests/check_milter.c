/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * check_milter.c - unit tests of the libmilter glue (src/milter*.c),
 * driven through tests/fake_smfi.c in the order libmilter calls the
 * callbacks, against a real store in a temporary folder.  What the
 * milter logs is caught with log_set_hook().  The Postfix DSNs come from
 * ../shared/fixtures/postfix relative to the source tree; without them
 * the fixture cases are left out and the test exits 77 if the rest
 * passed.
 */
#include <sys/stat.h>

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include <sqlite3.h>

#include "util/buf.h"
#include "conf/conf.h"
#include "parse/dsn.h"
#include "fake_smfi.h"
#include "log/log.h"
#include "bounced/metrics.h"
#include "bounced/milter.h"
#include "bounced/rcache.h"
#include "store/store.h"
#include "testutil.h"

#define NOW		1795457500	/* just after the fixtures were made */
#define ALL_ACTIONS	0x1ffUL
#define ALL_PROTO	0x1fffffUL
#define LOG_KEPT	32		/* log lines a test can look at */

static char		 tmpdir[256], dbpath[300];
static char		 fixdir[1024];
static struct store	*store;

struct run {
	unsigned long	 pf0, pf1;
	sfsistat	 from, data, eom, last;
	sfsistat	 rcpt[8];
	int		 skips;
	bool		 rejected;	/* any REJECT at any stage */
	bool		 reached_eom;
};

static int64_t		 clock_now = NOW;
static unsigned long	 offer_proto = ALL_PROTO;	/* the MTA offers */
static struct {
	int		 prio;
	char		 text[1024];
}			 logged[LOG_KEPT];
static int		 n_logged;

static int64_t
fixed_now(void)
{
	return clock_now;
}

/* Keep what the milter logs (log_set_hook), DEBUG included. */
static void
capture_log(int prio, const char *line)
{
	if (n_logged < LOG_KEPT) {
		logged[n_logged].prio = prio;
		(void)snprintf(logged[n_logged].text,
		    sizeof(logged[n_logged].text), "%s", line);
	}
	n_logged++;
}

/* Lines logged at prio (-1: any) that contain needle ("" : all). */
static int
count_logged(int prio, const char *needle)
{
	int	 i, n = 0;

	for (i = 0; i < n_logged && i < LOG_KEPT; i++)
		if ((prio < 0 || logged[i].prio == prio) &&
		    strstr(logged[i].text, needle) != NULL)
			n++;
	return n;
}

static void
setup(void)
{
	testutil_tmpdir("check_milter", tmpdir, sizeof(tmpdir));
	testutil_store(tmpdir, dbpath, sizeof(dbpath), &store);
	log_set_quiet(false);
	log_set_hook(capture_log);
	clock_now = NOW;
	offer_proto = ALL_PROTO;
	n_logged = 0;
	milter_set_clock(fixed_now);
	ck_assert_int_eq(milter_register(), BD_OK);
}

static void
teardown(void)
{
	milter_fini();
	log_set_hook(NULL);
	log_set_debug(false);
	store_close(store);
	testutil_rmtree(tmpdir);
}

/*
 * A snapshot from config text; the milter takes it over.  The tests
 * written before the trust policy (issue 10) are about other things:
 * they run with "TrustPolicy off" and "RecordSends no" unless their text
 * names TrustPolicy (the "trust" cases): then the defaults are real.
 */
static void
use_conf(const char *text)
{
	struct buf	 b;

	buf_init(&b, 8192);
	ck_assert_int_eq(buf_puts(&b, text), BD_OK);
	if (strstr(text, "TrustPolicy") == NULL)
		ck_assert_int_eq(buf_puts(&b, "TrustPolicy off\n"
		    "RecordSends no\n"), BD_OK);
	milter_init(testutil_config(b.data), store);
	buf_free(&b);
}

static char *
fixture(const char *name, size_t *len)
{
	return testutil_read_in(fixdir, name, len);
}

static void
negotiate(SMFICTX *ctx, struct run *r)
{
	sfsistat	 s;
	unsigned long	 p2, p3;

	s = fake_desc.xxfi_negotiate(ctx, ALL_ACTIONS, offer_proto, 0, 0,
	    &r->pf0, &r->pf1, &p2, &p3);
	ck_assert_int_eq(s, SMFIS_CONTINUE);
	ck_assert_msg((r->pf1 & ~offer_proto) == 0 && (r->pf0 & ~ALL_ACTIONS)
	    == 0, "asked for flags not offered");
}

static bool
stops(sfsistat s)
{
	return s != SMFIS_CONTINUE && s != SMFIS_NOREPLY;
}

/* Feed one header line set and the body the way libmilter would. */
static bool
feed_message(SMFICTX *ctx, struct run *r, const char *msg, size_t len)
{
	const char	*p = msg, *end = msg + len, *eol, *colon;
	char		 name[256], value[8192];
	size_t		 vlen = 0, n;
	bool		 have = false;
	sfsistat	 s;

	for (;;) {
		eol = memchr(p, '\n', (size_t)(end - p));
		n = eol ? (size_t)(eol - p) : (size_t)(end - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (have && (n == 0 || (p[0] != ' ' && p[0] != '\t'))) {
			value[vlen] = '\0';
			s = fake_desc.xxfi_header(ctx, name, value);
			r->rejected |= s == SMFIS_REJECT;
			if (r->pf1 & SMFIP_NR_HDR)
				ck_assert_int_eq(s, SMFIS_NOREPLY);
			else if (stops(s))
				return false;
			ck_assert_msg(s != SMFIS_NOREPLY || (r->pf1 &
			    SMFIP_NR_HDR), "NOREPLY without SMFIP_NR_HDR");
			have = false;
		}
		if (n == 0 || eol == NULL)
			break;
		if (p[0] == ' ' || p[0] == '\t') {
			if (have && vlen + n + 2 < sizeof(value)) {
				memcpy(value + vlen, "\r\n", 2);
				memcpy(value + vlen + 2, p, n);
				vlen += n + 2;
			}
		} else if ((colon = memchr(p, ':', n)) != NULL &&
		    (size_t)(colon - p) < sizeof(name)) {
			memcpy(name, p, (size_t)(colon - p));
			name[colon - p] = '\0';
			colon++;
			if (!(r->pf1 & SMFIP_HDR_LEADSPC) && colon < p + n &&
			    *colon == ' ')
				colon++;
			vlen = (size_t)(p + n - colon);
			if (vlen >= sizeof(value))
				vlen = sizeof(value) - 1;
			memcpy(value, colon, vlen);
			have = true;
		}
		p = eol + 1;
	}
	s = fake_desc.xxfi_eoh(ctx);
	ck_assert_msg(!(r->pf1 & SMFIP_NR_EOH) || s == SMFIS_NOREPLY,
	    "EOH: got %d with SMFIP_NR_EOH, want NOREPLY", s);
	if (stops(s))
		return false;
	p = eol ? eol + 1 : end;
	while (p < end) {
		n = (size_t)(end - p) > 65535 ? 65535 : (size_t)(end - p);
		s = fake_desc.xxfi_body(ctx, (unsigned char *)p, n);
		r->rejected |= s == SMFIS_REJECT;
		ck_assert_msg(s != SMFIS_NOREPLY || (r->pf1 & SMFIP_NR_BODY),
		    "NOREPLY without SMFIP_NR_BODY");
		/* a reply the MTA does not wait for would answer EOM */
		ck_assert_msg(!(r->pf1 & SMFIP_NR_BODY) || s == SMFIS_NOREPLY,
		    "BODY: got %d with SMFIP_NR_BODY, want NOREPLY", s);
		if (s == SMFIS_SKIP) {
			ck_assert_msg(r->pf1 & SMFIP_SKIP,
			    "SKIP not negotiated");
			r->skips++;
			break;
		}
		if (stops(s))
			return false;
		p += n;
	}
	return true;
}

/* A message up to its end, not included; false: the milter stopped it. */
static bool
drive_body(SMFICTX *ctx, struct run *r, const char *sender,
    const char *const *rcpts, const char *msg, size_t len)
{
	char	*argv[2];
	size_t	 i;

	r->reached_eom = false;
	argv[0] = (char *)sender;
	argv[1] = NULL;
	r->last = r->from = fake_desc.xxfi_envfrom(ctx, argv);
	r->rejected |= r->from == SMFIS_REJECT;
	if (stops(r->from))
		return false;
	if (!(r->pf1 & SMFIP_NORCPT))
		for (i = 0; rcpts[i] != NULL && i < 8; i++) {
			argv[0] = (char *)rcpts[i];
			r->rcpt[i] = fake_desc.xxfi_envrcpt(ctx, argv);
			r->rejected |= r->rcpt[i] == SMFIS_REJECT;
			ck_assert_msg(!(r->pf1 & SMFIP_NR_RCPT) ||
			    r->rcpt[i] == SMFIS_NOREPLY, "RCPT: got %d with "
			    "SMFIP_NR_RCPT, want NOREPLY", r->rcpt[i]);
		}
	if (!(r->pf1 & SMFIP_NODATA)) {
		r->last = r->data = fake_desc.xxfi_data(ctx);
		ck_assert_msg(!(r->pf1 & SMFIP_NR_DATA) ||
		    r->data == SMFIS_NOREPLY, "DATA: got %d with "
		    "SMFIP_NR_DATA, want NOREPLY", r->data);
		if (stops(r->data))
			return false;
	}
	return feed_message(ctx, r, msg, len);
}

/* One message on an already negotiated connection. */
static void
drive(SMFICTX *ctx, struct run *r, const char *sender,
    const char *const *rcpts, const char *msg, size_t len)
{
	if (!drive_body(ctx, r, sender, rcpts, msg, len))
		return;
	r->last = r->eom = fake_desc.xxfi_eom(ctx);
	r->rejected |= r->eom == SMFIS_REJECT;
	r->reached_eom = true;
}

/* A new connection, negotiated with everything offered. */
static void
conn_open(SMFICTX *ctx, struct run *r)
{
	fake_ctx_init(ctx);
	memset(r, 0, sizeof(*r));
	negotiate(ctx, r);
}

/* Close the connection: its context must be gone; forget the fake. */
static void
conn_end(SMFICTX *ctx)
{
	(void)fake_desc.xxfi_close(ctx);
	ck_assert_ptr_null(ctx->priv);
	fake_ctx_free(ctx);
}

/* Connect, negotiate, one message: the Postfix internal path. */
static void
one_dsn(SMFICTX *ctx, struct run *r, const char *sender, const char *file)
{
	static const char *const rcpts[] = { "alice@sender.test", NULL };
	size_t	 len;
	char	*msg = fixture(file, &len);

	conn_open(ctx, r);
	fake_set_macro(ctx, "i", "CA2EBA7626A");
	drive(ctx, r, sender, rcpts, msg, len);
	free(msg);
}

/* One whole connection delivering fixture file as Postfix's own DSN. */
static void
record_fixture(const char *file)
{
	SMFICTX		 ctx;
	struct run	 r;

	one_dsn(&ctx, &r, "", file);
	ck_assert_msg(r.reached_eom, "%s: stopped with %d", file, r.last);
	conn_end(&ctx);
}

static void
want_state(const char *addr, const char *state)
{
	struct store_recipient	 rec;
	enum bd_status		 s;

	s = store_lookup(store, addr, &rec);
	ck_assert_msg(s == BD_OK, "lookup %s: got %s, want success", addr,
	    bd_strerror(s));
	ck_assert_msg(strcmp(rec.state, state) == 0,
	    "state of %s: got %s, want %s", addr, rec.state, state);
}

static int
source_cb(void *arg, const struct store_event_row *e)
{
	(void)snprintf(arg, 32, "%s", e->source ? e->source : "");
	return 0;
}

START_TEST(test_milter_ordinary_accepted_at_mail)
{
	SMFICTX		 ctx;
	struct run	 r;
	static const char *const rcpts[] = { "bob@remote.test", NULL };

	use_conf("");
	conn_open(&ctx, &r);
	ck_assert_msg((r.pf1 & (SMFIP_NORCPT | SMFIP_NODATA |
	    SMFIP_NOCONNECT | SMFIP_NOHELO)) == (SMFIP_NORCPT | SMFIP_NODATA |
	    SMFIP_NOCONNECT | SMFIP_NOHELO),
	    "got protocol 0x%lx, want NOCONNECT|NOHELO|NORCPT|NODATA", r.pf1);
	ck_assert_msg((r.pf0 & SMFIF_ADDHDRS) == 0,
	    "got ADDHDRS, want none in continue mode");
	ck_assert_str_eq(ctx.symlist[SMFIM_EOM], "i");
	drive(&ctx, &r, "<alice@sender.test>", rcpts, "X: y\r\n\r\nhi\r\n",
	    13);
	ck_assert_msg(r.from == SMFIS_ACCEPT, "MAIL FROM: got %d, want "
	    "ACCEPT (%d)", r.from, SMFIS_ACCEPT);
	conn_end(&ctx);
}
END_TEST

START_TEST(test_milter_ordinary_accepted_at_data_with_patterns)
{
	SMFICTX		 ctx;
	struct run	 r;
	static const char *const rcpts[] = { "bob@remote.test",
	    "carol@example.com", NULL };

	use_conf("BounceAddresses bounces+*@example.com\n");
	conn_open(&ctx, &r);
	ck_assert_msg(!(r.pf1 & SMFIP_NORCPT), "RCPT negotiated away");
	drive(&ctx, &r, "<alice@sender.test>", rcpts, "X: y\r\n\r\nhi\r\n",
	    13);
	ck_assert_int_eq(r.from, SMFIS_CONTINUE);
	ck_assert_msg(r.data == SMFIS_ACCEPT, "DATA: got %d, want ACCEPT",
	    r.data);
	ck_assert(!r.reached_eom);
	conn_end(&ctx);
}
END_TEST

START_TEST(test_milter_postfix_dsn_recorded)
{
	SMFICTX		 ctx;
	struct run	 r;
	char		 src[32] = "";

	use_conf("");
	one_dsn(&ctx, &r, "", "postfix-failed-5xx.eml");
	ck_assert_msg(r.reached_eom, "stopped early with %d", r.last);
	ck_assert_msg(r.eom == SMFIS_CONTINUE, "EOM: got %d, want CONTINUE",
	    r.eom);
	ck_assert_msg(ctx.nhdrs == 0, "got %zu headers, want 0", ctx.nhdrs);
	want_state("bob@remote.test", "suppressed");
	ck_assert_int_eq(store_history(store, "bob@remote.test", source_cb,
	    src), BD_OK);
	ck_assert_msg(strcmp(src, "dsn-internal") == 0,
	    "source: got %s, want dsn-internal", src);
	conn_end(&ctx);
}
END_TEST

START_TEST(test_milter_remote_dsn_source)
{
	SMFICTX		 ctx;
	struct run	 r;
	static const char *const rcpts[] = { "alice@sender.test", NULL };
	char		 src[32] = "";
	size_t		 len;
	char		*msg = fixture("postfix-failed-5xx.eml", &len);

	use_conf("");
	conn_open(&ctx, &r);
	fake_set_macro(&ctx, "{client_addr}", "192.0.2.7");
	drive(&ctx, &r, "<>", rcpts, msg, len);
	ck_assert_int_eq(r.eom, SMFIS_CONTINUE);
	ck_assert_int_eq(store_history(store, "bob@remote.test", source_cb,
	    src), BD_OK);
	ck_assert_msg(strcmp(src, "dsn-remote") == 0,
	    "source: got %s, want dsn-remote", src);
	free(msg);
	conn_end(&ctx);
}
END_TEST

START_TEST(test_milter_two_recipients_recorded)
{
	SMFICTX		 ctx;
	struct run	 r;

	use_conf("");
	one_dsn(&ctx, &r, "", "postfix-failed-5xx-2rcpt-envid-hdrs.eml");
	ck_assert_int_eq(r.eom, SMFIS_CONTINUE);
	want_state("bob@remote.test", "suppressed");
	want_state("carol@remote.test", "suppressed");
	conn_end(&ctx);
}
END_TEST

START_TEST(test_milter_redelivery_is_idempotent)
{
	SMFICTX		 ctx;
	struct run	 r;
	int		 i;

	use_conf("");
	for (i = 0; i < 2; i++) {
		one_dsn(&ctx, &r, "", "postfix-failed-5xx.eml");
		ck_assert_int_eq(r.eom, SMFIS_CONTINUE);
		conn_end(&ctx);
	}
	want_state("bob@remote.test", "suppressed");
}
END_TEST

START_TEST(test_milter_store_failure_tempfails)
{
	SMFICTX		 ctx;
	struct run	 r;
	struct store	*ro;
	char		 err[256];

	/* A read-only handle makes store_record fail. */
	ck_assert_int_eq(store_open(dbpath, STORE_RDONLY, 100, &ro, err,
	    sizeof(err)), BD_OK);
	use_conf("");
	milter_init(milter_current_config(), ro);
	one_dsn(&ctx, &r, "", "postfix-failed-5xx.eml");
	ck_assert_msg(r.eom == SMFIS_TEMPFAIL, "EOM: got %d, want TEMPFAIL",
	    r.eom);
	conn_end(&ctx);

	use_conf("OnError accept\nBounceAction discard\n");
	milter_init(milter_current_config(), ro);
	one_dsn(&ctx, &r, "", "postfix-failed-5xx.eml");
	ck_assert_msg(r.eom == SMFIS_CONTINUE, "EOM, OnError accept: got %d, "
	    "want CONTINUE (never discard what was not recorded)", r.eom);
	conn_end(&ctx);
	milter_fini();
	store_close(ro);
}
END_TEST

START_TEST(test_milter_discard_action)
{
	SMFICTX		 ctx;
	struct run	 r;

	use_conf("BounceAction discard\n");
	one_dsn(&ctx, &r, "", "postfix-failed-5xx.eml");
	ck_assert_msg(r.eom == SMFIS_DISCARD, "EOM: got %d, want DISCARD",
	    r.eom);
	want_state("bob@remote.test", "suppressed");
	conn_end(&ctx);
}
END_TEST

START_TEST(test_milter_headers_action)
{
	SMFICTX		 ctx;
	struct run	 r;
	const char	*v;

	use_conf("BounceAction headers\n");
	one_dsn(&ctx, &r, "", "postfix-failed-5xx-2rcpt-envid-hdrs.eml");
	ck_assert_msg(r.pf0 & SMFIF_ADDHDRS, "ADDHDRS not negotiated");
	ck_assert_int_eq(r.eom, SMFIS_CONTINUE);
	/* SMFIP_HDR_LEADSPC was negotiated: values carry the space. */
	v = fake_header(&ctx, "X-Bounce-Recipient", 0);
	ck_assert_msg(v && strcmp(v, " bob@remote.test") == 0,
	    "X-Bounce-Recipient: got \"%s\", want \" bob@remote.test\"",
	    v ? v : "(none)");
	v = fake_header(&ctx, "X-Bounce-Recipient", 1);
	ck_assert_msg(v && strcmp(v, " carol@remote.test") == 0,
	    "2nd X-Bounce-Recipient: got \"%s\"", v ? v : "(none)");
	v = fake_header(&ctx, "X-Bounce-Status", 0);
	ck_assert_msg(v && strcmp(v, " 5.1.1") == 0,
	    "X-Bounce-Status: got \"%s\", want \" 5.1.1\"", v ? v : "(none)");
	v = fake_header(&ctx, "X-Bounce-Hard", 0);
	ck_assert_msg(v && strcmp(v, " yes") == 0,
	    "X-Bounce-Hard: got \"%s\", want \" yes\"", v ? v : "(none)");
	ck_assert_ptr_nonnull(fake_header(&ctx, "X-Bounce-Reason", 0));
	conn_end(&ctx);
}
END_TEST

START_TEST(test_milter_not_a_bounce_passes)
{
	SMFICTX		 ctx;
	struct run	 r;
	static const char *const rcpts[] = { "alice@sender.test", NULL };
	static const char msg[] = "Subject: hello\r\nFrom: a@b.test\r\n\r\n"
	    "Just a note, nothing failed.\r\n";
	struct store_recipient rec;

	use_conf("BounceAction discard\n");
	conn_open(&ctx, &r);
	drive(&ctx, &r, "<>", rcpts, msg, sizeof(msg) - 1);
	ck_assert_msg(r.eom == SMFIS_CONTINUE, "EOM: got %d, want CONTINUE",
	    r.eom);
	ck_assert_int_eq(store_lookup(store, "alice@sender.test", &rec),
	    BD_ENOTFOUND);
	conn_end(&ctx);
}
END_TEST

START_TEST(test_milter_verp_recipient_is_bounce)
{
	SMFICTX		 ctx;
	struct run	 r;
	static const char *const rcpts[] = { "Bounces+bob=remote.test@"
	    "Example.COM", NULL };
	size_t		 len;
	char		*msg = fixture("postfix-failed-5xx.eml", &len);

	use_conf("BounceAddresses bounces+*@example.com\n");
	conn_open(&ctx, &r);
	drive(&ctx, &r, "<mailer-daemon@remote.test>", rcpts, msg, len);
	ck_assert_msg(r.data == SMFIS_CONTINUE, "DATA: got %d, want CONTINUE",
	    r.data);
	ck_assert_int_eq(r.eom, SMFIS_CONTINUE);
	want_state("bob@remote.test", "suppressed");
	free(msg);
	conn_end(&ctx);
}
END_TEST

START_TEST(test_milter_big_message_skipped_and_parsed)
{
	SMFICTX		 ctx;
	struct run	 r;
	static const char *const rcpts[] = { "alice@sender.test", NULL };
	struct buf	 b;
	size_t		 len, i;
	char		*msg = fixture("postfix-failed-5xx.eml", &len);

	buf_init(&b, 0);
	ck_assert_int_eq(buf_append(&b, msg, len), BD_OK);
	for (i = 0; i < 200; i++)	/* 200 kB of junk after the DSN */
		ck_assert_int_eq(buf_printf(&b, "%01000d\r\n", 0), BD_OK);
	/*
	 * By default the body chunks need no reply (SMFIP_NR_BODY: one
	 * round trip less a bounce), so nothing can be skipped: the rest
	 * comes and is ignored.
	 */
	use_conf("MaxMessageBytes 8k\n");
	conn_open(&ctx, &r);
	ck_assert(r.pf1 & SMFIP_NR_BODY);
	drive(&ctx, &r, "", rcpts, b.data, b.len);
	ck_assert_msg(r.skips == 0, "got %d SKIPs, want 0", r.skips);
	ck_assert_int_eq(r.eom, SMFIS_CONTINUE);
	want_state("bob@remote.test", "suppressed");
	conn_end(&ctx);
	/* SuppressedRecipients tag reads ordinary mail's bodies: SKIP */
	use_conf("MaxMessageBytes 8k\nSuppressedRecipients tag\n");
	conn_open(&ctx, &r);
	ck_assert(!(r.pf1 & SMFIP_NR_BODY));
	drive(&ctx, &r, "", rcpts, b.data, b.len);
	ck_assert_msg(r.skips == 1, "got %d SKIPs, want 1", r.skips);
	ck_assert_int_eq(r.eom, SMFIS_CONTINUE);
	want_state("bob@remote.test", "suppressed");
	buf_free(&b);
	free(msg);
	conn_end(&ctx);
}
END_TEST

/* Every fixture, every action, working or failing store: no REJECT. */
START_TEST(test_milter_never_rejects_a_bounce)
{
	static const char *const confs[] = { "", "BounceAction headers\n",
	    "BounceAction discard\n", "OnError accept\n",
	    "SuppressedRecipients reject\n" };
	DIR		*d;
	struct dirent	*de;
	SMFICTX		 ctx;
	struct run	 r;
	size_t		 i;
	int		 n = 0;

	ck_assert_ptr_nonnull(d = opendir(fixdir));
	while ((de = readdir(d)) != NULL) {
		if (strstr(de->d_name, ".eml") == NULL)
			continue;
		for (i = 0; i < sizeof(confs) / sizeof(confs[0]); i++) {
			use_conf(confs[i]);
			one_dsn(&ctx, &r, i % 2 ? "<>" : "", de->d_name);
			ck_assert_msg(!r.rejected, "%s with \"%s\": REJECT",
			    de->d_name, confs[i]);
			ck_assert_msg(r.reached_eom, "%s: stopped with %d",
			    de->d_name, r.last);
			conn_end(&ctx);
			n++;
		}
	}
	closedir(d);
	ck_assert_msg(n >= 30, "got %d runs, want >= 30", n);
}
END_TEST

/*
 * The value of one sample line of bounced's process metrics ("name" or
 * "name{label=\"v\"}", exactly as written), read from what
 * metrics_write_process() writes; -1 if absent.
 */
static double
metric(const char *sample)
{
	char	*text = NULL, *line, *save = NULL;
	size_t	 len = 0, n = strlen(sample);
	double	 v = -1;
	FILE	*fp;

	fp = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(fp);
	metrics_write_process(fp);
	ck_assert_int_eq(fclose(fp), 0);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, sample, n) == 0 && line[n] == ' ')
			v = strtod(line + n + 1, NULL);
	free(text);
	return v;
}

START_TEST(test_milter_suppressed_recipient_rejected)
{
	SMFICTX		 ctx;
	struct run	 r;
	static const char *const rcpts[] = { "carol@else.test",
	    "<bob@remote.test>", NULL };
	double		 ord, rej, act, lk;

	use_conf("SuppressedRecipients reject\n");
	record_fixture("postfix-failed-5xx.eml");
	want_state("bob@remote.test", "suppressed");

	log_set_debug(true);
	n_logged = 0;
	ord = metric("bounced_ordinary_messages_total");
	rej = metric("bounced_rcpt_lookups_total{answer=\"rejected\"}");
	act = metric("bounced_rcpt_lookups_total{answer=\"active\"}");
	lk = metric("bounced_rcpt_lookup_seconds_count");
	conn_open(&ctx, &r);
	drive(&ctx, &r, "<alice@sender.test>", rcpts, "X: y\r\n\r\nhi\r\n",
	    13);
	log_set_debug(false);
	/* the metrics count the message and each recipient's answer */
	ck_assert(metric("bounced_ordinary_messages_total") == ord + 1);
	ck_assert(metric("bounced_rcpt_lookups_total{answer=\"rejected\"}") ==
	    rej + 1);
	ck_assert(metric("bounced_rcpt_lookups_total{answer=\"active\"}") ==
	    act + 1);
	ck_assert(metric("bounced_rcpt_lookup_seconds_count") == lk + 2);
	ck_assert(metric("bounced_rcpt_lookup_seconds_bucket{le=\"+Inf\"}") ==
	    lk + 2);
	ck_assert_msg(r.rcpt[0] == SMFIS_CONTINUE, "RCPT 1: got %d, want "
	    "CONTINUE", r.rcpt[0]);
	ck_assert_msg(r.rcpt[1] == SMFIS_REJECT, "RCPT 2: got %d, want "
	    "REJECT", r.rcpt[1]);
	ck_assert_str_eq(ctx.reply[0], "550");
	ck_assert_str_eq(ctx.reply[1], "5.1.1");
	ck_assert_str_eq(ctx.reply[2], "recipient address suppressed");
	ck_assert_int_eq(r.data, SMFIS_ACCEPT);
	/* the RCPT argument's brackets are not doubled in the log */
	ck_assert_msg(count_logged(LOG_DEBUG, "suppressed rcpt=<bob@remote."
	    "test> reason=hard action=reject") == 1 &&
	    count_logged(-1, "<<") == 0, "got %d lines, \"%s\" first, want "
	    "one \"suppressed rcpt=<bob@remote.test> ...\"", n_logged,
	    n_logged > 0 ? logged[0].text : "");
	conn_end(&ctx);
}
END_TEST

START_TEST(test_milter_suppressed_recipient_tagged)
{
	SMFICTX		 ctx;
	struct run	 r;
	static const char *const rcpts[] = { "<bob@REMOTE.test>", NULL };
	const char	*v;
	double		 ord, tag;

	use_conf("SuppressedRecipients tag\n");
	record_fixture("postfix-failed-5xx.eml");

	ord = metric("bounced_ordinary_messages_total");
	tag = metric("bounced_rcpt_lookups_total{answer=\"tagged\"}");
	conn_open(&ctx, &r);
	drive(&ctx, &r, "<alice@sender.test>", rcpts, "X: y\r\n\r\nhi\r\n",
	    13);
	/* accepted at end of message (its header added): counted once */
	ck_assert(metric("bounced_ordinary_messages_total") == ord + 1);
	ck_assert(metric("bounced_rcpt_lookups_total{answer=\"tagged\"}") ==
	    tag + 1);
	ck_assert_int_eq(r.rcpt[0], SMFIS_CONTINUE);
	ck_assert_int_eq(r.eom, SMFIS_CONTINUE);
	v = fake_header(&ctx, "X-Bounce-Suppressed", 0);
	ck_assert_msg(v && strcmp(v, " bob@remote.test") == 0,
	    "X-Bounce-Suppressed: got \"%s\"", v ? v : "(none)");
	conn_end(&ctx);
}
END_TEST

START_TEST(test_milter_connection_keeps_its_snapshot)
{
	SMFICTX			 ctx;
	struct run		 r;
	static const char *const rcpts[] = { "alice@sender.test", NULL };
	struct bd_config	*c;
	char			 err[256];
	size_t			 len;
	char			*msg = fixture("postfix-failed-5xx.eml", &len);

	use_conf("");
	conn_open(&ctx, &r);
	ck_assert_int_eq(config_parse("new.conf", "BounceAction discard\n",
	    21, &c, err, sizeof(err)), BD_OK);
	milter_swap_config(c);
	drive(&ctx, &r, "", rcpts, msg, len);
	ck_assert_msg(r.eom == SMFIS_CONTINUE, "old connection: got %d, want "
	    "CONTINUE from its own snapshot", r.eom);
	conn_end(&ctx);

	conn_open(&ctx, &r);
	drive(&ctx, &r, "", rcpts, msg, len);
	ck_assert_msg(r.eom == SMFIS_DISCARD, "new connection: got %d, want "
	    "DISCARD", r.eom);
	conn_end(&ctx);
	free(msg);
}
END_TEST

START_TEST(test_milter_abort_frees_message)
{
	SMFICTX		 ctx;
	struct run	 r;
	char		*argv[] = { (char *)"", NULL };

	use_conf("");
	conn_open(&ctx, &r);
	ck_assert_int_eq(fake_desc.xxfi_envfrom(&ctx, argv), SMFIS_CONTINUE);
	ck_assert_int_eq(fake_desc.xxfi_abort(&ctx), SMFIS_CONTINUE);
	/* A second message on the same connection starts clean. */
	argv[0] = (char *)"<a@b.test>";
	ck_assert_int_eq(fake_desc.xxfi_envfrom(&ctx, argv), SMFIS_ACCEPT);
	conn_end(&ctx);
}
END_TEST

/* The fixture with X-Bounce-* fields of its own in front. */
static char *
forged_dsn(size_t *len)
{
	static const char head[] = "X-Bounce-Recipient: evil@forged.test\r\n"
	    "x-bounce-HARD: no\r\n"
	    "X-Bounces-To: list@forged.test\r\n"
	    "X-BOUNCE-recipient: evil2@forged.test\r\n";
	struct buf	 b;
	size_t		 n;
	char		*msg = fixture("postfix-failed-5xx.eml", &n);

	buf_init(&b, 0);
	ck_assert_int_eq(buf_puts(&b, head), BD_OK);
	ck_assert_int_eq(buf_append(&b, msg, n), BD_OK);
	free(msg);
	*len = b.len;
	return buf_steal(&b);
}

static int
chg_find(const SMFICTX *ctx, const char *name, int idx)
{
	size_t	 i;

	for (i = 0; i < ctx->nchgs; i++)
		if (strcasecmp(ctx->chg_name[i], name) == 0 &&
		    ctx->chg_idx[i] == idx && ctx->chg_value[i] == NULL)
			return (int)i;
	return -1;
}

START_TEST(test_milter_headers_removes_forged)
{
	SMFICTX		 ctx;
	struct run	 r;
	static const char *const rcpts[] = { "alice@sender.test", NULL };
	size_t		 len, i, k;
	char		*msg = forged_dsn(&len);
	int		 a, b;
	const char	*v;

	use_conf("BounceAction headers\n");
	conn_open(&ctx, &r);
	ck_assert_msg(r.pf0 & SMFIF_CHGHDRS, "got actions 0x%lx, want "
	    "CHGHDRS in headers mode", r.pf0);
	drive(&ctx, &r, "", rcpts, msg, len);
	ck_assert_int_eq(r.eom, SMFIS_CONTINUE);
	ck_assert_msg(ctx.nchgs == 3, "got %zu deletions, want 3", ctx.nchgs);
	/* Both X-Bounce-Recipient fields, the later one first. */
	a = chg_find(&ctx, "X-Bounce-Recipient", 2);
	b = chg_find(&ctx, "X-Bounce-Recipient", 1);
	ck_assert_msg(a >= 0 && b >= 0 && a < b, "X-Bounce-Recipient: got "
	    "deletions at %d and %d, want index 2 then index 1", a, b);
	ck_assert_msg(chg_find(&ctx, "X-Bounce-Hard", 1) >= 0,
	    "x-bounce-HARD not removed");
	ck_assert_msg(chg_find(&ctx, "X-Bounces-To", 1) < 0,
	    "X-Bounces-To removed, want it kept");
	/* Every removal comes before our own fields are added. */
	ck_assert_msg(ctx.nhdrs > 0, "got no X-Bounce-* added");
	for (i = 0; i < ctx.nchgs; i++)
		for (k = 0; k < ctx.nhdrs; k++)
			ck_assert_msg(ctx.chg_seq[i] < ctx.hdr_seq[k],
			    "deletion %zu after addition %zu", i, k);
	v = fake_header(&ctx, "X-Bounce-Recipient", 0);
	ck_assert_msg(v && strcmp(v, " bob@remote.test") == 0,
	    "X-Bounce-Recipient: got \"%s\", want \" bob@remote.test\"",
	    v ? v : "(none)");
	want_state("bob@remote.test", "suppressed");
	free(msg);
	conn_end(&ctx);
}
END_TEST

START_TEST(test_milter_forged_kept_outside_headers_mode)
{
	static const char *const confs[] = { "", "BounceAction discard\n",
	    "SuppressedRecipients tag\n" };
	SMFICTX		 ctx;
	struct run	 r;
	static const char *const rcpts[] = { "alice@sender.test", NULL };
	size_t		 len, i;
	char		*msg = forged_dsn(&len);

	for (i = 0; i < sizeof(confs) / sizeof(confs[0]); i++) {
		use_conf(confs[i]);
		conn_open(&ctx, &r);
		ck_assert_msg((r.pf0 & SMFIF_CHGHDRS) == 0, "\"%s\": got "
		    "CHGHDRS, want it only in headers mode", confs[i]);
		drive(&ctx, &r, "", rcpts, msg, len);
		ck_assert(r.reached_eom);
		ck_assert_msg(ctx.nchgs == 0, "\"%s\": got %zu deletions, "
		    "want 0", confs[i], ctx.nchgs);
		conn_end(&ctx);
	}
	free(msg);
}
END_TEST

START_TEST(test_milter_forged_removed_from_unrecorded_bounce)
{
	SMFICTX		 ctx;
	struct run	 r;
	static const char *const rcpts[] = { "alice@sender.test", NULL };
	static const char msg[] = "X-Bounce-Hard: yes\r\nSubject: hi\r\n"
	    "\r\nnothing failed\r\n";

	use_conf("BounceAction headers\n");
	conn_open(&ctx, &r);
	drive(&ctx, &r, "<>", rcpts, msg, sizeof(msg) - 1);
	ck_assert_int_eq(r.eom, SMFIS_CONTINUE);
	ck_assert_msg(ctx.nchgs == 1 && chg_find(&ctx, "X-Bounce-Hard", 1) ==
	    0, "got %zu deletions, want X-Bounce-Hard 1", ctx.nchgs);
	ck_assert_msg(ctx.nhdrs == 0, "got %zu added, want 0", ctx.nhdrs);
	conn_end(&ctx);
}
END_TEST

/* One ordinary message from alice to rcpts; r gets what was answered. */
static void
ordinary(SMFICTX *ctx, struct run *r, const char *const *rcpts)
{
	conn_open(ctx, r);
	drive(ctx, r, "<alice@sender.test>", rcpts, "X: y\r\n\r\nhi\r\n",
	    13);
	conn_end(ctx);
}

/* An ordinary message to rcpts; its first RCPT TO must be answered want. */
static void
want_rcpt(const char *const *rcpts, sfsistat want, const char *when)
{
	SMFICTX		 ctx;
	struct run	 r;

	ordinary(&ctx, &r, rcpts);
	ck_assert_msg(r.rcpt[0] == want, "%s: got %d, want %d", when,
	    r.rcpt[0], want);
}

START_TEST(test_milter_rcpt_answer_cached_for_ttl)
{
	static const char *const rcpts[] = { "bob@remote.test", NULL };

	use_conf("SuppressedRecipients reject\n");
	record_fixture("postfix-failed-5xx.eml");
	want_rcpt(rcpts, SMFIS_REJECT, "suppressed");
	/* bouncectl unsuppress: the cached answer holds for the TTL */
	testutil_manual(store, "bob@remote.test", false, NULL, clock_now);
	clock_now += RCACHE_TTL - 1;
	want_rcpt(rcpts, SMFIS_REJECT, "within the TTL (from the cache)");
	clock_now += 1;
	want_rcpt(rcpts, SMFIS_CONTINUE, "after the TTL (from the store)");
}
END_TEST

START_TEST(test_milter_rcpt_recording_refreshes_cache)
{
	static const char *const rcpts[] = { "carol@remote.test", NULL };

	use_conf("SuppressedRecipients reject\n");
	want_rcpt(rcpts, SMFIS_CONTINUE, "never seen");
	record_fixture("postfix-failed-5xx-2rcpt-envid-hdrs.eml");
	want_state("carol@remote.test", "suppressed");
	want_rcpt(rcpts, SMFIS_REJECT, "just suppressed (no stale answer)");
}
END_TEST

START_TEST(test_milter_rcpt_bounce_never_refused)
{
	SMFICTX		 ctx;
	struct run	 r;
	static const char *const rcpts[] = { "bob@remote.test", NULL };
	static const char *const senders[] = { "<>", "" };
	static const char msg[] = "Subject: x\r\n\r\nnot a DSN\r\n";
	size_t		 i;

	use_conf("SuppressedRecipients reject\n");
	record_fixture("postfix-failed-5xx.eml");
	want_state("bob@remote.test", "suppressed");
	for (i = 0; i < 2; i++) {
		conn_open(&ctx, &r);
		drive(&ctx, &r, senders[i], rcpts, msg, sizeof(msg) - 1);
		ck_assert_msg(r.rcpt[0] == SMFIS_CONTINUE && !r.rejected,
		    "bounce from \"%s\" to a suppressed address: got %d, "
		    "want CONTINUE", senders[i], r.rcpt[0]);
		ck_assert(r.reached_eom);
		ck_assert_int_eq(ctx.nreplies, 0);
		conn_end(&ctx);
	}
}
END_TEST

/* A database whose recipients table is gone: every lookup fails. */
static struct store *
broken_store(void)
{
	struct store	*bs;
	sqlite3		*db;
	char		 path[400], err[256];

	(void)snprintf(path, sizeof(path), "%s/broken.db", tmpdir);
	ck_assert_int_eq(store_open(path, 0, 100, &bs, err, sizeof(err)),
	    BD_OK);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "DROP TABLE recipients", NULL, NULL,
	    NULL), SQLITE_OK);
	sqlite3_close(db);
	return bs;
}

START_TEST(test_milter_rcpt_database_failure_accepts)
{
	SMFICTX		 ctx;
	struct run	 r;
	struct store	*bs;
	static const char *const rcpts[] = { "bob@remote.test",
	    "dave@remote.test", NULL };
	int		 i, k, n;

	use_conf("SuppressedRecipients reject\n");
	record_fixture("postfix-failed-5xx.eml");
	want_state("bob@remote.test", "suppressed");

	bs = broken_store();
	milter_set_lookup_store(bs);
	for (i = 0; i < 6; i++) {	/* in and after the back-off */
		clock_now += i % 2 ? 0 : RCACHE_BACKOFF;
		ordinary(&ctx, &r, rcpts);
		for (k = 0; k < 2; k++)
			ck_assert_msg(r.rcpt[k] == SMFIS_CONTINUE, "message %d "
			    "rcpt %d: got %d, want CONTINUE", i, k, r.rcpt[k]);
		ck_assert_msg(r.from != SMFIS_TEMPFAIL && r.data ==
		    SMFIS_ACCEPT && !r.rejected, "message %d: got from %d "
		    "data %d, want CONTINUE and ACCEPT", i, r.from, r.data);
	}
	n = count_logged(LOG_WARNING, "recipient lookup failed");
	ck_assert_msg(n == 1, "got %d warnings, want 1 per incident", n);
	/* SQLite's own words, not just "input/output error" */
	n = count_logged(LOG_WARNING, "no such table: recipients");
	ck_assert_msg(n == 1, "got %d warnings naming the missing table "
	    "(\"%s\" first), want 1", n, n_logged > 0 ? logged[0].text : "");
	/* The database answers again: enforced, and said once. */
	milter_set_lookup_store(NULL);
	clock_now += RCACHE_BACKOFF;
	ordinary(&ctx, &r, rcpts);
	ck_assert_msg(r.rcpt[0] == SMFIS_REJECT, "after recovery: got %d, "
	    "want REJECT", r.rcpt[0]);
	ordinary(&ctx, &r, rcpts);
	n = count_logged(-1, "recipient lookups work again");
	k = count_logged(LOG_WARNING, "recipient lookup failed");
	ck_assert_msg(n == 1 && k == 1, "got %d recovery lines and %d "
	    "warnings, want 1 and 1", n, k);
	store_close(bs);
}
END_TEST

/*
 * Every word after "QID: bounce" is key=value, and the line begins with
 * the queue id (STYLE.md 3.7).
 */
static void
want_bounce_line(const char *line, const char *qid)
{
	const char	*p;
	size_t		 n;

	ck_assert_msg(strncmp(line, qid, strlen(qid)) == 0 &&
	    strncmp(line + strlen(qid), ": bounce ", 9) == 0,
	    "got \"%s\", want \"%s: bounce ...\"", line, qid);
	for (p = line + strlen(qid) + 9; *p != '\0'; p += strspn(p, " ")) {
		n = strcspn(p, " ");
		ck_assert_msg(memchr(p, '=', n) != NULL, "\"%.*s\" in \"%s\": "
		    "want key=value", (int)n, p, line);
		p += n;
	}
}

/* Not enough memory for a connection (here: no snapshot yet). */
START_TEST(test_milter_no_context_never_delays_mail)
{
	SMFICTX		 ctx;
	struct run	 r;
	static const char *const rcpts[] = { "bob@remote.test", NULL };
	static const char msg[] = "Subject: x\r\n\r\nnot a DSN\r\n";
	unsigned long	 p2, p3;
	sfsistat	 s;
	char		*argv[] = { (char *)"<alice@sender.test>", NULL };

	fake_ctx_init(&ctx);
	memset(&r, 0, sizeof(r));
	s = fake_desc.xxfi_negotiate(&ctx, ALL_ACTIONS, ALL_PROTO, 0, 0,
	    &r.pf0, &r.pf1, &p2, &p3);
	ck_assert_msg(s == SMFIS_CONTINUE, "negotiate: got %d, want CONTINUE "
	    "(a refusal applies the MTA's default action to all mail)", s);
	ck_assert_msg(r.pf0 == 0 && (r.pf1 & (SMFIP_NR_HDR | SMFIP_NR_EOH |
	    SMFIP_SKIP | SMFIP_HDR_LEADSPC | SMFIP_NORCPT | SMFIP_NODATA)) ==
	    0, "got actions 0x%lx protocol 0x%lx, want neither changes nor "
	    "NR_*, SKIP or steps left out", r.pf0, r.pf1);
	ck_assert_int_eq(count_logged(LOG_ERR, "out of memory"), 1);
	s = fake_desc.xxfi_envfrom(&ctx, argv);
	ck_assert_msg(s == SMFIS_ACCEPT, "ordinary: got %d, want ACCEPT", s);
	argv[0] = (char *)"<>";
	s = fake_desc.xxfi_envfrom(&ctx, argv);
	ck_assert_msg(s == SMFIS_TEMPFAIL, "bounce: got %d, want TEMPFAIL "
	    "(the MTA keeps it)", s);
	/* Memory again: the plain protocol that was negotiated is kept. */
	use_conf("BounceAction headers\n");
	drive(&ctx, &r, "<>", rcpts, msg, sizeof(msg) - 1);
	ck_assert_msg(r.reached_eom && r.eom == SMFIS_CONTINUE, "got %d, "
	    "want CONTINUE at the end", r.last);
	ck_assert_msg(r.skips == 0 && ctx.nhdrs == 0 && ctx.nchgs == 0,
	    "got %d SKIP, %zu added, %zu changed; want none un-negotiated",
	    r.skips, ctx.nhdrs, ctx.nchgs);
	conn_end(&ctx);
}
END_TEST

/* Malformed, binary, truncated and huge bounces: no recipient in any. */
#define BIN	"Subject: \xff\xfe\r\nContent-Type: text/plain\r\n\r\n" \
		"\x00\x01\x02\xff\x00" "bounce\x00\r\n\x1b[2J"
static const struct hostile_case {
	const char	*name;
	const char	*msg;
	size_t		 len;		/* 0: strlen(msg) */
	size_t		 junk;		/* binary bytes appended */
	bool		 noskip;	/* the MTA does not offer SKIP */
	const char	*want;		/* in the log line */
} hostile_cases[] = {
	{ "report without recipients", "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; "
	    "report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\n"
	    "Content-Type: text/plain\r\n\r\nfailed\r\n--b\r\nContent-Type: "
	    "message/delivery-status\r\n\r\nReporting-MTA: dns; x.test\r\n"
	    "\r\n--b--\r\n", 0, 0, false, "why=no-recipient" },
	{ "unterminated MIME", "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; boundary="
	    "\"zz\"\r\n\r\n--zz\r\nContent-Type: message/delivery-status\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n!!!not base64 at all",
	    0, 0, false, "action=pass" },
	{ "binary bytes", BIN, sizeof(BIN) - 1, 0, false, "action=pass" },
	{ "truncated in the header", "Content-Type: multipart/report; bou",
	    0, 0, false, "action=pass" },
	{ "huge, SKIP", "Content-Type: multipart/report; boundary=\"h\"\r\n"
	    "\r\n--h\r\n", 0, 3 << 20, false, "truncated=yes" },
	{ "huge, no SKIP", "Content-Type: text/plain\r\n\r\n", 0, 3 << 20,
	    true, "truncated=yes" },
};

START_TEST(test_milter_hostile_bounce_passes_with_one_line)
{
	const struct hostile_case	*h = &hostile_cases[_i];
	SMFICTX				 ctx;
	struct run			 r;
	static const char *const	 rcpts[] = { "alice@x.test", NULL };
	struct buf			 b;
	size_t				 i;
	char				 junk[4093];

	buf_init(&b, 0);
	ck_assert_int_eq(buf_append(&b, h->msg, h->len ? h->len :
	    strlen(h->msg)), BD_OK);
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 131 % 251);	/* NUL, CR, LF, 8-bit */
	for (i = 0; i < h->junk; i += sizeof(junk))
		ck_assert_int_eq(buf_append(&b, junk, sizeof(junk)), BD_OK);
	if (h->noskip)
		offer_proto &= ~SMFIP_SKIP;
	use_conf("BounceAction discard\nMaxMessageBytes 64k\n");
	conn_open(&ctx, &r);
	fake_set_macro(&ctx, "i", "HOSTILE1");
	drive(&ctx, &r, "<>", rcpts, b.data, b.len);
	ck_assert_msg(r.reached_eom && r.eom == SMFIS_CONTINUE && !r.rejected,
	    "%s: got %d, want CONTINUE at the end (let through)", h->name,
	    r.last);
	ck_assert_msg(n_logged == 1 && logged[0].prio == LOG_INFO, "%s: got "
	    "%d lines (first at %d), want 1 at INFO", h->name, n_logged,
	    logged[0].prio);
	want_bounce_line(logged[0].text, "HOSTILE1");
	ck_assert_msg(strstr(logged[0].text, h->want) != NULL, "%s: got "
	    "\"%s\", want \"%s\" in it", h->name, logged[0].text, h->want);
	conn_end(&ctx);
	buf_free(&b);
}
END_TEST

/*
 * An ARF feedback report (RFC 5965, tests/data/dsn/007-arf.eml: abuse
 * about complainer@isp.example) sent to the feedback-loop address: it
 * is recorded as a report, never as a bounce, and suppresses with reason
 * complaint when ComplaintSuppress names its type.
 */
static const struct arf_case {
	const char	*conf;
	const char	*want_state;
	const char	*want_reason;
} arf_cases[] = {
	{ "", "suppressed", "complaint" },	/* abuse,opt-out */
	{ "ComplaintSuppress abuse\n", "suppressed", "complaint" },
	{ "ComplaintSuppress opt-out, fraud\n", "active", "" },
	{ "ComplaintSuppress\n", "active", "" },	/* off */
};

static int
class_cb(void *arg, const struct store_event_row *e)
{
	(void)snprintf(arg, 64, "%s/%s", e->class ? e->class : "",
	    e->feedback_type ? e->feedback_type : "");
	return 0;
}

START_TEST(test_milter_arf_complaint)
{
	const struct arf_case	*a = &arf_cases[_i];
	SMFICTX			 ctx;
	struct run		 r;
	struct store_recipient	 rec;
	static const char *const rcpts[] = { "fbl@example.com", NULL };
	char			 dir[1024], conf[256], cls[64] = "";
	size_t			 len;
	char			*msg;

	ck_assert(testutil_srcdir("tests/data/dsn", dir, sizeof(dir)));
	msg = testutil_read_in(dir, "007-arf.eml", &len);
	(void)snprintf(conf, sizeof(conf), "BounceAddresses fbl@example.com\n"
	    "%s", a->conf);
	use_conf(conf);
	conn_open(&ctx, &r);
	fake_set_macro(&ctx, "i", "ARF1");
	drive(&ctx, &r, "<fbl@isp.example>", rcpts, msg, len);
	ck_assert_msg(r.reached_eom && r.eom == SMFIS_CONTINUE, "\"%s\": got "
	    "%d, want CONTINUE at the end", a->conf, r.last);
	ck_assert_int_eq(store_lookup(store, "complainer@isp.example", &rec),
	    BD_OK);
	ck_assert_msg(strcmp(rec.state, a->want_state) == 0 &&
	    strcmp(rec.reason, a->want_reason) == 0, "\"%s\": got %s/%s, "
	    "want %s/%s", a->conf, rec.state, rec.reason, a->want_state,
	    a->want_reason);
	ck_assert_msg(rec.soft_count == 0 && rec.first_bounce == 0,
	    "\"%s\": got soft count %u, first bounce %lld; want 0, 0 (a "
	    "report is no bounce)", a->conf, rec.soft_count,
	    (long long)rec.first_bounce);
	ck_assert_int_eq(store_history(store, "complainer@isp.example",
	    class_cb, cls), BD_OK);
	ck_assert_msg(strcmp(cls, "feedback/abuse") == 0, "class: got %s, "
	    "want feedback/abuse", cls);
	conn_end(&ctx);
	free(msg);
}
END_TEST

/* Ordinary mail, whatever the milter did to it, is silent at INFO. */
START_TEST(test_milter_ordinary_mail_silent_at_info)
{
	static const char *const confs[] = { "SuppressedRecipients reject\n",
	    "SuppressedRecipients tag\n",
	    "BounceAddresses bounces+*@example.com\n", "" };
	static const char *const rcpts[] = { "bob@remote.test",
	    "carol@else.test", NULL };
	SMFICTX		 ctx;
	struct run	 r;
	size_t		 i;
	int		 n;

	testutil_manual(store, "bob@remote.test", true, NULL, clock_now);
	for (i = 0; i < sizeof(confs) / sizeof(confs[0]); i++) {
		use_conf(confs[i]);
		n_logged = 0;
		ordinary(&ctx, &r, rcpts);
		ck_assert_msg(i != 0 || r.rcpt[0] == SMFIS_REJECT, "got %d, "
		    "want bob refused", r.rcpt[0]);
		n = count_logged(LOG_INFO, "");
		ck_assert_msg(n == 0, "\"%s\": got %d INFO lines (\"%s\"), "
		    "want none for ordinary mail", confs[i], n,
		    logged[0].text);
	}
}
END_TEST

/* One INFO line per bounce, with the sanitised queue id first. */
START_TEST(test_milter_one_info_line_per_bounce)
{
	SMFICTX		 ctx;
	struct run	 r;
	static const char *const rcpts[] = { "alice@sender.test", NULL };
	static const char *const want[] = { "recorded=1 rcpt=<bob@remote."
	    "test> status=5.1.1 ", "recorded=0 rcpt=<bob@remote.test> " };
	size_t		 len;
	char		*msg = fixture("postfix-failed-5xx.eml", &len);
	int		 i;

	use_conf("");
	for (i = 0; i < 2; i++) {	/* new, then offered again */
		n_logged = 0;
		conn_open(&ctx, &r);
		fake_set_macro(&ctx, "i", "QU\x01OTE D");
		drive(&ctx, &r, "", rcpts, msg, len);
		ck_assert_msg(n_logged == 1 && logged[0].prio == LOG_INFO,
		    "got %d lines, want 1 at INFO", n_logged);
		want_bounce_line(logged[0].text, "QU?OTE?D");
		ck_assert_msg(strstr(logged[0].text, want[i]) != NULL &&
		    strstr(logged[0].text, " source=dsn-internal "
		    "action=continue") != NULL, "got \"%s\", want \"%s\" and "
		    "source, action", logged[0].text, want[i]);
		conn_end(&ctx);
	}
	free(msg);
}
END_TEST

/* The connection's snapshot reference is dropped on every path. */
START_TEST(test_milter_snapshot_released_on_every_path)
{
	SMFICTX			 ctx;
	struct run		 r;
	struct bd_config	*c;
	struct store		*ro;
	static const char *const rcpts[] = { "alice@sender.test", NULL };
	char			*argv[] = { (char *)"", NULL }, err[256];
	unsigned		 base;
	size_t			 len;
	char			*msg = fixture("postfix-failed-5xx.eml", &len);
	int			 path;

	use_conf("");
	c = milter_current_config();
	base = c->refs;
	ck_assert_int_eq(store_open(dbpath, STORE_RDONLY, 100, &ro, err,
	    sizeof(err)), BD_OK);
	for (path = 0; path < 5; path++) {
		conn_open(&ctx, &r);
		ck_assert_msg(c->refs == base + 1, "path %d: got %u references "
		    "in the connection, want %u", path, c->refs, base + 1);
		if (path == 1) {		/* abort */
			(void)fake_desc.xxfi_envfrom(&ctx, argv);
			(void)fake_desc.xxfi_abort(&ctx);
		} else if (path == 2) {		/* close without eom */
			ck_assert(drive_body(&ctx, &r, "", rcpts, msg, len));
		} else if (path == 3) {		/* eom, store failing */
			milter_init(config_ref(c), ro);
			drive(&ctx, &r, "", rcpts, msg, len);
			ck_assert_int_eq(r.eom, SMFIS_TEMPFAIL);
			milter_init(config_ref(c), store);
		} else if (path == 4) {		/* two messages */
			drive(&ctx, &r, "", rcpts, msg, len);
			drive(&ctx, &r, "<>", rcpts, msg, len);
			ck_assert(r.reached_eom);
		}
		conn_end(&ctx);
		ck_assert_msg(c->refs == base, "path %d: got %u references "
		    "after close, want %u", path, c->refs, base);
	}
	config_unref(c);
	milter_fini();
	store_close(ro);
	free(msg);
}
END_TEST

/* Each callback uses the SMFICTX it was given, never a stored one. */
START_TEST(test_milter_uses_only_the_callers_ctx)
{
	SMFICTX		 a, b;
	struct run	 r;
	static const char *const rcpts[] = { "alice@sender.test", NULL };
	static const char forged[] = "X-Bounce-Hard: yes\r\n";
	struct buf	 m;
	size_t		 len;
	char		*msg = fixture("postfix-failed-5xx.eml", &len);
	sfsistat	 s;

	buf_init(&m, 0);
	ck_assert_int_eq(buf_puts(&m, forged), BD_OK);
	ck_assert_int_eq(buf_append(&m, msg, len), BD_OK);
	use_conf("BounceAction headers\n");
	conn_open(&a, &r);
	ck_assert(drive_body(&a, &r, "", rcpts, m.data, m.len));
	fake_ctx_init(&b);		/* another handle, same connection */
	b.priv = a.priv;
	a.priv = NULL;
	s = fake_desc.xxfi_eom(&b);
	ck_assert_int_eq(s, SMFIS_CONTINUE);
	ck_assert_msg(a.nhdrs == 0 && a.nchgs == 0 && b.nhdrs > 0 &&
	    b.nchgs == 1, "got %zu/%zu changes on the old handle, %zu/%zu on "
	    "the caller's; want 0/0 and some/1", a.nhdrs, a.nchgs, b.nhdrs,
	    b.nchgs);
	conn_end(&b);
	fake_ctx_free(&a);
	buf_free(&m);
	free(msg);
}
END_TEST

/* ---- the trust policy (issue 10): sends, trust at EOM, prvs= ---- */

static int
trust_cb(void *arg, const struct store_event_row *e)
{
	(void)snprintf(arg, 96, "%s/%s/%s/%lld", e->trusted ? "yes" : "no",
	    e->trust_why ? e->trust_why : "-", e->class ? e->class : "-",
	    (long long)e->when);
	return 0;
}

/* What history says of the last event of addr: trusted/why/class/when */
static void
want_trust(const char *addr, const char *want)
{
	char	 got[96] = "";

	ck_assert_int_eq(store_history(store, addr, trust_cb, got), BD_OK);
	ck_assert_msg(strncmp(got, want, strlen(want)) == 0,
	    "%s: got %s, want %s...", addr, got, want);
}

/*
 * One ordinary message from alice@sender.test, with Message-ID msgid
 * and queue id qid, on a connection of its own; *at_eoh: accepted at the
 * end of its header.  What smfi_chgfrom got is copied into chgfrom.
 */
static void
send_ordinary(const char *qid, const char *rcpt, const char *msgid,
    bool *at_eoh, char *chgfrom, size_t chglen)
{
	SMFICTX		 ctx;
	struct run	 r;
	const char	*rcpts[] = { rcpt, NULL };
	char		 msg[512];
	int		 n;

	n = snprintf(msg, sizeof(msg), "From: <alice@sender.test>\r\n"
	    "To: <%s>\r\nMessage-ID: %s\r\nSubject: hi\r\n\r\nbody\r\n",
	    rcpt, msgid);
	ck_assert(n > 0 && (size_t)n < sizeof(msg));
	conn_open(&ctx, &r);
	fake_set_macro(&ctx, "i", qid);
	drive(&ctx, &r, "<alice@sender.test>", rcpts, msg, (size_t)n);
	ck_assert_msg(!r.rejected, "ordinary mail refused");
	if (at_eoh != NULL)
		*at_eoh = !r.reached_eom;
	if (chgfrom != NULL)
		(void)snprintf(chgfrom, chglen, "%s", ctx.chgfrom ?
		    ctx.chgfrom : "");
	conn_end(&ctx);
}

/* A fixture over a connection: sender "" (the non-SMTP path) or "<>". */
static void
bounce_from(const char *sender, const char *rcpt, const char *client,
    const char *file)
{
	SMFICTX		 ctx;
	struct run	 r;
	const char	*rcpts[] = { rcpt, NULL };
	size_t		 len;
	char		*msg = fixture(file, &len);

	conn_open(&ctx, &r);
	fake_set_macro(&ctx, "i", "DSN0001");
	if (client != NULL)
		fake_set_macro(&ctx, "{client_addr}", client);
	drive(&ctx, &r, sender, rcpts, msg, len);
	ck_assert_msg(r.reached_eom && r.eom == SMFIS_CONTINUE,
	    "%s: got %d, want CONTINUE at the end", file, r.last);
	free(msg);
	conn_end(&ctx);
}

START_TEST(test_milter_trust_sends_recorded_at_eoh)
{
	bool	 at_eoh = false;

	use_conf("RecordSends yes\nTrustPolicy sent\n");
	send_ordinary("D5FAEA761C6", "Bob@Remote.test",
	    "<e2e-hard-20733.22992@sender.test>", &at_eoh, NULL, 0);
	ck_assert_msg(at_eoh, "ordinary mail: want ACCEPT at end of header");
	ck_assert(milter_sync_sends());
	ck_assert_int_eq(testutil_count_rows(dbpath, "SELECT COUNT(*) FROM "
	    "sends WHERE queue_id = 'D5FAEA761C6' AND recipient = "
	    "'bob@remote.test' AND message_id = "
	    "'e2e-hard-20733.22992@sender.test' AND sender = "
	    "'alice@sender.test' AND ts = 1795457500"), 1);
	ck_assert_int_eq(count_logged(LOG_INFO, ""), 0);
	/* without RecordSends: accepted at MAIL FROM, nothing kept */
	milter_fini();
	use_conf("RecordSends no\nTrustPolicy sent\n");
	send_ordinary("AAAA1", "carol@remote.test", "<x@sender.test>", &at_eoh,
	    NULL, 0);
	ck_assert(milter_sync_sends());
	ck_assert_int_eq(testutil_count_rows(dbpath, "SELECT COUNT(*) FROM "
	    "sends WHERE queue_id = 'AAAA1'"), 0);
}
END_TEST

START_TEST(test_milter_trust_local_rcpt_not_a_send)
{
	SMFICTX		 ctx;
	struct run	 r;
	static const char *const rcpts[] = { "user@here.test", NULL };
	static const char msg[] = "Message-ID: <l@x>\r\n\r\nhi\r\n";

	use_conf("TrustPolicy sent\nRecordSends yes\n");
	conn_open(&ctx, &r);
	fake_set_macro(&ctx, "i", "LOCAL1");
	fake_set_macro(&ctx, "{rcpt_mailer}", "local");
	drive(&ctx, &r, "<someone@elsewhere.test>", rcpts, msg,
	    sizeof(msg) - 1);
	ck_assert_msg(!r.rejected && r.data == SMFIS_NOREPLY &&
	    !r.reached_eom, "mail to a local mailbox: got DATA %d, EOM "
	    "reached %d; want NOREPLY (SMFIP_NR_DATA), accepted at EOH",
	    r.data, r.reached_eom);
	conn_end(&ctx);
	ck_assert(milter_sync_sends());
	ck_assert_int_eq(testutil_count_rows(dbpath, "SELECT COUNT(*) FROM "
	    "sends"), 0);
}
END_TEST

/* Postfix's own DSN about a send the milter saw: trusted, by queue id. */
START_TEST(test_milter_trust_internal_dsn_tied)
{
	use_conf("TrustPolicy sent\n");
	send_ordinary("D5FAEA761C6", "bob@remote.test", "<other@sender.test>",
	    NULL, NULL, 0);
	n_logged = 0;
	bounce_from("", "alice@sender.test", "127.0.0.1",
	    "postfix-failed-5xx.eml");
	want_state("bob@remote.test", "suppressed");
	want_trust("bob@remote.test", "yes/send:queue-id/hard/");
	ck_assert_int_eq(count_logged(LOG_INFO, "trust=send:queue-id"), 1);
	ck_assert_int_eq(count_logged(LOG_INFO, "untrusted="), 0);
}
END_TEST

/*
 * The same DSN with nothing sent: a local user's "sendmail -f '<>'"
 * looks just so.  Kept, not acted on, dated when it came.
 */
START_TEST(test_milter_trust_untied_dsn_held)
{
	struct store_recipient	 rec;
	char			 want[64];
	const char		*senders[] = { "", "<>" };
	size_t			 i;

	use_conf("TrustPolicy sent\n");
	for (i = 0; i < 2; i++) {
		n_logged = 0;
		bounce_from(senders[i], "alice@sender.test", "192.0.2.66",
		    "postfix-failed-5xx.eml");
		ck_assert_int_eq(store_lookup(store, "bob@remote.test", &rec),
		    BD_ENOTFOUND);
		(void)snprintf(want, sizeof(want),
		    "no/no-matching-send/untrusted/%d", NOW);
		want_trust("bob@remote.test", want);
		ck_assert_int_eq(count_logged(LOG_INFO, "untrusted=1"), 1);
		ck_assert_int_eq(count_logged(LOG_INFO,
		    "trust=no-matching-send"), 1);
		ck_assert_int_eq(count_logged(LOG_INFO, "client=192.0.2.66"),
		    i == 1);
	}
	/* the same report twice: kept once, as it came first ("local") */
	ck_assert_int_eq(testutil_count_rows(dbpath, "SELECT COUNT(*) FROM "
	    "events WHERE class = 'untrusted' AND client_addr = 'local'"), 1);
	ck_assert_int_eq(testutil_count_rows(dbpath, "SELECT COUNT(*) FROM "
	    "events"), 1);
	/* TrustPolicy local trusts the first path, never the other */
	milter_fini();
	use_conf("TrustPolicy local\n");
	bounce_from("<>", "alice@sender.test", "192.0.2.66",
	    "postfix-failed-4xx-expired.eml");
	ck_assert_int_eq(store_lookup(store, "bob@remote.test", &rec),
	    BD_ENOTFOUND);
	bounce_from("", "alice@sender.test", NULL, "postfix-failed-5xx.eml");
	want_state("bob@remote.test", "suppressed");
}
END_TEST

/* A remote DSN tied by Message-ID and ENVID, one recipient each way. */
START_TEST(test_milter_trust_remote_by_msgid_and_envid)
{
	SMFICTX		 ctx;
	struct run	 r;
	static const char *const rcpts[] = { "carol@remote.test", NULL };
	static const char *const argv_env[] = { "<alice@sender.test>",
	    "SIZE=100", "ENVID=E2E+2DENVID-42", NULL };
	static const char msg[] = "Message-ID: <zzz@sender.test>\r\n\r\nx\r\n";
	char		*argv[4];

	use_conf("TrustPolicy sent\n");
	send_ordinary("Q1", "bob@remote.test",
	    "<e2e-hard-23885.12348@sender.test>",
	    NULL, NULL, 0);
	/* carol's send: another Message-ID, but the ENVID (xtext) */
	conn_open(&ctx, &r);
	fake_set_macro(&ctx, "i", "Q2");
	memcpy(argv, argv_env, sizeof(argv));
	ck_assert_int_ne(fake_desc.xxfi_envfrom(&ctx, argv), SMFIS_ACCEPT);
	argv[0] = (char *)rcpts[0];
	argv[1] = NULL;
	(void)fake_desc.xxfi_envrcpt(&ctx, argv);
	(void)fake_desc.xxfi_data(&ctx);
	ck_assert(feed_message(&ctx, &r, msg, sizeof(msg) - 1) == false);
	conn_end(&ctx);
	bounce_from("<>", "alice@sender.test", "192.0.2.7",
	    "postfix-failed-5xx-2rcpt-envid-hdrs.eml");
	want_state("bob@remote.test", "suppressed");
	want_trust("bob@remote.test", "yes/send:message-id/hard/");
	want_state("carol@remote.test", "suppressed");
	want_trust("carol@remote.test", "yes/send:envelope-id/hard/");
}
END_TEST

/* One ARF report (007-arf.eml: abuse about complainer@isp.example). */
static void
arf_from(const char *client, const char *qid)
{
	SMFICTX		 ctx;
	struct run	 r;
	static const char *const rcpts[] = { "fbl@example.com", NULL };
	char		 dir[1024];
	size_t		 len;
	char		*msg;

	ck_assert(testutil_srcdir("tests/data/dsn", dir, sizeof(dir)));
	msg = testutil_read_in(dir, "007-arf.eml", &len);
	conn_open(&ctx, &r);
	fake_set_macro(&ctx, "i", qid);
	fake_set_macro(&ctx, "{client_addr}", client);
	drive(&ctx, &r, "<fbl@isp.example>", rcpts, msg, len);
	ck_assert(r.reached_eom && r.eom == SMFIS_CONTINUE);
	conn_end(&ctx);
	free(msg);
}

/* An ARF report from FeedbackSources is trusted; from elsewhere, held. */
START_TEST(test_milter_trust_arf_source)
{
	struct store_recipient	 rec;

	use_conf("TrustPolicy sent\nBounceAddresses fbl@example.com\n"
	    "FeedbackSources 198.51.100.0/24\n");
	arf_from("203.0.113.5", "ARF1");
	ck_assert_int_eq(store_lookup(store, "complainer@isp.example", &rec),
	    BD_ENOTFOUND);
	want_trust("complainer@isp.example", "no/no-matching-send/untrusted/");
	arf_from("198.51.100.9", "ARF2");
	want_state("complainer@isp.example", "suppressed");
	want_trust("complainer@isp.example", "yes/feedback-source/feedback/");
}
END_TEST

/* From elsewhere, but about mail we sent: trusted. */
START_TEST(test_milter_trust_arf_send)
{
	struct store_recipient	 rec;

	use_conf("TrustPolicy sent\nBounceAddresses fbl@example.com\n");
	arf_from("203.0.113.5", "ARF1");
	ck_assert_int_eq(store_lookup(store, "complainer@isp.example", &rec),
	    BD_ENOTFOUND);
	send_ordinary("ORIG007", "complainer@isp.example",
	    "<orig-007@example.org>", NULL, NULL, 0);
	arf_from("203.0.113.5", "ARF2");
	want_state("complainer@isp.example", "suppressed");
	want_trust("complainer@isp.example", "yes/send:message-id/feedback/");
}
END_TEST

/* A report dated far in the future or the past: its send and now bound it. */
START_TEST(test_milter_trust_dates_bounded)
{
	struct store_recipient	 rec;
	char			 want[64];

	use_conf("TrustPolicy sent\n");
	/* the fixture says 2026-11-23 18:10; "now" is two years on */
	clock_now = NOW + 2 * 365 * 86400;
	send_ordinary("D5FAEA761C6", "bob@remote.test", "<x@sender.test>", NULL,
	    NULL, 0);
	bounce_from("", "alice@sender.test", NULL, "postfix-failed-5xx.eml");
	ck_assert_int_eq(store_lookup(store, "bob@remote.test", &rec), BD_OK);
	ck_assert_msg(rec.suppressed_since == clock_now, "since: got %lld, "
	    "want the send's date %lld", (long long)rec.suppressed_since,
	    (long long)clock_now);
	(void)snprintf(want, sizeof(want), "yes/send:queue-id/hard/%lld",
	    (long long)clock_now);
	want_trust("bob@remote.test", want);
}
END_TEST

static void
write_key(char *conf, size_t len)
{
	char	 path[400];

	(void)snprintf(path, sizeof(path), "%s/prvs.key", tmpdir);
	testutil_write_file(path, "0123456789abcdef0123\n", 21);
	ck_assert_int_eq(chmod(path, 0600), 0);
	(void)snprintf(conf, len, "TrustPolicy sent\nSignEnvelope yes\n"
	    "SignKeyFile %s\nSignSenders *@sender.test\n", path);
}

/* A snapshot with the key loaded, as bounced's main() makes it. */
static void
use_signing_conf(void)
{
	struct bd_config	*c;
	char			 conf[600], err[256];

	write_key(conf, sizeof(conf));
	c = testutil_config(conf);
	ck_assert_int_eq(config_load_key(c, err, sizeof(err)), BD_OK);
	milter_init(c, store);
}

START_TEST(test_milter_trust_sign_and_check)
{
	struct store_recipient	 rec;
	char			 from[400], bad[400];
	bool			 at_eoh = true;

	use_signing_conf();
	send_ordinary("S1", "bob@remote.test", "<s1@sender.test>", &at_eoh,
	    from,
	    sizeof(from));
	ck_assert_msg(!at_eoh, "signed mail must reach its end");
	ck_assert(milter_sync_sends());
	ck_assert_msg(strncmp(from, "<prvs=0", 7) == 0 && strcmp(from + 16,
	    "=alice@sender.test>") == 0, "chgfrom: got \"%s\"", from);
	ck_assert_int_eq(testutil_count_rows(dbpath, "SELECT COUNT(*) FROM "
	    "sends WHERE queue_id = 'S1'"), 1);
	/* a remote bounce to the signed address, about a message not kept */
	from[strlen(from) - 1] = '\0';
	bounce_from("<>", from + 1, "192.0.2.7", "postfix-failed-5xx.eml");
	want_state("bob@remote.test", "suppressed");
	want_trust("bob@remote.test", "yes/signed-return-path/hard/");
	/* a wrong tag: held, even about a message that was sent */
	(void)snprintf(bad, sizeof(bad), "%s", from + 1);
	bad[15] = bad[15] == '0' ? '1' : '0';
	send_ordinary("S2", "carol@remote.test",
	    "<e2e-hard-23885.12348@sender.test>", NULL, NULL, 0);
	bounce_from("<>", bad, "192.0.2.7",
	    "postfix-failed-5xx-2rcpt-envid-hdrs.eml");
	ck_assert_int_eq(store_lookup(store, "carol@remote.test", &rec),
	    BD_ENOTFOUND);
	want_trust("carol@remote.test", "no/bad-signature/untrusted/");
	/* an expired one */
	clock_now = NOW + 8 * 86400;
	bounce_from("<>", from + 1, "192.0.2.7",
	    "postfix-failed-4xx-expired.eml");
	want_trust("bob@remote.test", "no/expired-signature/untrusted/");
	/* another sender is left alone */
	milter_fini();
	use_signing_conf();
	{
		SMFICTX		 ctx;
		struct run	 r;
		static const char *const rcpts[] = { "bob@remote.test", NULL };
		static const char m[] = "Message-ID: <o@x>\r\n\r\nx\r\n";

		conn_open(&ctx, &r);
		fake_set_macro(&ctx, "i", "S3");
		drive(&ctx, &r, "<other@elsewhere.test>", rcpts, m,
		    sizeof(m) - 1);
		ck_assert_msg(ctx.nchgfrom == 0, "other sender: got %d "
		    "chgfrom, want 0", ctx.nchgfrom);
		conn_end(&ctx);
	}
}
END_TEST

/*
 * Sends of mail that passes during a database outage are kept in memory
 * and written before the next bounce is judged: Postfix's DSN about that
 * mail, deferred meanwhile (OnError tempfail), is trusted once the
 * database answers.  Ordinary mail is never refused for it.
 */
START_TEST(test_milter_trust_sends_kept_through_outage)
{
	struct store	*ro;
	char		 err[256];
	bool		 at_eoh = false;

	ck_assert_int_eq(store_open(dbpath, STORE_RDONLY, 100, &ro, err,
	    sizeof(err)), BD_OK);
	use_conf("TrustPolicy sent\n");
	milter_init(milter_current_config(), ro);
	send_ordinary("D5FAEA761C6", "bob@remote.test", "<x@sender.test>",
	    &at_eoh, NULL, 0);
	ck_assert_msg(at_eoh, "ordinary mail during the outage: want ACCEPT "
	    "at the end of its header");
	ck_assert(!milter_sync_sends());
	ck_assert_int_eq(count_logged(LOG_ERR, "kept in memory"), 1);
	ck_assert_int_eq(testutil_count_rows(dbpath, "SELECT COUNT(*) FROM "
	    "sends"), 0);
	milter_init(milter_current_config(), store);
	n_logged = 0;
	bounce_from("", "alice@sender.test", NULL, "postfix-failed-5xx.eml");
	want_state("bob@remote.test", "suppressed");
	want_trust("bob@remote.test", "yes/send:queue-id/hard/");
	ck_assert_int_eq(count_logged(LOG_INFO,
	    "the database takes sends again (1 written)"), 1);
	milter_fini();
	store_close(ro);
}
END_TEST

/* The writer thread writes the sends on its own, within a moment. */
START_TEST(test_milter_trust_sends_written_by_writer)
{
	long long	 n = 0;
	int		 i;

	use_conf("TrustPolicy sent\n");
	send_ordinary("W1", "bob@remote.test", "<w1@sender.test>", NULL,
	    NULL, 0);
	send_ordinary("W2", "carol@remote.test", "<w2@sender.test>", NULL,
	    NULL, 0);
	for (i = 0; i < 200 && n != 2; i++) {
		usleep(10000);
		n = testutil_count_rows(dbpath, "SELECT COUNT(*) FROM sends "
		    "WHERE queue_id IN ('W1', 'W2')");
	}
	ck_assert_msg(n == 2, "sends written after %d ms: got %lld, want 2",
	    i * 10, n);
	/* and what is still queued at the end is written by milter_fini */
	send_ordinary("W3", "dave@remote.test", "<w3@sender.test>", NULL,
	    NULL, 0);
	milter_fini();
	ck_assert_int_eq(testutil_count_rows(dbpath, "SELECT COUNT(*) FROM "
	    "sends WHERE queue_id = 'W3'"), 1);
}
END_TEST

static Suite *
milter_suite(bool fixtures)
{
	Suite	*s = suite_create("milter");
	TCase	*tc;

	tc = tcase_create("ordinary");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_milter_ordinary_accepted_at_mail);
	tcase_add_test(tc, test_milter_ordinary_accepted_at_data_with_patterns);
	tcase_add_test(tc, test_milter_not_a_bounce_passes);
	tcase_add_test(tc, test_milter_abort_frees_message);
	tcase_add_test(tc, test_milter_no_context_never_delays_mail);
	TESTUTIL_LOOP(tc, test_milter_hostile_bounce_passes_with_one_line,
	    hostile_cases);
	TESTUTIL_LOOP(tc, test_milter_arf_complaint, arf_cases);
	suite_add_tcase(s, tc);
	if (!fixtures)
		return s;
	tc = tcase_create("bounces");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_milter_postfix_dsn_recorded);
	tcase_add_test(tc, test_milter_remote_dsn_source);
	tcase_add_test(tc, test_milter_two_recipients_recorded);
	tcase_add_test(tc, test_milter_redelivery_is_idempotent);
	tcase_add_test(tc, test_milter_store_failure_tempfails);
	tcase_add_test(tc, test_milter_discard_action);
	tcase_add_test(tc, test_milter_headers_action);
	tcase_add_test(tc, test_milter_verp_recipient_is_bounce);
	tcase_add_test(tc, test_milter_big_message_skipped_and_parsed);
	tcase_add_test(tc, test_milter_never_rejects_a_bounce);
	tcase_add_test(tc, test_milter_connection_keeps_its_snapshot);
	tcase_add_test(tc, test_milter_headers_removes_forged);
	tcase_add_test(tc, test_milter_forged_kept_outside_headers_mode);
	tcase_add_test(tc, test_milter_forged_removed_from_unrecorded_bounce);
	tcase_add_test(tc, test_milter_one_info_line_per_bounce);
	tcase_add_test(tc, test_milter_snapshot_released_on_every_path);
	tcase_add_test(tc, test_milter_uses_only_the_callers_ctx);
	suite_add_tcase(s, tc);
	tc = tcase_create("recipients");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_milter_suppressed_recipient_rejected);
	tcase_add_test(tc, test_milter_suppressed_recipient_tagged);
	tcase_add_test(tc, test_milter_rcpt_answer_cached_for_ttl);
	tcase_add_test(tc, test_milter_rcpt_recording_refreshes_cache);
	tcase_add_test(tc, test_milter_rcpt_bounce_never_refused);
	tcase_add_test(tc, test_milter_rcpt_database_failure_accepts);
	tcase_add_test(tc, test_milter_ordinary_mail_silent_at_info);
	suite_add_tcase(s, tc);
	tc = tcase_create("trust");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_milter_trust_sends_recorded_at_eoh);
	tcase_add_test(tc, test_milter_trust_local_rcpt_not_a_send);
	tcase_add_test(tc, test_milter_trust_sends_written_by_writer);
	tcase_add_test(tc, test_milter_trust_arf_source);
	tcase_add_test(tc, test_milter_trust_arf_send);
	if (fixtures) {
		tcase_add_test(tc, test_milter_trust_internal_dsn_tied);
		tcase_add_test(tc, test_milter_trust_untied_dsn_held);
		tcase_add_test(tc, test_milter_trust_remote_by_msgid_and_envid);
		tcase_add_test(tc, test_milter_trust_dates_bounded);
		tcase_add_test(tc, test_milter_trust_sign_and_check);
		tcase_add_test(tc,
		    test_milter_trust_sends_kept_through_outage);
	}
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	bool	 fixtures;
	int	 failed;

	fixtures = testutil_shared("fixtures/postfix", fixdir, sizeof(fixdir));
	if (!fixtures)
		fprintf(stderr, "check_milter: %s absent: fixture cases "
		    "skipped\n", fixdir);
	dsn_init();	/* once: GMime's types are registered for good */
	failed = testutil_run(milter_suite(fixtures));
	dsn_shutdown();
	if (failed != 0)
		return EXIT_FAILURE;
	return fixtures ? EXIT_SUCCESS : 77;
}
