#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# check_migrate_pg.sh - bouncectl migrate (issue 13): a relay's SQLite
# database of 100,000 events, states, manual suppressions and log
# cursors copied into a private PostgreSQL server (tests/pg/lib.sh) and
# into a new SQLite file.  Then the copy answers as the source did
# (status of a sample of addresses, the event stream with its cursors),
# the source is unchanged, a second migrate into the same target is
# refused, and an event recorded after the migration gets an id and a
# cursor above the copied ones.
set -u
top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${TOP_BUILDDIR:-.}
ctl=$build/bouncectl
. "$top/tests/pg/lib.sh"
dir=$(mktemp -d "${TMPDIR:-/tmp}/bd-migrate.XXXXXX")
pgdir=$(mktemp -d "${TMPDIR:-/tmp}/bd-migrate-pg.XXXXXX")
pg_start "$pgdir" || exit 1
trap 'pg_stop; rm -rf "$dir"' EXIT INT TERM

fail() {
	echo "check_migrate_pg: $*" >&2
	exit 1
}

# The same database, under another name on the private server.
target() {
	"$PG_BIN/psql" -q -X "$PG_CONNINFO" -c "CREATE DATABASE $1" ||
	    fail "CREATE DATABASE $1"
	echo "host=$pgdir/sock dbname=$1 user=$PG_USER"
}

# The source: a generated Postfix log (deliveries, deferrals, hard and
# soft bounces over 20,000 addresses, some reaching the soft limit) read
# by ingest-log, as the log follower records it: 215,000 lines give
# about 103,000 events.  A second, small log is a second cursor.
awk=$(command -v gawk || command -v awk)
"$awk" -v lines=215000 -f "$top/bench/logstore/gen-maillog.awk" \
    >"$dir/mail.log" || fail "gen-maillog.awk"
"$awk" -v lines=300 -v seed=2 -v start=1796000000 \
    -f "$top/bench/logstore/gen-maillog.awk" >"$dir/mail2.log"
src=$dir/relay.db
"$ctl" --db "$src" --create ingest-log "$dir/mail.log" >/dev/null ||
    fail "ingest-log"
"$ctl" --db "$src" ingest-log "$dir/mail2.log" >/dev/null ||
    fail "ingest-log (second log)"
# manual suppressions, one lifted, and one of an address with bounces
"$ctl" --db "$src" suppress --by ops --reason "asked by phone" \
    carol@example.com dave@example.net user7@d7.example >/dev/null ||
    fail "suppress"
"$ctl" --db "$src" unsuppress --by ops --reason "fixed" \
    dave@example.net >/dev/null || fail "unsuppress"
# a reason with control bytes (U+001F among them): the batch's JSON must
# still be valid for PostgreSQL
"$ctl" --db "$src" suppress --by ops \
    --reason "$(printf 'by phone\037\001 "quoted" \\ \033[1m')" \
    frank@example.org >/dev/null || fail "suppress (control bytes)"
printf 'address,reason\nerin@example.org,imported\n' >"$dir/imp.csv"
"$ctl" --db "$src" import "$dir/imp.csv" >/dev/null || fail "import"

nev=$(sqlite3 "$src" "SELECT COUNT(*) FROM events")
[ "$nev" -ge 100000 ] || fail "only $nev events generated"
nsup=$(sqlite3 "$src" "SELECT COUNT(*) FROM recipients WHERE state = 'suppressed'")
[ "$nsup" -ge 1000 ] || fail "only $nsup suppressed recipients"
[ "$(sqlite3 "$src" "SELECT COUNT(*) FROM cursors")" -eq 2 ] ||
    fail "expected two cursors"
sqlite3 "$src" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
sum_before=$(cksum <"$src")
maxid=$(sqlite3 "$src" "SELECT MAX(id) FROM events")
maxcur=$(sqlite3 "$src" "SELECT MAX(id) FROM feed")
nfeed=$(sqlite3 "$src" "SELECT COUNT(*) FROM feed")

# Into PostgreSQL: every table copied, the counts shown and equal.
pg=$(target bd_migrate)
t0=$(date +%s)
"$ctl" --db "$src" migrate --to "$pg" >"$dir/out" 2>"$dir/err" ||
    { cat "$dir/out" "$dir/err" >&2; fail "migrate to PostgreSQL"; }
t1=$(date +%s)
echo "check_migrate_pg: $nev events migrated in $((t1 - t0)) s"
for t in events recipients sends cursors msgkeys meta feed; do
	awk -v t="$t" '$1 == t && $2 == $3 { ok = 1 } END { exit !ok }' \
	    "$dir/out" || { cat "$dir/out" >&2; fail "counts of $t"; }
done
awk '$1 == "events" { exit !($2 == '"$nev"') }' "$dir/out" ||
    fail "events counted $(grep events "$dir/out")"
grep -q '^migrated' "$dir/out" || fail "no summary line"
"$ctl" --db "$src" --json migrate --to "$(target bd_json)" >"$dir/json" ||
    fail "migrate --json"
grep -q '"table":"feed","source":'"$nfeed"',"target":'"$nfeed"'}' \
    "$dir/json" || fail "migrate --json: $(cat "$dir/json")"
grep -q '"verified":true}$' "$dir/json" || fail "migrate --json verified"

# The source was only read.
[ "$(cksum <"$src")" = "$sum_before" ] || fail "the source changed"

# The same answers: status of a sample of addresses (suppressed, soft,
# active, manual, lifted, imported, unknown), and the whole stream.
{
	sqlite3 "$src" "SELECT address FROM recipients ORDER BY address"
} | awk 'NR % 97 == 1' >"$dir/sample"
printf '%s\n' carol@example.com dave@example.net user7@d7.example \
    erin@example.org frank@example.org nobody@example.com >>"$dir/sample"
[ "$(wc -l <"$dir/sample")" -ge 200 ] || fail "sample too small"
"$ctl" --db "$src" --json status -f "$dir/sample" >"$dir/st.sqlite"
rc1=$?
"$ctl" --db "$pg" --json status -f "$dir/sample" >"$dir/st.pg"
rc2=$?
[ "$rc1" -eq "$rc2" ] || fail "status exit $rc1 on SQLite, $rc2 on PostgreSQL"
cmp -s "$dir/st.sqlite" "$dir/st.pg" ||
    { diff "$dir/st.sqlite" "$dir/st.pg" | head >&2; fail "status differs"; }
grep -q '"address":"carol@example.com","state":"suppressed","reason":"manual"' \
    "$dir/st.pg" || fail "carol's manual suppression"
grep -q '"address":"dave@example.net","state":"active"' "$dir/st.pg" ||
    fail "dave's lifted suppression"
grep -q '"manual_why":"by phone\\u001f\\u0001 \\"quoted\\" \\\\ \\u001b\[1m"' \
    "$dir/st.pg" || fail "frank's reason, control bytes and all"
"$ctl" --db "$src" --json events --since 0 >"$dir/ev.sqlite" ||
    fail "events on SQLite"
"$ctl" --db "$pg" --json events --since 0 >"$dir/ev.pg" ||
    fail "events on PostgreSQL"
[ "$(wc -l <"$dir/ev.pg")" -eq "$nfeed" ] ||
    fail "$(wc -l <"$dir/ev.pg") feed rows on PostgreSQL, $nfeed expected"
cmp -s "$dir/ev.sqlite" "$dir/ev.pg" ||
    { diff "$dir/ev.sqlite" "$dir/ev.pg" | head >&2; fail "events differ"; }

# A second migrate into the same target is refused, and changes nothing.
if "$ctl" --db "$src" migrate --to "$pg" >"$dir/out2" 2>"$dir/err2"; then
	fail "a second migrate into a full target succeeded"
fi
grep -q 'not empty' "$dir/err2" || fail "refusal: $(cat "$dir/err2")"

# After the migration the relays record on PostgreSQL: ids and cursors
# follow the copied ones.
"$ctl" --db "$pg" suppress --by ops --reason after new@example.com \
    >/dev/null || fail "suppress on PostgreSQL"
id=$("$ctl" --db "$pg" --json history new@example.com |
    sed -n 's/.*"id":\([0-9]*\),.*/\1/p')
[ -n "$id" ] && [ "$id" -gt "$maxid" ] ||
    fail "new event id '$id', copied up to $maxid"
"$ctl" --db "$pg" --json events --since "$maxcur" >"$dir/ev.new" ||
    fail "events after the migration"
head -1 "$dir/ev.new" | grep -q "^{\"cursor\":$((maxcur + 1)),\"type\":\"event\"" ||
    fail "next cursor: $(head -c 200 "$dir/ev.new")"
grep -q "\"event_id\":$id," "$dir/ev.new" || fail "the new event in the stream"
"$ctl" --db "$pg" events --since 0 --limit 1 >/dev/null ||
    fail "events on the migrated database"

# Into a new SQLite file (the same command, the other engine).
"$ctl" --db "$src" migrate --to "$dir/copy.db" >"$dir/out3" 2>&1 ||
    { cat "$dir/out3" >&2; fail "migrate to SQLite"; }
"$ctl" --db "$dir/copy.db" --json events --since 0 >"$dir/ev.copy"
cmp -s "$dir/ev.sqlite" "$dir/ev.copy" || fail "events differ on the copy"

# Nothing to copy into: a bad target fails with exit 2.
"$ctl" --db "$src" migrate --to "host=$pgdir/sock dbname=nosuch user=$PG_USER" \
    >/dev/null 2>"$dir/err4"
[ $? -eq 2 ] || fail "a missing target database"
grep -q 'target' "$dir/err4" || fail "message: $(cat "$dir/err4")"
"$ctl" --db "$src" migrate >/dev/null 2>&1
[ $? -eq 2 ] || fail "migrate without --to"
echo "check_migrate_pg: ok"
