/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * fuzz_engine.c - libFuzzer target: bounced's milter engine
 * (src/bounced/engine.c) serving one connection whose bytes are the
 * input: packets of any length and letter, macros, negotiation, the
 * commands in any order.  The engine is included whole so that its
 * engine_serve() runs on one end of a socketpair; a thread drains the
 * answers.  The callbacks use what bounced uses (macros, priv, replies,
 * modifications at the end of the message); a private datum set at MAIL
 * and freed at close makes a missed close a leak that ASan reports.
 */
#include "bounced/engine.c"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sfsistat
f_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *p0,
    unsigned long *p1, unsigned long *p2, unsigned long *p3)
{
	(void)f2;
	(void)f3;
	if (f0 & SMFIF_SETSYMLIST)
		(void)smfi_setsymlist(ctx, SMFIM_ENVFROM, "i {client_addr}");
	*p0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGFROM |
	    SMFIF_SETSYMLIST);
	*p1 = f1 & (SMFIP_NR_HDR | SMFIP_NR_BODY | SMFIP_SKIP |
	    SMFIP_HDR_LEADSPC | SMFIP_NOUNKNOWN);
	*p2 = *p3 = 0;
	return (f1 & 1) ? SMFIS_CONTINUE : SMFIS_ALL_OPTS;
}

static sfsistat
f_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void)host;
	(void)sa;
	return smfi_getsymval(ctx, "j") ? SMFIS_CONTINUE : SMFIS_NOREPLY;
}

static sfsistat
f_helo(SMFICTX *ctx, char *name)
{
	(void)ctx;
	return name[0] == 'x' ? SMFIS_REJECT : SMFIS_CONTINUE;
}

static sfsistat
f_envfrom(SMFICTX *ctx, char **argv)
{
	char	*p;

	(void)argv;
	(void)smfi_getsymval(ctx, "{client_addr}");
	if (smfi_getpriv(ctx) == NULL && (p = malloc(16)) != NULL)
		(void)smfi_setpriv(ctx, p);
	return argv[1] != NULL ? SMFIS_ACCEPT : SMFIS_CONTINUE;
}

static sfsistat
f_envrcpt(SMFICTX *ctx, char **argv)
{
	char	 c[] = "550", x[] = "5.1.1", m[] = "no such user";

	if (argv[0][0] == 'r') {
		(void)smfi_setreply(ctx, c, x, m);
		return SMFIS_REJECT;
	}
	return argv[0][0] == 't' ? SMFIS_TEMPFAIL : SMFIS_NOREPLY;
}

static sfsistat
f_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx;
	(void)value;
	return name[0] == 's' ? SMFIS_SKIP : SMFIS_NOREPLY;
}

static sfsistat
f_eoh(SMFICTX *ctx)
{
	return smfi_getsymval(ctx, "i") ? SMFIS_DISCARD : SMFIS_CONTINUE;
}

static sfsistat
f_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	(void)ctx;
	return n > 0 && p[0] == 's' ? SMFIS_SKIP : SMFIS_NOREPLY;
}

static sfsistat
f_eom(SMFICTX *ctx)
{
	char	 h[] = "X-Bounce", v[] = "yes", f[] = "<a@b>";

	(void)smfi_addheader(ctx, h, v);
	(void)smfi_chgheader(ctx, h, 1, NULL);
	(void)smfi_chgfrom(ctx, f, NULL);
	return SMFIS_CONTINUE;
}

static sfsistat
f_abort(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat
f_close(SMFICTX *ctx)
{
	free(smfi_getpriv(ctx));
	(void)smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

static sfsistat
f_unknown(SMFICTX *ctx, const char *cmd)
{
	(void)ctx;
	(void)cmd;
	return SMFIS_CONTINUE;
}

static sfsistat
f_data(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static struct smfiDesc fdesc = {
	"fuzz", SMFI_VERSION, SMFIF_ADDHDRS, f_connect, f_helo, f_envfrom,
	f_envrcpt, f_header, f_eoh, f_body, f_eom, f_abort, f_close,
	f_unknown, f_data, f_negotiate
};

/* Reads the engine's answers until it closes its end. */
static void *
drain(void *arg)
{
	char	 buf[65536];
	int	 fd = *(int *)arg;

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pthread_t	 t;
	size_t		 off = 0;
	ssize_t		 w;
	int		 sv[2];

	g_desc = fdesc;
	g_registered = true;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return 0;
	(void)signal(SIGPIPE, SIG_IGN);
	if (pthread_create(&t, NULL, drain, &sv[1]) != 0) {
		(void)close(sv[0]);
		(void)close(sv[1]);
		return 0;
	}
	/* the input fits the socket's buffer (max_len 65536) */
	while (off < size && (w = write(sv[1], data + off, size - off)) > 0)
		off += (size_t)w;
	(void)shutdown(sv[1], SHUT_WR);
	engine_serve(sv[0]);
	(void)close(sv[0]);
	pthread_join(t, NULL);
	(void)close(sv[1]);
	return 0;
}
