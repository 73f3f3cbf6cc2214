/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * siphash.h - SipHash-2-4 (Aumasson and Bernstein, 2012), a keyed hash
 * for hash tables whose keys come from the network (addresses, queue
 * ids): without the key, nobody can choose keys that collide.
 */
#ifndef BD_SIPHASH_H
#define BD_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_LEN	16

/* siphash24 - the 64-bit SipHash-2-4 of data[len] under key */
uint64_t siphash24(const uint8_t key[SIPHASH_KEY_LEN], const void *data,
    size_t len);
/* siphash_key_random - a fresh key from getrandom(2), for one table */
void siphash_key_random(uint8_t key[SIPHASH_KEY_LEN]);

#endif
