/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fake_smfi.h - a test double for libmilter, chosen at link time:
 * check_milter links it instead of -lmilter.  It records what the milter
 * asks of the MTA (headers added, replies, macro lists) and serves
 * macros from a table.  Header changes (added, changed, deleted) carry
 * a sequence number so that tests can check their order.
 */
#ifndef BD_FAKE_SMFI_H
#define BD_FAKE_SMFI_H

#include <stddef.h>

#include <libmilter/mfapi.h>

#define FAKE_MAX	64

struct smfi_str {
	void		*priv;
	char		*macro_name[FAKE_MAX];
	char		*macro_value[FAKE_MAX];
	size_t		 nmacros;
	char		*hdr_name[FAKE_MAX];	/* smfi_addheader calls */
	char		*hdr_value[FAKE_MAX];
	int		 hdr_seq[FAKE_MAX];	/* order of changes */
	size_t		 nhdrs;
	char		*chg_name[FAKE_MAX];	/* smfi_chgheader */
	char		*chg_value[FAKE_MAX];	/* NULL: delete */
	int		 chg_idx[FAKE_MAX];
	int		 chg_seq[FAKE_MAX];
	size_t		 nchgs;
	int		 seq;			/* changes so far */
	char		 reply[3][256];		/* last smfi_setreply */
	int		 nreplies;
	char		*symlist[SMFIM_LAST + 1];	/* smfi_setsymlist */
	char		*chgfrom;			/* last smfi_chgfrom */
	int		 nchgfrom;
};

/* What smfi_register() was given; fake_registered counts the calls. */
extern struct smfiDesc	fake_desc;
extern int		fake_registered;

/* fake_ctx_init - an empty context */
void fake_ctx_init(SMFICTX *ctx);
/* fake_ctx_free - release what the context recorded */
void fake_ctx_free(SMFICTX *ctx);
/* fake_set_macro - serve name ("i", "{client_addr}") as value */
void fake_set_macro(SMFICTX *ctx, const char *name, const char *value);
/* fake_header - value of the n-th added header called name, or NULL */
const char *fake_header(const SMFICTX *ctx, const char *name, size_t n);

#endif
