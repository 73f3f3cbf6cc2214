/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pglisten.h - on PostgreSQL, hear the other relays' state changes and
 * drop them from the RCPT TO cache (LISTEN bounced_state).
 */
#ifndef BD_PGLISTEN_H
#define BD_PGLISTEN_H

/* pglisten_start - start the listener thread for target (copied) */
void pglisten_start(const char *target);
/* pglisten_stop - stop it and close its connection (harmless if none) */
void pglisten_stop(void);

#endif
