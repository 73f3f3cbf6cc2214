/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * fake_smfi.c - the smfi_* functions bounced's milter.c calls, recording
 * instead of talking to an MTA.  Substituted at link time (STYLE.md 3.2,
 * lldpd's convenience-library trick), so the tested milter object is the
 * one that ships.  Not thread-safe; the tests drive one context at a time.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_smfi.h"

struct smfiDesc	 fake_desc;
int		 fake_registered;

/* fake_ctx_init - an empty context */
void
fake_ctx_init(SMFICTX *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
}

/* fake_ctx_free - release what the context recorded */
void
fake_ctx_free(SMFICTX *ctx)
{
	size_t	 i;

	for (i = 0; i < ctx->nmacros; i++) {
		free(ctx->macro_name[i]);
		free(ctx->macro_value[i]);
	}
	for (i = 0; i < ctx->nhdrs; i++) {
		free(ctx->hdr_name[i]);
		free(ctx->hdr_value[i]);
	}
	for (i = 0; i < ctx->nchgs; i++) {
		free(ctx->chg_name[i]);
		free(ctx->chg_value[i]);
	}
	for (i = 0; i <= SMFIM_LAST; i++)
		free(ctx->symlist[i]);
	free(ctx->chgfrom);
	memset(ctx, 0, sizeof(*ctx));
}

/* Compare macro names as libmilter does: "i" and "{i}" are the same. */
static bool
same_macro(const char *a, const char *b)
{
	size_t	 la, lb;

	if (*a == '{')
		a++;
	if (*b == '{')
		b++;
	la = strcspn(a, "}");
	lb = strcspn(b, "}");
	return la == lb && strncmp(a, b, la) == 0;
}

/* fake_set_macro - serve name as value (replaces an earlier value) */
void
fake_set_macro(SMFICTX *ctx, const char *name, const char *value)
{
	size_t	 i;

	for (i = 0; i < ctx->nmacros; i++)
		if (same_macro(ctx->macro_name[i], name)) {
			free(ctx->macro_value[i]);
			ctx->macro_value[i] = strdup(value);
			return;
		}
	if (ctx->nmacros == FAKE_MAX)
		abort();
	ctx->macro_name[ctx->nmacros] = strdup(name);
	ctx->macro_value[ctx->nmacros++] = strdup(value);
}

/* fake_header - value of the n-th added header called name, or NULL */
const char *
fake_header(const SMFICTX *ctx, const char *name, size_t n)
{
	size_t	 i;

	for (i = 0; i < ctx->nhdrs; i++)
		if (strcmp(ctx->hdr_name[i], name) == 0 && n-- == 0)
			return ctx->hdr_value[i];
	return NULL;
}

int
smfi_register(struct smfiDesc desc)
{
	fake_desc = desc;
	fake_registered++;
	return MI_SUCCESS;
}

int
smfi_setconn(char *conn)
{
	return conn != NULL ? MI_SUCCESS : MI_FAILURE;
}

int
smfi_opensocket(bool rm)
{
	(void)rm;
	return MI_SUCCESS;
}

int
smfi_main(void)
{
	return MI_SUCCESS;
}

char *
smfi_getsymval(SMFICTX *ctx, char *name)
{
	size_t	 i;

	for (i = 0; i < ctx->nmacros; i++)
		if (same_macro(ctx->macro_name[i], name))
			return ctx->macro_value[i];
	return NULL;
}

int
smfi_setpriv(SMFICTX *ctx, void *priv)
{
	ctx->priv = priv;
	return MI_SUCCESS;
}

void *
smfi_getpriv(SMFICTX *ctx)
{
	return ctx->priv;
}

int
smfi_setsymlist(SMFICTX *ctx, int stage, char *list)
{
	if (stage < 0 || stage > SMFIM_LAST || list == NULL)
		return MI_FAILURE;
	free(ctx->symlist[stage]);
	ctx->symlist[stage] = strdup(list);
	return MI_SUCCESS;
}

int
smfi_addheader(SMFICTX *ctx, char *name, char *value)
{
	if (ctx->nhdrs == FAKE_MAX)
		return MI_FAILURE;
	ctx->hdr_name[ctx->nhdrs] = strdup(name);
	ctx->hdr_value[ctx->nhdrs] = strdup(value);
	ctx->hdr_seq[ctx->nhdrs++] = ++ctx->seq;
	return MI_SUCCESS;
}

int
smfi_chgheader(SMFICTX *ctx, char *name, int idx, char *value)
{
	if (ctx->nchgs == FAKE_MAX || name == NULL || idx < 1)
		return MI_FAILURE;
	ctx->chg_name[ctx->nchgs] = strdup(name);
	ctx->chg_value[ctx->nchgs] = value ? strdup(value) : NULL;
	ctx->chg_idx[ctx->nchgs] = idx;
	ctx->chg_seq[ctx->nchgs++] = ++ctx->seq;
	return MI_SUCCESS;
}

int
smfi_setreply(SMFICTX *ctx, char *rcode, char *xcode, char *message)
{
	(void)snprintf(ctx->reply[0], sizeof(ctx->reply[0]), "%s",
	    rcode ? rcode : "");
	(void)snprintf(ctx->reply[1], sizeof(ctx->reply[1]), "%s",
	    xcode ? xcode : "");
	(void)snprintf(ctx->reply[2], sizeof(ctx->reply[2]), "%s",
	    message ? message : "");
	ctx->nreplies++;
	return MI_SUCCESS;
}

int
smfi_chgfrom(SMFICTX *ctx, char *mail, char *args)
{
	(void)args;
	if (mail == NULL)
		return MI_FAILURE;
	free(ctx->chgfrom);
	ctx->chgfrom = strdup(mail);
	ctx->nchgfrom++;
	return MI_SUCCESS;
}
