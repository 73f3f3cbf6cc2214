#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# run.sh - the store on SQLite and on PostgreSQL (issue 13): events
# recorded per second with 1, 2 and 8 writers, and the RCPT TO lookup
# with the recipient cache cold and warm.  make bench-store runs it.
#
#   bench/store/run.sh [EVENTS [RECIPIENTS [LOOKUPS]]]
#	(from the build folder; defaults 4000, 100000, 20000)
#
# SQLite: a file in a temporary folder (synchronous FULL, as bounced
# sets it).  PostgreSQL: a private server started here (tests/pg/lib.sh:
# a unix socket, a temporary folder), with fsync turned back on (the
# tests run it off), so that both engines make their commits durable.
# Each count of writers records into a new database.  Prints the raw
# lines of bench_store, then a table.
set -eu
events=${1:-4000}
nrcpt=${2:-100000}
nlook=${3:-20000}
top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${TOP_BUILDDIR:-.}
bench=$build/bench/store/bench_store
. "$top/tests/pg/lib.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-store.XXXXXX")
pgdir=$(mktemp -d "${TMPDIR:-/tmp}/bench-store-pg.XXXXXX")
pg_start "$pgdir" || exit 1
trap 'pg_stop; rm -rf "$tmp"' EXIT INT TERM
psql() { "$PG_BIN/psql" -q -X "$PG_CONNINFO" "$@"; }
psql -c "ALTER SYSTEM SET fsync = on" -c "SELECT pg_reload_conf()" \
    >/dev/null
pgdb() {
	psql -c "CREATE DATABASE $1"
	echo "host=$pgdir/sock dbname=$1 user=$PG_USER"
}

echo "bench-store: $events events per run, $nrcpt recipients, $nlook" \
    "lookups of each kind; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for w in 1 2 8; do
	"$bench" record "$tmp/rec$w.db" "$w" "$events" | tee -a "$tmp/out"
	"$bench" record "$(pgdb rec$w)" "$w" "$events" | tee -a "$tmp/out"
done
"$bench" lookup "$tmp/lookup.db" "$(pgdb lookup)" "$nrcpt" "$nlook" |
    tee -a "$tmp/out"

awk '
$1 == "record" { r[$3, $2] = $6; busy[$3, $2] = $7 }
$1 == "lookup" { p50[$3, $2] = $5; p99[$3, $2] = $6 }
END {
	print ""
	print "events recorded per second (store_record, one report a call)"
	printf "%-8s %12s %12s\n", "writers", "sqlite", "postgresql"
	for (w = 1; w <= 8; w *= 2)
		if ((w, "sqlite") in r)
			printf "%-8s %12s %12s\n", w, r[w, "sqlite"],
			    r[w, "postgresql"]
	print ""
	print "RCPT lookup (rcache_lookup), microseconds p50 / p99"
	printf "%-8s %16s %16s\n", "cache", "sqlite", "postgresql"
	split("cold warm unknown", k, " ")
	for (i = 1; i <= 3; i++)
		printf "%-8s %16s %16s\n", k[i],
		    p50[k[i], "sqlite"] " / " p99[k[i], "sqlite"],
		    p50[k[i], "postgresql"] " / " p99[k[i], "postgresql"]
}' "$tmp/out"
# the disk and the cores are shared: a load that rose means noisy figures
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
