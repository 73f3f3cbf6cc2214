/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ctl_state.h - bouncectl subcommands that read and change the store
 * (ctl_state.c), and the helpers from ctl.c that they share.
 * Every subcommand returns the process exit status (see bouncectl(8)).
 */
#ifndef BD_CTL_STATE_H
#define BD_CTL_STATE_H

#include "ctl.h"
#include "store.h"

/* ctl_store_open - open the database named by --db or the config; message on stderr */
int ctl_store_open(const struct ctl_opts *o, unsigned flags,
    struct store **out);
/* ctl_getopt_reset - make the next getopt_long() call start afresh on a new argv */
void ctl_getopt_reset(void);

int ctl_status(const struct ctl_opts *o, int argc, char **argv);
int ctl_list(const struct ctl_opts *o, int argc, char **argv);
int ctl_suppress(const struct ctl_opts *o, int argc, char **argv);
int ctl_unsuppress(const struct ctl_opts *o, int argc, char **argv);
int ctl_history(const struct ctl_opts *o, int argc, char **argv);
int ctl_stats(const struct ctl_opts *o, int argc, char **argv);
int ctl_export(const struct ctl_opts *o, int argc, char **argv);
int ctl_import(const struct ctl_opts *o, int argc, char **argv);
int ctl_prune(const struct ctl_opts *o, int argc, char **argv);

/* ctl_log.c: the MTA log and expiry */
int ctl_ingest_log(const struct ctl_opts *o, int argc, char **argv);
int ctl_follow_log(const struct ctl_opts *o, int argc, char **argv);
int ctl_expire(const struct ctl_opts *o, int argc, char **argv);

#endif
