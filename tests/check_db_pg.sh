#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# check_db_pg.sh - check_db against a real PostgreSQL server started for
# this test alone (tests/pg/lib.sh): the SQL interface under the store
# must behave the same on both engines.
set -u
top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${TOP_BUILDDIR:-.}
. "$top/tests/pg/lib.sh"
dir=$(mktemp -d "${TMPDIR:-/tmp}/bd-pg.XXXXXX")
pg_start "$dir" || exit 1
BD_TEST_PG=$PG_CONNINFO "$build/check_db"
