#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# check_engines_pg.sh - the same input gives the same answers on both
# engines: the mail logs of tests/data/maillog ingested by bouncectl into
# a SQLite file and into a private PostgreSQL server (tests/pg/lib.sh),
# then every read command compared line for line (event ids and the
# wall-clock recorded_at aside: a PostgreSQL sequence skips the values of
# the inserts ON CONFLICT DO NOTHING turned away).
set -u
top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${TOP_BUILDDIR:-.}
ctl=$build/bouncectl
. "$top/tests/pg/lib.sh"
dir=$(mktemp -d "${TMPDIR:-/tmp}/bd-engines.XXXXXX")
pg_start "$dir" || exit 1
lite=$dir/lite.db
pg="$PG_CONNINFO"
fails=0

for f in "$top"/tests/data/maillog/*.maillog; do
	for db in "$lite" "$pg"; do
		"$ctl" --db "$db" --create ingest-log "$f" >/dev/null 2>"$dir/err" ||
		    { echo "FAIL: ingest-log $f into $db: $(cat "$dir/err")"; fails=$((fails + 1)); }
	done
done
# a second pass: nothing new on either
for db in "$lite" "$pg"; do
	"$ctl" --db "$db" suppress --reason manual ops@example.test >/dev/null
	"$ctl" --db "$db" unsuppress carol@soft.test >/dev/null 2>&1
done

# drop what differs by nature: ids of events, wall-clock dates (those of
# the operator's actions above too: the second may tick between engines)
norm() {
	sed -e 's/"recorded_at":"[^"]*"//g' -e 's/"event_id":[0-9]*//g' -e 's/"id":[0-9]*//g' \
	    -e 's/"suppress_events":"[^"]*"//g' -e 's/"manual_at":"[^"]*"//g' \
	    -e 's/"suppressed_since":"[^"]*"//g' -e 's/"last_seen":"[^"]*"//g' \
	    -e '/"source":"manual"/s/"when":"[^"]*"//' \
	    -e '/"source":"manual"/s/"reported":"[^"]*"//' \
	    -e '/^bounced_database_bytes /d' -e '/_timestamp_seconds /d'
}
n=0
for cmd in "--json list" "--json stats" "--json stats --by domain" \
    "--json stats --by reason" "--json stats --by day" \
    "--json stats --by campaign" "--json events" "metrics" \
    "--json history bob@hard.test" "--json status bob@hard.test" \
    "--json status ops@example.test"; do
	# shellcheck disable=SC2086
	a=$("$ctl" --db "$lite" $cmd 2>&1 | norm)
	# shellcheck disable=SC2086
	b=$("$ctl" --db "$pg" $cmd 2>&1 | norm)
	if [ "$a" = "$b" ] && [ -n "$a" ]; then
		echo "ok:   $cmd ($(printf '%s\n' "$a" | wc -l) lines alike)"
	else
		echo "FAIL: $cmd differs (SQLite, then PostgreSQL):"
		printf '%s\n' "$a" | head -5
		printf '%s\n' "$b" | head -5
		fails=$((fails + 1))
	fi
	n=$((n + 1))
done
[ "$fails" -eq 0 ] || { echo "$fails of $n comparisons failed"; exit 1; }
echo "all $n comparisons alike"
