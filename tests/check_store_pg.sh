#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# check_store_pg.sh - the store's unit tests (check_store) against a real
# PostgreSQL server started for this test alone (tests/pg/lib.sh), each
# test on a new database of its own: the same rule, idempotency, trust
# and queries on both engines.
set -u
top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${TOP_BUILDDIR:-.}
. "$top/tests/pg/lib.sh"
dir=$(mktemp -d "${TMPDIR:-/tmp}/bd-pgstore.XXXXXX")
pg_start "$dir" || exit 1
# Each call is a few round trips to the server, not a library call:
# test_store_prune_in_batches records 4,007 events (10 s on 2 busy cores).
CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-60} BD_TEST_PG=$PG_CONNINFO \
    "$build/check_store"
