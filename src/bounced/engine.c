/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * engine.c - the milter protocol (version 6, as Postfix and Sendmail
 * speak it), server side, behind libmilter's own API (mfapi.h): the
 * smfi_* functions bounced calls, so that milter.c is the same code
 * whichever engine it is linked with (configure --with-libmilter links
 * Sendmail's libmilter instead).
 *
 * Why not libmilter: it starts a thread for every connection, and
 * Postfix's internal path (cleanup(8), where bounces come from) opens a
 * connection for every message; it also polls before every read.  That
 * floor alone was 0.23-0.27 ms of CPU a message, most of issue 11's
 * budget of 0.3 ms for a whole recorded bounce; the same no-op milter on
 * a pool of waiting threads with buffered reads used 0.06-0.09 ms
 * (bench/milter, measured 7 Dec 2026).
 *
 * How: a pool of worker threads that wait for connections
 * (engine_pool.c); packets are read through a buffer: one read(2) takes
 * a command and the unanswered ones (macros, headers, body) sent with it.
 *
 * Behaviour kept from libmilter (engine.c, smfi.c of Sendmail 8.17):
 * the packet layouts, macro slots and lookup, NR_* replies, setreply's
 * "rcode xcode text" reply, modifications only at end of message and
 * only when negotiated, SIGHUP/SIGTERM/SIGINT stop smfi_main(), a 7210 s
 * read timeout.  Packets up to 256 KiB (libmilter: 64 KiB).  Not
 * implemented (bounced does not use them): smfi_insheader, recipients,
 * body replacement, quarantine, progress, multi-line replies,
 * smfi_setdbg.
 *
 * Never logs: the caller's callbacks do; a broken connection is simply
 * closed, as libmilter does, and the MTA applies its default action.
 *
 * This file: one connection, its packets and commands, and what the
 * callbacks may ask (engine_serve()); engine_pool.c: the socket, the
 * workers and smfi_main().
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
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

#include "bounced/engine.h"

/*
 * libmilter refuses packets over 64 KiB; Postfix sends a header field
 * whole in one, up to its header_size_limit (100 KiB): taken here.
 */
#define ENGINE_MAX_PACKET	(256 * 1024)
#define NSLOTS			(SMFIM_LAST + 1)

struct smfi_str {
	int		 fd;
	unsigned long	 aflags;	/* actions negotiated */
	unsigned long	 pflags;	/* protocol steps negotiated */
	void		*priv;
	bool		 in_eom;	/* modifications allowed */
	bool		 in_msg;	/* MAIL seen, no end or abort yet */
	bool		 closed;	/* xxfi_close called */
	char		*reply;		/* smfi_setreply, for the next answer */
	char		*macros[NSLOTS];	/* name NUL value NUL ... */
	size_t		 maclen[NSLOTS];
	char		*symlist[NSLOTS];	/* smfi_setsymlist */
	char		*buf;		/* what read(2) gave, not yet used */
	size_t		 bufsize, start, end;
};

static struct smfiDesc	 g_desc;
static bool		 g_registered;
static int		 g_timeout = 7210;	/* seconds, as libmilter */

int
smfi_register(struct smfiDesc d)
{
	if (d.xxfi_name == NULL || d.xxfi_version < 2)
		return MI_FAILURE;
	g_desc = d;
	g_registered = true;
	return MI_SUCCESS;
}

int
smfi_settimeout(int seconds)
{
	g_timeout = seconds > 0 ? seconds : 7210;
	return MI_SUCCESS;
}

/* engine_registered - whether smfi_register() was given callbacks */
int
engine_registered(void)
{
	return g_registered;
}

/* ---- per connection: reading and writing packets ---- */

/*
 * The next packet, its command letter in *cmd, its data in *data and
 * *len (valid until the next call).  Returns false at the end of the
 * connection, a read error or timeout, or a packet out of bounds.
 */
static bool
read_packet(SMFICTX *ctx, char *cmd, char **data, size_t *len)
{
	uint32_t	 n;
	ssize_t		 r;
	size_t		 need;
	char		*nb;

	for (;;) {
		if (ctx->end - ctx->start >= 4) {
			memcpy(&n, ctx->buf + ctx->start, 4);
			n = ntohl(n);
			if (n == 0 || n > ENGINE_MAX_PACKET)
				return false;
			if (ctx->end - ctx->start >= 4 + (size_t)n) {
				*cmd = ctx->buf[ctx->start + 4];
				*data = ctx->buf + ctx->start + 5;
				*len = n - 1;
				ctx->start += 4 + (size_t)n;
				return true;
			}
			need = 4 + (size_t)n;
		} else
			need = 4;
		if (ctx->start > 0) {
			memmove(ctx->buf, ctx->buf + ctx->start,
			    ctx->end - ctx->start);
			ctx->end -= ctx->start;
			ctx->start = 0;
		}
		if (need > ctx->bufsize) {
			if ((nb = realloc(ctx->buf, need)) == NULL)
				return false;
			ctx->buf = nb;
			ctx->bufsize = need;
		}
		do
			r = read(ctx->fd, ctx->buf + ctx->end,
			    ctx->bufsize - ctx->end);
		while (r < 0 && errno == EINTR);
		if (r <= 0)
			return false;
		ctx->end += (size_t)r;
	}
}

static bool
write_all(int fd, const struct iovec *iov, int n)
{
	struct msghdr	 mh;
	struct iovec	 v[4];
	ssize_t		 w;

	memcpy(v, iov, sizeof(*iov) * (size_t)n);
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = v;
	mh.msg_iovlen = (size_t)n;
	while (mh.msg_iovlen > 0) {
		if ((w = sendmsg(fd, &mh, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		while (mh.msg_iovlen > 0 && (size_t)w >= mh.msg_iov->iov_len) {
			w -= (ssize_t)mh.msg_iov->iov_len;
			mh.msg_iov++;
			mh.msg_iovlen--;
		}
		if (mh.msg_iovlen > 0) {
			mh.msg_iov->iov_base = (char *)mh.msg_iov->iov_base + w;
			mh.msg_iov->iov_len -= (size_t)w;
		}
	}
	return true;
}

/* One packet: letter, then up to three pieces of data. */
static bool
send_packet(SMFICTX *ctx, char cmd, const void *a, size_t alen,
    const void *b, size_t blen, const void *c, size_t clen)
{
	char		 hdr[5];
	uint32_t	 n;
	struct iovec	 iov[4];

	if (alen + blen + clen + 1 > ENGINE_MAX_PACKET)
		return false;
	n = htonl((uint32_t)(alen + blen + clen + 1));
	memcpy(hdr, &n, 4);
	hdr[4] = cmd;
	iov[0].iov_base = hdr;
	iov[0].iov_len = 5;
	iov[1].iov_base = (void *)(uintptr_t)a;
	iov[1].iov_len = alen;
	iov[2].iov_base = (void *)(uintptr_t)b;
	iov[2].iov_len = blen;
	iov[3].iov_base = (void *)(uintptr_t)c;
	iov[3].iov_len = clen;
	return write_all(ctx->fd, iov, 4);
}

/* ---- macros ---- */

static int
macro_slot(char cmd)
{
	switch (cmd) {
	case SMFIC_CONNECT:	return SMFIM_CONNECT;
	case SMFIC_HELO:	return SMFIM_HELO;
	case SMFIC_MAIL:	return SMFIM_ENVFROM;
	case SMFIC_RCPT:	return SMFIM_ENVRCPT;
	case SMFIC_DATA:	return SMFIM_DATA;
	case SMFIC_BODYEOB:	return SMFIM_EOM;
	case SMFIC_EOH:		return SMFIM_EOH;
	default:		return -1;
	}
}

static void
macros_clear(SMFICTX *ctx, int from)
{
	int	 i;

	for (i = from; i < NSLOTS; i++) {
		free(ctx->macros[i]);
		ctx->macros[i] = NULL;
		ctx->maclen[i] = 0;
	}
}

/* 'D': the macros of the command that follows; a bad one is ignored. */
static void
macros_set(SMFICTX *ctx, const char *data, size_t len)
{
	int	 slot;
	char	*copy;

	if (len < 1 || (slot = macro_slot(data[0])) < 0)
		return;
	data++;
	len--;
	/* name NUL value NUL pairs: a final piece without its NUL is cut */
	while (len > 0 && data[len - 1] != '\0')
		len--;
	if ((copy = malloc(len + 1)) == NULL)
		return;
	memcpy(copy, data, len);
	copy[len] = '\0';
	free(ctx->macros[slot]);
	ctx->macros[slot] = copy;
	ctx->maclen[slot] = len;
}

/* As libmilter: "i" also finds "{i}", and "{i}" finds "i". */
static bool
macro_name_eq(const char *have, const char *want)
{
	size_t	 hl = strlen(have), wl = strlen(want);

	if (strcmp(have, want) == 0)
		return true;
	if (wl == 3 && want[0] == '{' && want[2] == '}')
		return hl == 1 && have[0] == want[1];
	if (wl == 1)
		return hl == 3 && have[0] == '{' && have[1] == want[0] &&
		    have[2] == '}';
	return false;
}

char *
smfi_getsymval(SMFICTX *ctx, char *name)
{
	/* libmilter's order: the later stages first */
	static const int	 order[] = { SMFIM_EOH, SMFIM_EOM, SMFIM_DATA,
	    SMFIM_ENVRCPT, SMFIM_ENVFROM, SMFIM_HELO, SMFIM_CONNECT };
	const char		*p, *end, *v;
	size_t			 i;

	if (ctx == NULL || name == NULL)
		return NULL;
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if ((p = ctx->macros[order[i]]) == NULL)
			continue;
		end = p + ctx->maclen[order[i]];
		while (p < end) {
			v = p + strlen(p) + 1;
			if (v >= end)
				break;
			if (macro_name_eq(p, name))
				return (char *)(uintptr_t)v;
			p = v + strlen(v) + 1;
		}
	}
	return NULL;
}

int
smfi_setsymlist(SMFICTX *ctx, int where, char *macros)
{
	if (ctx == NULL || macros == NULL || *macros == '\0' ||
	    where < SMFIM_FIRST || where > SMFIM_LAST ||
	    ctx->symlist[where] != NULL)
		return MI_FAILURE;
	return (ctx->symlist[where] = strdup(macros)) != NULL ?
	    MI_SUCCESS : MI_FAILURE;
}

/* ---- what callbacks may ask ---- */

int
smfi_setpriv(SMFICTX *ctx, void *priv)
{
	if (ctx == NULL)
		return MI_FAILURE;
	ctx->priv = priv;
	return MI_SUCCESS;
}

void *
smfi_getpriv(SMFICTX *ctx)
{
	return ctx != NULL ? ctx->priv : NULL;
}

static bool
reply_text_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '\r' || *s == '\n')
			return false;
	return true;
}

/* An enhanced status code: [245].N{1,3}.N{1,3} (RFC 3463). */
static bool
xcode_ok(const char *x)
{
	int	 part, n;

	if (*x != '2' && *x != '4' && *x != '5')
		return false;
	x++;
	for (part = 0; part < 2; part++) {
		if (*x++ != '.')
			return false;
		for (n = 0; *x >= '0' && *x <= '9'; x++)
			n++;
		if (n < 1 || n > 3)
			return false;
	}
	return *x == '\0';
}

/*
 * The answer to the next REJECT (rcode 5xx) or TEMPFAIL (4xx), as
 * libmilter builds it: "rcode xcode message", the parts given.
 */
int
smfi_setreply(SMFICTX *ctx, char *rcode, char *xcode, char *message)
{
	char	*r;
	size_t	 n;

	if (ctx == NULL || rcode == NULL || strlen(rcode) != 3 ||
	    (rcode[0] != '4' && rcode[0] != '5') ||
	    rcode[1] < '0' || rcode[1] > '9' ||
	    rcode[2] < '0' || rcode[2] > '9')
		return MI_FAILURE;
	if (xcode != NULL && !xcode_ok(xcode))
		return MI_FAILURE;
	if (message != NULL && (!reply_text_ok(message) ||
	    strlen(message) > 980))
		return MI_FAILURE;
	n = 4 + (xcode ? strlen(xcode) + 1 : 0) +
	    (message ? strlen(message) : 0) + 1;
	if ((r = malloc(n)) == NULL)
		return MI_FAILURE;
	(void)snprintf(r, n, "%s %s%s%s", rcode, xcode ? xcode : "",
	    xcode && message ? " " : "", message ? message : "");
	free(ctx->reply);
	ctx->reply = r;
	return MI_SUCCESS;
}

/* A modification: at the end of the message, of an action negotiated. */
static bool
may_modify(const SMFICTX *ctx, unsigned long action)
{
	return ctx != NULL && ctx->in_eom && (ctx->aflags & action) != 0;
}

int
smfi_addheader(SMFICTX *ctx, char *name, char *value)
{
	if (!may_modify(ctx, SMFIF_ADDHDRS) || name == NULL || *name == '\0' ||
	    value == NULL)
		return MI_FAILURE;
	return send_packet(ctx, SMFIR_ADDHEADER, name, strlen(name) + 1,
	    value, strlen(value) + 1, NULL, 0) ? MI_SUCCESS : MI_FAILURE;
}

/* value NULL deletes the index-th (from 1) field called name. */
int
smfi_chgheader(SMFICTX *ctx, char *name, int index, char *value)
{
	uint32_t	 i;

	if (!may_modify(ctx, SMFIF_CHGHDRS) || name == NULL ||
	    *name == '\0' || index < 0)
		return MI_FAILURE;
	i = htonl((uint32_t)index);
	if (value == NULL)
		value = (char *)(uintptr_t)"";
	return send_packet(ctx, SMFIR_CHGHEADER, &i, sizeof(i), name,
	    strlen(name) + 1, value, strlen(value) + 1) ?
	    MI_SUCCESS : MI_FAILURE;
}

int
smfi_chgfrom(SMFICTX *ctx, char *from, char *args)
{
	if (!may_modify(ctx, SMFIF_CHGFROM) || from == NULL || *from == '\0')
		return MI_FAILURE;
	return send_packet(ctx, SMFIR_CHGFROM, from, strlen(from) + 1,
	    args, args ? strlen(args) + 1 : 0, NULL, 0) ?
	    MI_SUCCESS : MI_FAILURE;
}

/* ---- per connection: the commands ---- */

/* The answer to a command whose unanswered form is nr (0: none). */
static bool
answer(SMFICTX *ctx, sfsistat st, unsigned long nr)
{
	char	 r;
	bool	 ok;

	if (st == SMFIS_NOREPLY) {
		if (nr != 0 && (ctx->pflags & nr) != 0)
			return true;
		st = SMFIS_CONTINUE;
	}
	switch (st) {
	case SMFIS_REJECT:	r = SMFIR_REJECT;	break;
	case SMFIS_DISCARD:	r = SMFIR_DISCARD;	break;
	case SMFIS_ACCEPT:	r = SMFIR_ACCEPT;	break;
	case SMFIS_TEMPFAIL:	r = SMFIR_TEMPFAIL;	break;
	case SMFIS_SKIP:
		r = (ctx->pflags & SMFIP_SKIP) ? SMFIR_SKIP : SMFIR_CONTINUE;
		break;
	default:		r = SMFIR_CONTINUE;	break;
	}
	/* a reply set is used (and forgotten) by an answer of its class */
	if (ctx->reply == NULL || !((r == SMFIR_REJECT &&
	    ctx->reply[0] == '5') || (r == SMFIR_TEMPFAIL &&
	    ctx->reply[0] == '4')))
		return send_packet(ctx, r, NULL, 0, NULL, 0, NULL, 0);
	ok = send_packet(ctx, SMFIR_REPLYCODE, ctx->reply,
	    strlen(ctx->reply) + 1, NULL, 0, NULL, 0);
	free(ctx->reply);
	ctx->reply = NULL;
	return ok;
}

/* NUL-separated strings as a NULL-terminated array (in place). */
static char **
split_args(char *data, size_t len)
{
	char	**argv;
	size_t	  n = 0, i, k = 0;

	for (i = 0; i < len; i++)
		n += data[i] == '\0';
	if (len == 0 || data[len - 1] != '\0' ||
	    (argv = calloc(n + 1, sizeof(*argv))) == NULL)
		return NULL;
	for (i = 0; i < len; i += strlen(data + i) + 1)
		argv[k++] = data + i;
	return argv;
}

static void
close_session(SMFICTX *ctx)
{
	if (ctx->in_msg && g_desc.xxfi_abort != NULL)
		(void)g_desc.xxfi_abort(ctx);
	ctx->in_msg = false;
	if (!ctx->closed && g_desc.xxfi_close != NULL)
		(void)g_desc.xxfi_close(ctx);
	ctx->closed = true;
}

/* The steps whose callback is missing, of those the MTA offers to skip. */
static unsigned long
steps_unused(unsigned long offered)
{
	unsigned long	 p = 0;

	if (g_desc.xxfi_connect == NULL)
		p |= SMFIP_NOCONNECT;
	if (g_desc.xxfi_helo == NULL)
		p |= SMFIP_NOHELO;
	if (g_desc.xxfi_envfrom == NULL)
		p |= SMFIP_NOMAIL;
	if (g_desc.xxfi_envrcpt == NULL)
		p |= SMFIP_NORCPT;
	if (g_desc.xxfi_header == NULL)
		p |= SMFIP_NOHDRS;
	if (g_desc.xxfi_eoh == NULL)
		p |= SMFIP_NOEOH;
	if (g_desc.xxfi_body == NULL)
		p |= SMFIP_NOBODY;
	if (g_desc.xxfi_data == NULL)
		p |= SMFIP_NODATA;
	if (g_desc.xxfi_unknown == NULL)
		p |= SMFIP_NOUNKNOWN;
	return p & offered;
}

/*
 * The answer to 'O': version, actions and steps (out), then the macro
 * lists of smfi_setsymlist, each its stage (uint32) and the list,
 * NUL-ended (the MTA offered SMFIF_SETSYMLIST if the callback asked).
 */
static bool
optneg_reply(SMFICTX *ctx, const uint32_t out[3])
{
	size_t		 n = 3 * sizeof(uint32_t), k;
	uint32_t	 stage;
	char		*b, *q;
	bool		 ok;
	int		 i;

	for (i = 0; i < NSLOTS; i++)
		if (ctx->symlist[i] != NULL)
			n += sizeof(stage) + strlen(ctx->symlist[i]) + 1;
	if ((b = malloc(n)) == NULL)
		return false;
	memcpy(b, out, 3 * sizeof(uint32_t));
	q = b + 3 * sizeof(uint32_t);
	for (i = 0; i < NSLOTS; i++) {
		if (ctx->symlist[i] == NULL)
			continue;
		stage = htonl((uint32_t)i);
		memcpy(q, &stage, sizeof(stage));
		k = strlen(ctx->symlist[i]) + 1;
		memcpy(q + sizeof(stage), ctx->symlist[i], k);
		q += sizeof(stage) + k;
	}
	ok = send_packet(ctx, SMFIC_OPTNEG, b, n, NULL, 0, NULL, 0);
	free(b);
	return ok;
}

static bool
optneg(SMFICTX *ctx, const char *data, size_t len)
{
	uint32_t	 v[3], out[3];
	unsigned long	 f0, f1, p0 = 0, p1 = 0, p2 = 0, p3 = 0;
	sfsistat	 st = SMFIS_ALL_OPTS;

	if (len < sizeof(v))
		return false;
	memcpy(v, data, sizeof(v));
	if (ntohl(v[0]) < 2)
		return false;
	/* as libmilter: none offered means those of version 1 */
	f0 = ntohl(v[1]) != 0 ? ntohl(v[1]) : SMFI_V1_ACTS;
	f1 = ntohl(v[2]) != 0 ? ntohl(v[2]) : SMFI_V1_PROT;
	if (g_desc.xxfi_negotiate != NULL) {
		st = g_desc.xxfi_negotiate(ctx, f0, f1, 0, 0, &p0, &p1, &p2,
		    &p3);
		if (st == SMFIS_REJECT)
			return false;
	}
	if (st == SMFIS_ALL_OPTS) {
		/* what the callbacks given need, and no more */
		p0 = g_desc.xxfi_flags & f0;
		p1 = steps_unused(f1);
	} else if (st != SMFIS_CONTINUE || (p0 & ~f0) != 0 ||
	    (p1 & ~f1) != 0)
		return false;	/* asks what the MTA does not offer */
	ctx->aflags = p0;
	ctx->pflags = p1;
	out[0] = htonl(ntohl(v[0]) < SMFI_PROT_VERSION ? ntohl(v[0]) :
	    SMFI_PROT_VERSION);
	out[1] = htonl((uint32_t)p0);
	out[2] = htonl((uint32_t)p1);
	return optneg_reply(ctx, out);
}

static bool
connect_cmd(SMFICTX *ctx, char *data, size_t len)
{
	union {
		struct sockaddr		sa;
		struct sockaddr_in	sin;
		struct sockaddr_in6	sin6;
		struct sockaddr_un	sun;
	}		 a;
	_SOCK_ADDR	*sa = NULL;
	size_t		 hl;
	char		 fam, *addr;
	uint16_t	 port = 0;

	if ((hl = strnlen(data, len)) >= len || hl + 2 > len)
		return false;
	fam = data[hl + 1];
	memset(&a, 0, sizeof(a));
	if (fam != 'U' && hl + 2 + 2 < len) {
		memcpy(&port, data + hl + 2, 2);
		addr = data + hl + 4;
		if (memchr(addr, '\0', len - hl - 4) != NULL) {
			if (fam == '4' && inet_pton(AF_INET, addr,
			    &a.sin.sin_addr) == 1) {
				a.sin.sin_family = AF_INET;
				a.sin.sin_port = port;
				sa = &a.sa;
			} else if (fam == '6' && inet_pton(AF_INET6,
			    strncmp(addr, "IPv6:", 5) == 0 ? addr + 5 : addr,
			    &a.sin6.sin6_addr) == 1) {
				a.sin6.sin6_family = AF_INET6;
				a.sin6.sin6_port = port;
				sa = &a.sa;
			}
		}
	}
	return answer(ctx, g_desc.xxfi_connect ?
	    g_desc.xxfi_connect(ctx, data, sa) : SMFIS_CONTINUE,
	    SMFIP_NR_CONN);
}

/* An envelope command: MAIL or RCPT. */
static bool
args_cmd(SMFICTX *ctx, sfsistat (*fn)(SMFICTX *, char **), char *data,
    size_t len, unsigned long nr)
{
	char		**argv;
	sfsistat	  st = SMFIS_CONTINUE;

	if (fn != NULL) {
		if ((argv = split_args(data, len)) == NULL)
			return false;
		st = fn(ctx, argv);
		free(argv);
	}
	return answer(ctx, st, nr);
}

/* One command; false ends the connection. */
static bool
dispatch(SMFICTX *ctx, char cmd, char *data, size_t len)
{
	sfsistat	 st;
	size_t		 nl;

	/*
	 * As libmilter: a command forgets the macros of the later stages
	 * (a new MAIL those of the last message's RCPT, DATA, ...).
	 */
	if (cmd == SMFIC_OPTNEG)
		macros_clear(ctx, SMFIM_CONNECT);
	else if (cmd == SMFIC_CONNECT || cmd == SMFIC_HELO ||
	    cmd == SMFIC_MAIL || cmd == SMFIC_RCPT)
		macros_clear(ctx, macro_slot(cmd) + 1);
	switch (cmd) {
	case SMFIC_OPTNEG:
		return optneg(ctx, data, len);
	case SMFIC_MACRO:
		macros_set(ctx, data, len);
		return true;
	case SMFIC_CONNECT:
		return connect_cmd(ctx, data, len);
	case SMFIC_HELO:
		if (len == 0 || data[len - 1] != '\0')
			return false;
		return answer(ctx, g_desc.xxfi_helo ?
		    g_desc.xxfi_helo(ctx, data) : SMFIS_CONTINUE,
		    SMFIP_NR_HELO);
	case SMFIC_MAIL:
		ctx->in_msg = true;
		return args_cmd(ctx, g_desc.xxfi_envfrom, data, len,
		    SMFIP_NR_MAIL);
	case SMFIC_RCPT:
		return args_cmd(ctx, g_desc.xxfi_envrcpt, data, len,
		    SMFIP_NR_RCPT);
	case SMFIC_DATA:
		return answer(ctx, g_desc.xxfi_data ? g_desc.xxfi_data(ctx) :
		    SMFIS_CONTINUE, SMFIP_NR_DATA);
	case SMFIC_HEADER:
		if ((nl = strnlen(data, len)) >= len ||
		    memchr(data + nl + 1, '\0', len - nl - 1) == NULL)
			return false;
		return answer(ctx, g_desc.xxfi_header ?
		    g_desc.xxfi_header(ctx, data, data + nl + 1) :
		    SMFIS_CONTINUE, SMFIP_NR_HDR);
	case SMFIC_EOH:
		return answer(ctx, g_desc.xxfi_eoh ? g_desc.xxfi_eoh(ctx) :
		    SMFIS_CONTINUE, SMFIP_NR_EOH);
	case SMFIC_BODY:
		return answer(ctx, g_desc.xxfi_body ? g_desc.xxfi_body(ctx,
		    (unsigned char *)data, len) : SMFIS_CONTINUE,
		    SMFIP_NR_BODY);
	case SMFIC_BODYEOB:
		st = SMFIS_CONTINUE;
		if (len > 0 && g_desc.xxfi_body != NULL)
			st = g_desc.xxfi_body(ctx, (unsigned char *)data, len);
		if (st == SMFIS_CONTINUE || st == SMFIS_NOREPLY ||
		    st == SMFIS_SKIP) {
			ctx->in_eom = true;
			st = g_desc.xxfi_eom ? g_desc.xxfi_eom(ctx) :
			    SMFIS_CONTINUE;
			ctx->in_eom = false;
		}
		ctx->in_msg = false;
		return answer(ctx, st == SMFIS_NOREPLY ? SMFIS_CONTINUE : st,
		    0);
	case SMFIC_ABORT:
		if (g_desc.xxfi_abort != NULL)
			(void)g_desc.xxfi_abort(ctx);
		ctx->in_msg = false;
		return true;
	case SMFIC_UNKNOWN:
		if (len == 0 || data[len - 1] != '\0')
			return false;
		return answer(ctx, g_desc.xxfi_unknown ?
		    g_desc.xxfi_unknown(ctx, data) : SMFIS_CONTINUE,
		    SMFIP_NR_UNKN);
	case SMFIC_QUIT_NC:
		/* the same socket serves a new SMTP connection */
		close_session(ctx);
		macros_clear(ctx, SMFIM_CONNECT);
		ctx->closed = false;
		return true;
	case SMFIC_QUIT:
	default:
		return false;
	}
}

/*
 * engine_serve - one connection of the MTA, to its end (the descriptor
 * stays open: the caller closes it)
 */
void
engine_serve(int fd)
{
	SMFICTX		 ctx;
	struct timeval	 tv;
	char		 cmd, *data;
	size_t		 len;
	int		 i;

	memset(&ctx, 0, sizeof(ctx));
	ctx.fd = fd;
	tv.tv_sec = g_timeout;
	tv.tv_usec = 0;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	i = 1;	/* a peer gone without a word is noticed (as libmilter) */
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &i, sizeof(i));
	ctx.bufsize = 8192;
	if ((ctx.buf = malloc(ctx.bufsize)) == NULL)
		return;
	while (read_packet(&ctx, &cmd, &data, &len) &&
	    dispatch(&ctx, cmd, data, len))
		;
	close_session(&ctx);
	macros_clear(&ctx, SMFIM_CONNECT);
	for (i = 0; i < NSLOTS; i++)
		free(ctx.symlist[i]);
	free(ctx.reply);
	free(ctx.buf);
}
