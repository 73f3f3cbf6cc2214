/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * milter.h - the milter callbacks of bounced(8) (milter.c,
 * milter_state.c, milter_rcpt.c, milter_bounce.c, milter_send.c,
 * milter_commit.c: with engine.c, the only files that include
 * <libmilter/mfapi.h>); the rest of the daemon talks to the milter
 * engine through these functions.
 */
#ifndef BD_MILTER_H
#define BD_MILTER_H

#include "util/bd.h"
#include "conf/conf.h"
#include "store/store.h"

/* milter_init - first snapshot (the reference is taken over) and the shared
 * store (borrowed)
 */
void milter_init(struct bd_config *conf, struct store *store);
/* milter_set_lookup_store - a handle for RCPT TO lookups (borrowed); NULL:
 * the main store
 */
void milter_set_lookup_store(struct store *store);
/* milter_swap_config - install a new snapshot (reference taken over);
 * connections keep theirs
 */
void milter_swap_config(struct bd_config *conf);
/* milter_current_config - a new reference to the current snapshot;
 * config_unref() it
 */
struct bd_config *milter_current_config(void);
/* milter_fini - drop the current snapshot (after milter_run returns) */
void milter_fini(void);
/*
 * milter_cache_forget - drop addr's cached RCPT TO answer (NULL: every
 * answer): another relay changed its state (pglisten.c)
 */
void milter_cache_forget(const char *addr);
/*
 * milter_sync_sends - write the queued sends of RecordSends now, with the
 * calling thread's store handle (tests; the writer thread does it within
 * 50 ms otherwise); true when none is left
 */
bool milter_sync_sends(void);
/* milter_set_clock - time source for events (tests); NULL restores time(3) */
void milter_set_clock(int64_t (*now)(void));

/* milter_register - smfi_register() our callbacks; BD_ECONFIG on failure */
enum bd_status milter_register(void);
/* milter_listen - smfi_setconn() and smfi_opensocket(), removing a stale
 * unix socket
 */
enum bd_status milter_listen(const char *conn, char *err, size_t errlen);
/* milter_run - smfi_main(); returns 0 on a clean stop */
int milter_run(void);

#endif
