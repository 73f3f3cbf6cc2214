/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * noop_milter.c - the yardstick of make bench-postfix: a milter that
 * asks for every callback bounced asks for (connection, envelope,
 * headers, body) and does nothing with them, so that the same Postfix
 * harness measures what bounced's own work costs the MTA (issue 11:
 * through Postfix, >= 0.9x the rate of a no-op milter).  Not installed.
 *
 * Usage: noop_milter SOCKET (a libmilter socket, e.g. unix:/path)
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>

#include <libmilter/mfapi.h>

static sfsistat
cont(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat
cont_args(SMFICTX *ctx, char **argv)
{
	(void)argv;
	return cont(ctx);
}

static sfsistat
cont_header(SMFICTX *ctx, char *name, char *value)
{
	(void)name;
	(void)value;
	return cont(ctx);
}

static sfsistat
cont_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	(void)p;
	(void)n;
	return cont(ctx);
}

int
main(int argc, char **argv)
{
	struct smfiDesc	 d = {
		.xxfi_name = "noop",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = 0,
		.xxfi_envfrom = cont_args,
		.xxfi_envrcpt = cont_args,
		.xxfi_header = cont_header,
		.xxfi_eoh = cont,
		.xxfi_body = cont_body,
		.xxfi_eom = cont,
	};

	if (argc != 2) {
		fprintf(stderr, "usage: noop_milter SOCKET\n");
		return 64;
	}
	/* Postfix's cleanup runs as another user: let it reach the socket */
	(void)umask(0);
	if (smfi_setconn(argv[1]) == MI_FAILURE ||
	    smfi_register(d) == MI_FAILURE ||
	    smfi_opensocket(1) == MI_FAILURE) {
		fprintf(stderr, "noop_milter: cannot listen on %s\n", argv[1]);
		return 71;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
