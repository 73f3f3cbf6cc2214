/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * check_engine.c - unit tests of bounced's milter engine
 * (src/bounced/engine.c) over a real unix socket: the test is the
 * MTA, writing protocol packets by hand and reading the engine's
 * answers, with callbacks that record what they were given.  What is
 * checked is what an MTA relies on: the negotiation reply and its macro
 * lists, macros and their lifetime, unanswered (NR_*) steps, replies set
 * with smfi_setreply, modifications only at the end of the message, the
 * abort and close callbacks on every way a connection ends, many
 * connections at once, and smfi_stop().  Each test runs in its own
 * process (Check's fork), so each starts its own engine.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

#include "testutil.h"

#define ALL_ACTS	0x1ffu
#define ALL_PROT	0x1fffffu

static char		 tmpdir[256], sockpath[300];
static pthread_t	 engine_thread;
static int		 engine_rc = -99;

/* What the callbacks saw; guarded by rec_lock. */
static pthread_mutex_t	 rec_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	int		 aborts, closes, eoms, bodies, headers;
	char		 from[64], from_arg[64];
	char		 mac_i[64], mac_braced_i[64], mac_j[64], mac_mailer[64];
	bool		 mailer_seen;
	char		 hname[64], hvalue[64];
	char		 body[64];
	int		 early_addheader;	/* smfi_addheader in envfrom */
	int		 reply_checks;	/* a bit for each right answer */
	unsigned long	 offered_p;
} rec;

/* How the callbacks answer; set by each test before it connects. */
static unsigned long	 want_a = SMFIF_ADDHDRS | SMFIF_CHGHDRS |
    SMFIF_CHGFROM | SMFIF_SETSYMLIST;
static unsigned long	 want_p = SMFIP_NOCONNECT | SMFIP_NOHELO;
static sfsistat		 header_answer = SMFIS_CONTINUE;
static sfsistat		 eoh_answer = SMFIS_CONTINUE;
static bool		 rcpt_sets_reply;

static void
copy(char *dst, const char *src)
{
	(void)snprintf(dst, 64, "%s", src != NULL ? src : "(null)");
}

static sfsistat
t_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *p0,
    unsigned long *p1, unsigned long *p2, unsigned long *p3)
{
	(void)f0;
	(void)f2;
	(void)f3;
	pthread_mutex_lock(&rec_lock);
	rec.offered_p = f1;
	pthread_mutex_unlock(&rec_lock);
	if (want_a & SMFIF_SETSYMLIST)
		ck_assert_int_eq(smfi_setsymlist(ctx, SMFIM_ENVFROM,
		    "i {client_addr}"), MI_SUCCESS);
	*p0 = want_a;
	*p1 = want_p;
	*p2 = *p3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat
t_envfrom(SMFICTX *ctx, char **argv)
{
	char	*m;

	pthread_mutex_lock(&rec_lock);
	copy(rec.from, argv[0]);
	copy(rec.from_arg, argv[1]);
	copy(rec.mac_i, smfi_getsymval(ctx, "i"));
	copy(rec.mac_braced_i, smfi_getsymval(ctx, "{i}"));
	copy(rec.mac_j, smfi_getsymval(ctx, "j"));
	m = smfi_getsymval(ctx, "{rcpt_mailer}");
	rec.mailer_seen = m != NULL;
	rec.early_addheader = smfi_addheader(ctx, "X-Early", "no");
	pthread_mutex_unlock(&rec_lock);
	return SMFIS_CONTINUE;
}

static sfsistat
t_envrcpt(SMFICTX *ctx, char **argv)
{
	pthread_mutex_lock(&rec_lock);
	copy(rec.mac_mailer, smfi_getsymval(ctx, "{rcpt_mailer}"));
	pthread_mutex_unlock(&rec_lock);
	if (strcmp(argv[0], "<checks@example.test>") == 0) {
		char	 ok[] = "550", bad[] = "250", x[] = "5.1.1",
		    xbad[] = "5.1", msg[] = "gone", crlf[] = "a\r\nb";
		int	 r = 0;

		r |= (smfi_setreply(ctx, ok, x, msg) == MI_SUCCESS) << 0;
		r |= (smfi_setreply(ctx, bad, x, msg) == MI_FAILURE) << 1;
		r |= (smfi_setreply(ctx, ok, xbad, msg) == MI_FAILURE) << 2;
		r |= (smfi_setreply(ctx, ok, x, crlf) == MI_FAILURE) << 3;
		r |= (smfi_setreply(ctx, ok, NULL, NULL) == MI_SUCCESS) << 4;
		pthread_mutex_lock(&rec_lock);
		rec.reply_checks = r;
		pthread_mutex_unlock(&rec_lock);
		return SMFIS_CONTINUE;	/* a reply set is kept, unused */
	}
	if (strcmp(argv[0], "<nobody@example.test>") != 0)
		return SMFIS_CONTINUE;
	if (rcpt_sets_reply)
		ck_assert_int_eq(smfi_setreply(ctx, "550", "5.1.1",
		    "no such user"), MI_SUCCESS);
	return SMFIS_REJECT;
}

static sfsistat
t_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx;
	pthread_mutex_lock(&rec_lock);
	rec.headers++;
	copy(rec.hname, name);
	copy(rec.hvalue, value);
	pthread_mutex_unlock(&rec_lock);
	return header_answer;
}

static sfsistat
t_eoh(SMFICTX *ctx)
{
	(void)ctx;
	return eoh_answer;
}

static sfsistat
t_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	(void)ctx;
	pthread_mutex_lock(&rec_lock);
	rec.bodies++;
	(void)snprintf(rec.body, sizeof(rec.body), "%.*s", (int)n,
	    (const char *)p);
	pthread_mutex_unlock(&rec_lock);
	return SMFIS_CONTINUE;
}

static sfsistat
t_eom(SMFICTX *ctx)
{
	pthread_mutex_lock(&rec_lock);
	rec.eoms++;
	pthread_mutex_unlock(&rec_lock);
	if (want_a & SMFIF_ADDHDRS)
		ck_assert_int_eq(smfi_addheader(ctx, "X-Bounce", "yes"),
		    MI_SUCCESS);
	else
		ck_assert_int_eq(smfi_addheader(ctx, "X-Bounce", "yes"),
		    MI_FAILURE);
	if (want_a & SMFIF_CHGHDRS)
		ck_assert_int_eq(smfi_chgheader(ctx, "X-Forged", 2, NULL),
		    MI_SUCCESS);
	if (want_a & SMFIF_CHGFROM)
		ck_assert_int_eq(smfi_chgfrom(ctx, "<prvs=x@s.test>", NULL),
		    MI_SUCCESS);
	return SMFIS_CONTINUE;
}

static sfsistat
t_abort(SMFICTX *ctx)
{
	(void)ctx;
	pthread_mutex_lock(&rec_lock);
	rec.aborts++;
	pthread_mutex_unlock(&rec_lock);
	return SMFIS_CONTINUE;
}

static sfsistat
t_close(SMFICTX *ctx)
{
	(void)ctx;
	pthread_mutex_lock(&rec_lock);
	rec.closes++;
	pthread_mutex_unlock(&rec_lock);
	return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
	"check_engine", SMFI_VERSION, SMFIF_ADDHDRS, NULL, NULL, t_envfrom,
	t_envrcpt, t_header, t_eoh, t_body, t_eom, t_abort, t_close, NULL,
	NULL, t_negotiate
};

static void *
engine_main(void *arg)
{
	(void)arg;
	engine_rc = smfi_main();
	return NULL;
}

static void
start_engine(void)
{
	char	 conn[320];

	(void)snprintf(conn, sizeof(conn), "unix:%s", sockpath);
	ck_assert_int_eq(smfi_setconn(conn), MI_SUCCESS);
	ck_assert_int_eq(smfi_register(desc), MI_SUCCESS);
	ck_assert_int_eq(smfi_opensocket(true), MI_SUCCESS);
	ck_assert_int_eq(pthread_create(&engine_thread, NULL, engine_main,
	    NULL), 0);
}

static void
setup(void)
{
	sigset_t	 set;

	/* as bounced: the stop signals blocked in every thread */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	(void)signal(SIGPIPE, SIG_IGN);
	testutil_tmpdir("check_engine", tmpdir, sizeof(tmpdir));
	(void)snprintf(sockpath, sizeof(sockpath), "%s/sock", tmpdir);
	memset(&rec, 0, sizeof(rec));
}

static void
teardown(void)
{
	testutil_rmtree(tmpdir);
}

/* ---- the MTA's side ---- */

static void
fill_sun(struct sockaddr_un *su)
{
	memset(su, 0, sizeof(*su));
	su->sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(sockpath), sizeof(su->sun_path));
	memcpy(su->sun_path, sockpath, strlen(sockpath));
}

static int
mta_connect(void)
{
	struct sockaddr_un	 su;
	struct timeval		 tv = { 10, 0 };
	int			 fd;

	fill_sun(&su);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&su, sizeof(su)), 0);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void
mta_send(int fd, char cmd, const void *data, size_t len)
{
	uint32_t	 n = htonl((uint32_t)len + 1);
	char		 buf[4096];

	ck_assert_uint_le(len + 5, sizeof(buf));
	memcpy(buf, &n, 4);
	buf[4] = cmd;
	if (len > 0)
		memcpy(buf + 5, data, len);
	ck_assert_int_eq(write(fd, buf, len + 5), (ssize_t)(len + 5));
}

static bool
read_n(int fd, void *p, size_t n)
{
	char	*q = p;
	ssize_t	 r;

	while (n > 0) {
		if ((r = read(fd, q, n)) <= 0)
			return false;
		q += r;
		n -= (size_t)r;
	}
	return true;
}

/* The next answer's letter (0 at the end of the connection); its data. */
static char
mta_read(int fd, char *data, size_t max, size_t *len)
{
	uint32_t	 n;
	char		 buf[4096];

	if (!read_n(fd, &n, 4))
		return 0;
	n = ntohl(n);
	ck_assert_uint_ge(n, 1);
	ck_assert_uint_le(n, sizeof(buf));
	ck_assert(read_n(fd, buf, n));
	if (data != NULL) {
		ck_assert_uint_le(n - 1, max);
		memcpy(data, buf + 1, n - 1);
	}
	if (len != NULL)
		*len = n - 1;
	return buf[0];
}

/* Negotiate as Postfix does; the answer's protocol flags. */
static uint32_t
mta_negotiate(int fd, char *rest, size_t max, size_t *restlen)
{
	uint32_t	 v[3] = { htonl(6), htonl(ALL_ACTS), htonl(ALL_PROT) };
	char		 buf[512];
	size_t		 len;

	mta_send(fd, SMFIC_OPTNEG, v, sizeof(v));
	ck_assert_int_eq(mta_read(fd, buf, sizeof(buf), &len), SMFIC_OPTNEG);
	ck_assert_uint_ge(len, 12);
	memcpy(v, buf, sizeof(v));
	ck_assert_uint_eq(ntohl(v[0]), 6);
	ck_assert_uint_eq(ntohl(v[1]), want_a);
	if (rest != NULL) {
		ck_assert_uint_le(len - 12, max);
		memcpy(rest, buf + 12, len - 12);
		*restlen = len - 12;
	}
	return ntohl(v[2]);
}

/* name NUL value NUL ..., after the letter of the command they go with */
static void
mta_macros(int fd, char cmd, const char *name, const char *value)
{
	char	 buf[256];
	size_t	 n = 0;

	buf[n++] = cmd;
	memcpy(buf + n, name, strlen(name) + 1);
	n += strlen(name) + 1;
	memcpy(buf + n, value, strlen(value) + 1);
	n += strlen(value) + 1;
	mta_send(fd, SMFIC_MACRO, buf, n);
}

static void
mta_args(int fd, char cmd, const char *a, const char *b)
{
	char	 buf[256];
	size_t	 n = strlen(a) + 1;

	memcpy(buf, a, n);
	if (b != NULL) {
		memcpy(buf + n, b, strlen(b) + 1);
		n += strlen(b) + 1;
	}
	mta_send(fd, cmd, buf, n);
}

/* Waits (bounded) for the close callbacks to reach n. */
static int
wait_closes(int n)
{
	int	 i, c = 0;

	for (i = 0; i < 500; i++) {
		pthread_mutex_lock(&rec_lock);
		c = rec.closes;
		pthread_mutex_unlock(&rec_lock);
		if (c >= n)
			break;
		(void)usleep(10000);
	}
	return c;
}

/* ---- tests ---- */

START_TEST(test_engine_negotiation)
{
	char		 rest[256];
	size_t		 len;
	uint32_t	 stage;
	int		 fd;

	want_p = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NR_HDR;
	start_engine();
	fd = mta_connect();
	ck_assert_uint_eq(mta_negotiate(fd, rest, sizeof(rest), &len),
	    want_p);
	/* the macro list of smfi_setsymlist: stage 2 (MAIL), then the list */
	ck_assert_uint_eq(len, 4 + strlen("i {client_addr}") + 1);
	memcpy(&stage, rest, 4);
	ck_assert_uint_eq(ntohl(stage), SMFIM_ENVFROM);
	ck_assert_str_eq(rest + 4, "i {client_addr}");
	ck_assert_uint_eq(rec.offered_p, ALL_PROT);
	(void)close(fd);
	ck_assert_int_eq(wait_closes(1), 1);

	/* a milter asking what the MTA does not offer: no negotiation */
	want_a = SMFIF_ADDHDRS;
	fd = mta_connect();
	{
		uint32_t	 v[3] = { htonl(6), htonl(SMFIF_CHGFROM),
		    htonl(ALL_PROT) };

		mta_send(fd, SMFIC_OPTNEG, v, sizeof(v));
	}
	ck_assert_int_eq(mta_read(fd, NULL, 0, NULL), 0);
	(void)close(fd);
}
END_TEST

START_TEST(test_engine_macros_and_args)
{
	char	 buf[64];
	int	 fd;

	start_engine();
	fd = mta_connect();
	(void)mta_negotiate(fd, NULL, 0, NULL);
	mta_macros(fd, SMFIC_CONNECT, "j", "mta.test");
	mta_macros(fd, SMFIC_MAIL, "{i}", "Q1");
	mta_args(fd, SMFIC_MAIL, "<>", "BODY=8BITMIME");
	ck_assert_int_eq(mta_read(fd, buf, sizeof(buf), NULL),
	    SMFIR_CONTINUE);
	ck_assert_str_eq(rec.from, "<>");
	ck_assert_str_eq(rec.from_arg, "BODY=8BITMIME");
	/* "i" finds "{i}"; connection macros stay through the message */
	ck_assert_str_eq(rec.mac_i, "Q1");
	ck_assert_str_eq(rec.mac_braced_i, "Q1");
	ck_assert_str_eq(rec.mac_j, "mta.test");
	/* no modifications before the end of the message */
	ck_assert_int_eq(rec.early_addheader, MI_FAILURE);

	mta_macros(fd, SMFIC_RCPT, "{rcpt_mailer}", "smtp");
	mta_args(fd, SMFIC_RCPT, "<bob@example.test>", NULL);
	ck_assert_int_eq(mta_read(fd, NULL, 0, NULL), SMFIR_CONTINUE);
	ck_assert_str_eq(rec.mac_mailer, "smtp");
	mta_send(fd, SMFIC_ABORT, NULL, 0);
	/* a new MAIL forgets the last message's RCPT macros */
	mta_args(fd, SMFIC_MAIL, "<a@example.test>", NULL);
	ck_assert_int_eq(mta_read(fd, NULL, 0, NULL), SMFIR_CONTINUE);
	ck_assert(!rec.mailer_seen);
	ck_assert_str_eq(rec.from_arg, "(null)");
	ck_assert_str_eq(rec.mac_j, "mta.test");
	ck_assert_int_eq(rec.aborts, 1);
	mta_send(fd, SMFIC_QUIT, NULL, 0);
	ck_assert_int_eq(mta_read(fd, NULL, 0, NULL), 0);
	(void)close(fd);
	ck_assert_int_eq(wait_closes(1), 1);
	/* a message in progress at QUIT is aborted once, then closed */
	ck_assert_int_eq(rec.aborts, 2);
}
END_TEST

START_TEST(test_engine_noreply_steps)
{
	int	 fd;

	want_p = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NR_HDR |
	    SMFIP_NR_BODY;
	header_answer = SMFIS_NOREPLY;
	eoh_answer = SMFIS_ACCEPT;
	start_engine();
	fd = mta_connect();
	(void)mta_negotiate(fd, NULL, 0, NULL);
	mta_args(fd, SMFIC_MAIL, "<>", NULL);
	ck_assert_int_eq(mta_read(fd, NULL, 0, NULL), SMFIR_CONTINUE);
	mta_send(fd, SMFIC_HEADER, "Subject\0 one\0", 13);
	mta_send(fd, SMFIC_HEADER, "From\0 two\0", 10);
	mta_send(fd, SMFIC_EOH, NULL, 0);
	/* the first answer after the headers is the end of header's */
	ck_assert_int_eq(mta_read(fd, NULL, 0, NULL), SMFIR_ACCEPT);
	ck_assert_int_eq(rec.headers, 2);
	ck_assert_str_eq(rec.hname, "From");
	ck_assert_str_eq(rec.hvalue, " two");
	(void)close(fd);
}
END_TEST

START_TEST(test_engine_noreply_not_negotiated_continues)
{
	int	 fd;

	want_p = SMFIP_NOCONNECT | SMFIP_NOHELO;
	header_answer = SMFIS_NOREPLY;
	start_engine();
	fd = mta_connect();
	(void)mta_negotiate(fd, NULL, 0, NULL);
	mta_send(fd, SMFIC_HEADER, "Subject\0x\0", 10);
	/* the MTA waits for an answer it did not agree to go without */
	ck_assert_int_eq(mta_read(fd, NULL, 0, NULL), SMFIR_CONTINUE);
	(void)close(fd);
}
END_TEST

START_TEST(test_engine_setreply)
{
	char	 buf[256];
	size_t	 len;
	int	 fd;

	rcpt_sets_reply = true;
	start_engine();
	fd = mta_connect();
	(void)mta_negotiate(fd, NULL, 0, NULL);
	mta_args(fd, SMFIC_MAIL, "<a@example.test>", NULL);
	ck_assert_int_eq(mta_read(fd, NULL, 0, NULL), SMFIR_CONTINUE);
	mta_args(fd, SMFIC_RCPT, "<nobody@example.test>", NULL);
	ck_assert_int_eq(mta_read(fd, buf, sizeof(buf), &len),
	    SMFIR_REPLYCODE);
	ck_assert_uint_eq(len, strlen("550 5.1.1 no such user") + 1);
	ck_assert_str_eq(buf, "550 5.1.1 no such user");
	rcpt_sets_reply = false;
	/* the reply was used up: a plain reject next */
	mta_args(fd, SMFIC_RCPT, "<nobody@example.test>", NULL);
	ck_assert_int_eq(mta_read(fd, NULL, 0, NULL), SMFIR_REJECT);
	(void)close(fd);
}
END_TEST

START_TEST(test_engine_setreply_checks)
{
	int	 fd;

	start_engine();
	fd = mta_connect();
	(void)mta_negotiate(fd, NULL, 0, NULL);
	mta_args(fd, SMFIC_MAIL, "<a@example.test>", NULL);
	ck_assert_int_eq(mta_read(fd, NULL, 0, NULL), SMFIR_CONTINUE);
	/* t_envrcpt tries the replies below for this one */
	mta_args(fd, SMFIC_RCPT, "<checks@example.test>", NULL);
	ck_assert_int_eq(mta_read(fd, NULL, 0, NULL), SMFIR_CONTINUE);
	ck_assert_int_eq(rec.reply_checks, 0x1f);
	(void)close(fd);
}
END_TEST

START_TEST(test_engine_eom_modifications)
{
	char		 buf[256];
	size_t		 len;
	uint32_t	 idx;
	int		 fd;

	want_a = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGFROM;
	start_engine();
	fd = mta_connect();
	(void)mta_negotiate(fd, NULL, 0, NULL);
	mta_args(fd, SMFIC_MAIL, "<>", NULL);
	ck_assert_int_eq(mta_read(fd, NULL, 0, NULL), SMFIR_CONTINUE);
	/* the last body chunk may come with the end of the message */
	mta_send(fd, SMFIC_BODYEOB, "last", 4);
	ck_assert_int_eq(mta_read(fd, buf, sizeof(buf), &len),
	    SMFIR_ADDHEADER);
	ck_assert_uint_eq(len, sizeof("X-Bounce\0yes"));
	ck_assert_str_eq(buf, "X-Bounce");
	ck_assert_str_eq(buf + 9, "yes");
	ck_assert_int_eq(mta_read(fd, buf, sizeof(buf), &len),
	    SMFIR_CHGHEADER);
	memcpy(&idx, buf, 4);
	ck_assert_uint_eq(ntohl(idx), 2);
	ck_assert_str_eq(buf + 4, "X-Forged");
	ck_assert_uint_eq(len, 4 + sizeof("X-Forged") + 1);	/* "" */
	ck_assert_int_eq(mta_read(fd, buf, sizeof(buf), &len),
	    SMFIR_CHGFROM);
	ck_assert_str_eq(buf, "<prvs=x@s.test>");
	ck_assert_int_eq(mta_read(fd, NULL, 0, NULL), SMFIR_CONTINUE);
	ck_assert_int_eq(rec.bodies, 1);
	ck_assert_str_eq(rec.body, "last");
	ck_assert_int_eq(rec.eoms, 1);
	(void)close(fd);
}
END_TEST

START_TEST(test_engine_modifications_not_negotiated)
{
	int	 fd;

	want_a = 0;	/* t_eom asserts that smfi_addheader fails */
	start_engine();
	fd = mta_connect();
	(void)mta_negotiate(fd, NULL, 0, NULL);
	mta_args(fd, SMFIC_MAIL, "<>", NULL);
	ck_assert_int_eq(mta_read(fd, NULL, 0, NULL), SMFIR_CONTINUE);
	mta_send(fd, SMFIC_BODYEOB, NULL, 0);
	ck_assert_int_eq(mta_read(fd, NULL, 0, NULL), SMFIR_CONTINUE);
	ck_assert_int_eq(rec.eoms, 1);
	(void)close(fd);
}
END_TEST

START_TEST(test_engine_connection_ends)
{
	uint32_t	 huge = htonl(0x7fffffff);
	int		 fd;

	start_engine();
	/* gone in the middle of a message: abort, then close */
	fd = mta_connect();
	(void)mta_negotiate(fd, NULL, 0, NULL);
	mta_args(fd, SMFIC_MAIL, "<>", NULL);
	ck_assert_int_eq(mta_read(fd, NULL, 0, NULL), SMFIR_CONTINUE);
	(void)close(fd);
	ck_assert_int_eq(wait_closes(1), 1);
	ck_assert_int_eq(rec.aborts, 1);

	/* a packet too long: the connection is dropped, never read */
	fd = mta_connect();
	(void)mta_negotiate(fd, NULL, 0, NULL);
	ck_assert_int_eq(write(fd, &huge, 4), 4);
	ck_assert_int_eq(mta_read(fd, NULL, 0, NULL), 0);
	(void)close(fd);
	ck_assert_int_eq(wait_closes(2), 2);

	/* an unknown command letter: dropped too */
	fd = mta_connect();
	(void)mta_negotiate(fd, NULL, 0, NULL);
	mta_send(fd, 'Z', NULL, 0);
	ck_assert_int_eq(mta_read(fd, NULL, 0, NULL), 0);
	(void)close(fd);
	ck_assert_int_eq(wait_closes(3), 3);

	/* QUIT_NC: closed, and the same socket serves on */
	fd = mta_connect();
	(void)mta_negotiate(fd, NULL, 0, NULL);
	mta_send(fd, SMFIC_QUIT_NC, NULL, 0);
	ck_assert_int_eq(wait_closes(4), 4);
	mta_args(fd, SMFIC_MAIL, "<>", NULL);
	ck_assert_int_eq(mta_read(fd, NULL, 0, NULL), SMFIR_CONTINUE);
	mta_send(fd, SMFIC_BODYEOB, NULL, 0);
	while (mta_read(fd, NULL, 0, NULL) != SMFIR_CONTINUE)
		;
	mta_send(fd, SMFIC_QUIT, NULL, 0);
	ck_assert_int_eq(mta_read(fd, NULL, 0, NULL), 0);
	(void)close(fd);
	ck_assert_int_eq(wait_closes(5), 5);
	ck_assert_int_eq(rec.aborts, 1);
}
END_TEST

#define CROWD	64

static void *
one_message(void *arg)
{
	int	 fd = mta_connect(), *ok = arg;

	(void)mta_negotiate(fd, NULL, 0, NULL);
	mta_args(fd, SMFIC_MAIL, "<>", NULL);
	if (mta_read(fd, NULL, 0, NULL) == SMFIR_CONTINUE) {
		mta_send(fd, SMFIC_BODYEOB, NULL, 0);
		for (;;) {
			char	 r = mta_read(fd, NULL, 0, NULL);

			if (r == SMFIR_CONTINUE)
				*ok = 1;
			if (r == SMFIR_CONTINUE || r == 0)
				break;
		}
	}
	mta_send(fd, SMFIC_QUIT, NULL, 0);
	(void)close(fd);
	return NULL;
}

START_TEST(test_engine_crowd_then_stop)
{
	pthread_t	 t[CROWD];
	int		 ok[CROWD], i, n = 0, idle[8];

	want_a = SMFIF_ADDHDRS;
	start_engine();
	/* connections that stay open hold their workers: more are made */
	for (i = 0; i < 8; i++) {
		idle[i] = mta_connect();
		(void)mta_negotiate(idle[i], NULL, 0, NULL);
	}
	/* connections at once, more than the first workers: all served */
	for (i = 0; i < CROWD; i++) {
		ok[i] = 0;
		ck_assert_int_eq(pthread_create(&t[i], NULL, one_message,
		    &ok[i]), 0);
	}
	for (i = 0; i < CROWD; i++) {
		pthread_join(t[i], NULL);
		n += ok[i];
	}
	ck_assert_int_eq(n, CROWD);
	ck_assert_int_eq(wait_closes(CROWD), CROWD);
	/* smfi_stop ends the connections that stay, and smfi_main */
	ck_assert_int_eq(smfi_stop(), MI_SUCCESS);
	pthread_join(engine_thread, NULL);
	ck_assert_int_eq(engine_rc, MI_SUCCESS);
	ck_assert_int_eq(rec.closes, CROWD + 8);
	for (i = 0; i < 8; i++) {
		ck_assert_int_eq(mta_read(idle[i], NULL, 0, NULL), 0);
		(void)close(idle[i]);
	}
	/* the socket is gone with it */
	ck_assert_int_ne(access(sockpath, F_OK), 0);
}
END_TEST

START_TEST(test_engine_socket_specs)
{
	char	 conn[320], bad[] = "tcp:1@x", badport[] = "inet:@127.0.0.1",
	    inet[] = "inet:0@127.0.0.1";
	struct stat st;

	/* rmsocket never removes a file that is not a socket */
	testutil_write_file(sockpath, "keep", 4);
	(void)snprintf(conn, sizeof(conn), "unix:%s", sockpath);
	ck_assert_int_eq(smfi_setconn(conn), MI_SUCCESS);
	ck_assert_int_eq(smfi_opensocket(true), MI_FAILURE);
	ck_assert_int_eq(stat(sockpath, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(smfi_setconn(bad), MI_SUCCESS);
	ck_assert_int_eq(smfi_opensocket(true), MI_FAILURE);
	ck_assert_int_eq(smfi_setconn(badport), MI_SUCCESS);
	ck_assert_int_eq(smfi_opensocket(true), MI_FAILURE);
	ck_assert_int_eq(smfi_setconn(inet), MI_SUCCESS);
	ck_assert_int_eq(smfi_opensocket(true), MI_SUCCESS);
}
END_TEST

START_TEST(test_engine_stale_socket_replaced)
{
	struct sockaddr_un	 su;
	int			 fd;

	/* a socket left by a process gone: replaced */
	fill_sun(&su);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&su, sizeof(su)), 0);
	(void)close(fd);
	start_engine();
	fd = mta_connect();
	(void)mta_negotiate(fd, NULL, 0, NULL);
	(void)close(fd);
}
END_TEST

static Suite *
engine_suite(void)
{
	Suite	*s = suite_create("engine");
	TCase	*tc = tcase_create("protocol");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_engine_negotiation);
	tcase_add_test(tc, test_engine_macros_and_args);
	tcase_add_test(tc, test_engine_noreply_steps);
	tcase_add_test(tc, test_engine_noreply_not_negotiated_continues);
	tcase_add_test(tc, test_engine_setreply);
	tcase_add_test(tc, test_engine_setreply_checks);
	tcase_add_test(tc, test_engine_eom_modifications);
	tcase_add_test(tc, test_engine_modifications_not_negotiated);
	tcase_add_test(tc, test_engine_connection_ends);
	tcase_add_test(tc, test_engine_crowd_then_stop);
	tcase_add_test(tc, test_engine_socket_specs);
	tcase_add_test(tc, test_engine_stale_socket_replaced);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_run(engine_suite()) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
