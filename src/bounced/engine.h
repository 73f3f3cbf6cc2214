/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * engine.h - what the two files of bounced's milter engine share
 * (engine.c: one connection's protocol; engine_pool.c: the socket, the
 * workers, smfi_main).  Everything else calls libmilter's API, mfapi.h.
 */
#ifndef BD_ENGINE_H
#define BD_ENGINE_H

/* engine_serve - serve one connection of the MTA to its end */
void engine_serve(int fd);
/*
 * engine_registered - nonzero once smfi_register() has been called (an
 * int: mfapi.h makes bool an int of its own where <stdbool.h> is not
 * included first, and smfi_opensocket(bool) must match it)
 */
int engine_registered(void);

#endif
