#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# check_bouncectl.sh - bouncectl(8) as an operator and an application use
# it, on a database of its own (no bounced, no MTA): batch lookups
# (status - and -f), help for every command, formats honoured or refused,
# one "not an address" message, expire and prune --dry-run, backup, stats
# by day within --since, progress on a terminal only.  Each check says
# "got X, want Y".
set -u

build=${TOP_BUILDDIR:-$PWD}
top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
ctl=$build/bouncectl
fails=0
t=$(mktemp -d) || exit 99
trap 'rm -rf "$t"' EXIT
db=$t/b.db

ok() { echo "ok:   $1"; }
bad() { echo "FAIL: $1"; fails=$((fails + 1)); }
check() {
	if [ "$2" != "$3" ]; then bad "$1: got '$2', want '$3'"
	elif [ "${#2}" -lt 60 ] && [ "${2%%
*}" = "$2" ]; then ok "$1 (got $2)"
	else ok "$1"; fi
}
check_has() {
	case $2 in
	*"$3"*) ok "$1" ;;
	*) bad "$1: got '$2', want it to contain '$3'" ;;
	esac
}
check_lacks() {
	case $2 in
	*"$3"*) bad "$1: got '$2', want no '$3'" ;;
	*) ok "$1" ;;
	esac
}
c() { "$ctl" --db "$db" "$@"; }

# a database: one address suppressed by hand, one imported long ago
c --create suppress --reason "test" hard@x.test >/dev/null ||
    { echo "FAIL: cannot make a database"; exit 1; }
printf 'address,state,reason,date\nold@x.test,suppressed,hard,2020-01-01\n' \
    >"$t/old.csv"
c import "$t/old.csv" >/dev/null || bad "import of old.csv"

# --- status - and -f --------------------------------------------------

printf 'hard@x.test\n\n# a comment\nnew@x.test\n' >"$t/ask.txt"
out=$(c --json status - <"$t/ask.txt"); rc=$?
check "status - (JSON Lines): exit status with one suppressed" "$rc" 1
check "status -: one line per address" "$(printf '%s\n' "$out" | wc -l)" 2
check "status -: first answer" "$(printf '%s\n' "$out" | head -1 |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["address"], d["state"])')" \
    "hard@x.test suppressed"
check "status -: second answer" "$(printf '%s\n' "$out" | tail -1 |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["address"], d["state"])')" \
    "new@x.test active"
check "status -: an unknown address after a known one answers as alone" \
    "$(printf '%s\n' "$out" | tail -1)" "$(c --json status new@x.test)"
out2=$(c --json status -f "$t/ask.txt"); rc=$?
check "status -f FILE: exit status" "$rc" 1
check "status -f FILE answers as status -" "$out2" "$out"
printf 'new@x.test\nother@y.test\n' | c status - >/dev/null; rc=$?
check "status - with none suppressed: exit status" "$rc" 0
out=$(printf 'new@x.test\nnot-an-address\nhard@x.test\n' |
    c --csv status - 2>"$t/err"); rc=$?
check "status - with a line that is not an address: exit status" "$rc" 2
check "status --csv: header and one row per line" \
    "$(printf '%s\n' "$out" | wc -l)" 4
check "status --csv: the bad line keeps its row" \
    "$(printf '%s\n' "$out" | sed -n 3p | cut -d, -f1,2)" "not-an-address,invalid"
check "status --csv: lines end in CRLF (RFC 4180)" \
    "$(printf '%s\n' "$out" | head -1 | tail -c 2 | od -An -tx1 | tr -d ' ')" 0d0a
check "status -: the bad line named once, with its line number" \
    "$(cat "$t/err")" 'bouncectl: stdin:2: not an address: "not-an-address"'
out=$(c status foo 2>&1); rc=$?
check "status of a non-address: exit status" "$rc" 2
check "status of a non-address: one message" "$out" \
    'bouncectl: not an address: "foo"'

# --- help for every command -------------------------------------------

cmds=$("$ctl" help | sed -n 's/^  \([a-z-]*\) .*/\1/p')
[ -n "$cmds" ] || bad "bouncectl help lists no command"
for cmd in $cmds; do
	h=$("$ctl" help "$cmd"); rc=$?
	check "help $cmd: exit status" "$rc" 0
	check "help $cmd: usage line" "$(printf '%s\n' "$h" | head -1 |
	    cut -d' ' -f1-3)" "usage: bouncectl $cmd"
	check "$cmd --help is help $cmd" "$("$ctl" "$cmd" --help)" "$h"
done
"$ctl" status --help >/dev/null 2>"$t/err"; rc=$?
check "status --help: exit status" "$rc" 0
check "status --help is not taken for an address" "$(cat "$t/err")" ""
check "help export: its output is CSV by default" \
    "$("$ctl" help export | tail -1)" \
    "Output: CSV (with or without --csv), or JSON Lines with --json."
"$ctl" help no-such-command >/dev/null 2>&1; rc=$?
check "help of an unknown command: exit status" "$rc" 2

# --- formats honoured or refused ---------------------------------------

for cmd in "rules-test x" "classify /dev/null" "import /dev/null" \
    "backup $t/never.db" "ingest-log /dev/null"; do
	out=$(c --csv $cmd 2>&1); rc=$?
	check "--csv $cmd: refused" "$rc" 2
	check_has "--csv $cmd: says why" "$out" "writes no CSV"
done
out=$(c --csv suppress --reason t csv@x.test); rc=$?
check "--csv suppress: exit status" "$rc" 0
check "--csv suppress: rows" "$(printf '%s' "$out" | tr -d '\r')" \
    "$(printf 'address,state\ncsv@x.test,suppressed')"
out=$(c --json stats)
check "stats --json is one document" "$(printf '%s' "$out" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(type(d).__name__, "groups" in d)')" \
    "dict True"
"$ctl" --wait x status a@b.test >/dev/null 2>&1; rc=$?
check "--wait with a bad value: exit status" "$rc" 2

# --- --since: the dates the page promises, and nothing else -----------
for d in 2026-12-06 2026-12-06T10:11 "2026-12-06 10:11:12" \
    2026-12-06T10:11:12Z 2024-02-29 3d @1700000000; do
	c list --since "$d" >/dev/null 2>"$t/err"
	check "list --since '$d' accepted" "$?:$(cat "$t/err")" "0:"
done
for d in 2026-02-30 2025-02-29 1969-12-31 2026-13-01 2026-12-06T24:00 \
    2026-W49-7 20261206 2026-12-06T10:11:12+01:00 2026-12-06T10:11:12.5 ""; do
	c list --since "$d" >/dev/null 2>"$t/err"
	check "list --since '$d' refused" "$?:$(grep -c 'bad date' "$t/err")" \
	    "2:1"
done

# --- stats --by day stays within --since -------------------------------

out=$(c --csv stats --by day --since 10d)
check_lacks "stats --since 10d --by day shows no day of 2020" "$out" "2020-"

# --- expire and prune, --dry-run ---------------------------------------

out=$(c expire --dry-run hard:30d); rc=$?
check "expire --dry-run: exit status" "$rc" 0
check_has "expire --dry-run names the address" "$out" "old@x.test"
check_has "expire --dry-run says nothing changed" "$out" \
    "would expire 1 suppression (dry run: nothing changed)"
c status old@x.test >/dev/null; rc=$?
check "after expire --dry-run the address is still suppressed" "$rc" 1
out=$(c --json expire hard:30d)
check "expire --json: one document" "$(printf '%s' "$out" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["expired"], d["dry_run"], d["addresses"][0]["address"])')" \
    "1 False old@x.test"
c status old@x.test >/dev/null; rc=$?
check "after expire the address is active" "$rc" 0

n=$(c --json history old@x.test | wc -l)
out=$(c prune --dry-run --older-than 30); rc=$?
check "prune --dry-run: exit status" "$rc" 0
check_has "prune --dry-run names the address" "$out" "old@x.test"
check "prune --dry-run deletes nothing" "$(c --json history old@x.test | wc -l)" "$n"
c prune --older-than 30 >/dev/null
check "prune deletes the old event" "$(c --json history old@x.test | wc -l)" \
    "$((n - 1))"

out=$(c rebuild --dry-run | sed -n 2p)
check_has "rebuild without a configuration names the defaults" "$out" \
    "(from the built-in defaults)"

# --- backup -------------------------------------------------------------

out=$(c backup "$t/copy.db"); rc=$?
check "backup: exit status" "$rc" 0
"$ctl" --db "$t/copy.db" status hard@x.test >/dev/null; rc=$?
check "the copy answers as the original" "$rc" 1
out=$(c backup "$t/copy.db" 2>&1); rc=$?
check "backup over an existing file: refused" "$rc" 2
check_has "backup over an existing file: says so" "$out" "File exists"

# --- events: every event and state change, resumable --------------------

keys="cursor type recorded_at recipient summary event_id when action status reply_code reason hard class who advice rule diagnostic remote_mta reporting_mta queue_id message_id envelope_id sender campaign feedback_type source trusted state state_reason previous_state previous_reason mail_kind"
c suppress --reason "ev test" ev@x.test >/dev/null
c unsuppress ev@x.test >/dev/null
out=$(c --json events); rc=$?
check "events: exit status" "$rc" 0
check "events: every line has the documented fields, in order" \
    "$(printf '%s\n' "$out" | python3 -c '
import json, sys
ks = set(" ".join(json.loads(l).keys()) for l in sys.stdin)
print(" | ".join(sorted(ks)))')" "$keys"
check "events: cursors only grow" "$(printf '%s\n' "$out" | python3 -c '
import json, sys
c = [json.loads(l)["cursor"] for l in sys.stdin]
print(c == sorted(set(c)))')" True
check "events: the suppress of ev@x.test, then its state change" \
    "$(printf '%s\n' "$out" | python3 -c '
import json, sys
for l in sys.stdin:
	d = json.loads(l)
	if d["recipient"] == "ev@x.test":
		print(d["type"], d["action"] or "", d["previous_state"] or "", d["state"] or "")' | tr '\n' ';')" \
    "event suppress  ;state  active suppressed;event unsuppress  ;state  suppressed active;"
second=$(printf '%s\n' "$out" | sed -n 2p | python3 -c 'import json,sys; print(json.load(sys.stdin)["cursor"])')
rest=$(c --json events --since "$second")
check "events --since CURSOR gives what follows it" "$rest" \
    "$(printf '%s\n' "$out" | tail -n +3)"
check "events --since DATE before every event gives them all" \
    "$(c --json events --since 2000-01-01)" "$out"
check "events --since DATE after every event gives none" \
    "$(c --json events --since 2099-01-01)" ""
c --json events --since 2026-02-30 >/dev/null 2>&1; rc=$?
check "events --since a bad date: refused" "$rc" 2
check "events --limit 1" "$(c --json events --limit 1)" \
    "$(printf '%s\n' "$out" | head -1)"
last=$(printf '%s\n' "$out" | tail -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["cursor"])')
"$ctl" --db "$db" --json events --follow --since "$last" >"$t/follow.out" 2>&1 &
fpid=$!
sleep 0.5
c suppress followed@x.test >/dev/null
for _ in $(seq 50); do
	grep -q followed@x.test "$t/follow.out" && break; sleep 0.1
done
check "events --follow prints a new event as it is recorded" \
    "$(grep -c '"recipient":"followed@x.test"' "$t/follow.out")" 2
kill -TERM "$fpid"; wait "$fpid"; rc=$?
check "events --follow: exit status at SIGTERM" "$rc" 0

# --- export and import round trips, in both formats --------------------

rdb=$t/round.db
r() { "$ctl" --db "$rdb" "$@"; }
r --create suppress --by alice --reason 'line one
line "two", with a comma' multi@x.test >/dev/null
printf 'address,state,reason,date,why\nh@x.test,suppressed,hard,2024-01-02T03:04:05Z,\nc@x.test,suppressed,complaint,2024-02-02,fbl\n' |
    r import - >/dev/null
# the fields a round trip must keep, from CSV (Python's csv module)
kept() {
	python3 -c '
import csv, json, sys
f = sys.argv[1]
if f.endswith(".csv"):
	rows = list(csv.DictReader(open(f, newline="")))
else:
	rows = [json.loads(l) for l in open(f)]
for x in rows:
	print(repr([x[k] for k in ("address", "state", "reason",
	    "suppressed_since", "manual_by", "manual_why")]))' "$1"
}
r export >"$t/e1.csv"
check "export CSV: records end in CRLF" "$(head -1 "$t/e1.csv" | tail -c 2 | od -An -tx1 | tr -d ' ')" 0d0a
for fmt in csv jsonl; do
	rm -f "$t/r2.db"
	if [ "$fmt" = csv ]; then r export >"$t/e1.$fmt"
	else r --json export >"$t/e1.$fmt"; fi
	"$ctl" --db "$t/r2.db" --create import "$t/e1.$fmt" >/dev/null; rc=$?
	check "import of export ($fmt): exit status" "$rc" 0
	if [ "$fmt" = csv ]; then "$ctl" --db "$t/r2.db" export >"$t/e2.$fmt"
	else "$ctl" --db "$t/r2.db" --json export >"$t/e2.$fmt"; fi
	check "export, import, export ($fmt) keeps address, state, reason, date, author and a multi-line note" \
	    "$(kept "$t/e2.$fmt")" "$(kept "$t/e1.$fmt")"
done
check "the round trip kept reason hard" "$(kept "$t/e2.csv" | grep -c "'hard'")" 1
printf 'address,why\n"unterminated,x\n' >"$t/bad1.csv"
out=$(c import "$t/bad1.csv" 2>&1); rc=$?
check "import of an unterminated quote: refused" "$rc" 2
check_has "import of an unterminated quote: line named" "$out" "bad1.csv:2:"
printf '{"address":"x@y.test","state":"suppressed","reason":{"a":1}}\n' >"$t/bad2.jsonl"
out=$(c import "$t/bad2.jsonl" 2>&1); rc=$?
check "import of nested JSON: refused" "$rc" 2
check_has "import of nested JSON: says so" "$out" "nested JSON"

# --- progress: on a terminal only ------------------------------------

printf 'address\np1@x.test\np2@x.test\n' >"$t/p.csv"
"$ctl" --db "$t/p1.db" --create import "$t/p.csv" >/dev/null 2>"$t/p.err"
check "import with stderr not a terminal: no progress" "$(cat "$t/p.err")" ""
if command -v script >/dev/null 2>&1; then
	out=$(script -qec "'$ctl' --db '$t/p2.db' --create import '$t/p.csv'" \
	    /dev/null)
	check_has "import on a terminal: a progress line" "$out" \
	    "import $t/p.csv: suppressing 2 addresses"
	check_has "import on a terminal: the line erased, then the summary" \
	    "$out" "$(printf '\r\033[Kimported 2 addresses')"
	out=$(script -qec "'$ctl' --db '$t/p2.db' rebuild --dry-run" /dev/null)
	check_has "rebuild on a terminal: a progress line" "$out" \
	    "rebuild: replaying the events of 2 recipients"
else
	echo "skip: script(1) not installed: progress on a terminal not tried"
fi

# --- the event hook: exec and http, retries, a kept cursor --------------

hdb=$t/hook.db
h() { "$ctl" --db "$hdb" "$@"; }
h --create suppress a@h.test b@h.test >/dev/null
h events --hook="exec:cat >>'$t/hook.out'" 2>/dev/null; rc=$?
check "events --hook=exec: exit status" "$rc" 0
check "events --hook=exec: one line per event and state change" \
    "$(wc -l <"$t/hook.out")" 4
check "events --hook=exec: the lines are those of events --json" \
    "$(cat "$t/hook.out")" "$(h --json events)"
h events --hook="exec:cat >>'$t/hook.out'" 2>/dev/null
check "events --hook again: nothing handed twice (kept cursor)" \
    "$(wc -l <"$t/hook.out")" 4
h suppress c@h.test >/dev/null
"$ctl" --db "$hdb" events --hook="exec:exit 3" 2>"$t/hook.err" &
hp=$!
sleep 1.5
kill -TERM "$hp"; wait "$hp"
check_has "a failing hook is retried and said" "$(cat "$t/hook.err")" \
    "exit 3; trying again in 1 s"
h events --hook="exec:cat >>'$t/hook.out'" 2>/dev/null
check "after a failing hook, the events it missed come next" \
    "$(wc -l <"$t/hook.out")" 6
# http: a receiver that answers 500 once, then 204
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 - "$port" "$t/posts" <<'PY' &
import http.server, sys
n = [0]
class H(http.server.BaseHTTPRequestHandler):
	def do_POST(self):
		body = self.rfile.read(int(self.headers["Content-Length"]))
		n[0] += 1
		if n[0] == 1:
			self.send_response(500); self.end_headers(); return
		with open(sys.argv[2], "ab") as f:
			f.write(self.headers["Content-Type"].encode() + b" " + body)
		self.send_response(204); self.end_headers()
	def log_message(self, *a):
		pass
s = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H)
s.timeout = 20
while n[0] < 8:
	s.handle_request()
PY
srv=$!
sleep 0.5
h events --hook="http://127.0.0.1:$port/events" --cursor web 2>"$t/web.err"; rc=$?
check "events --hook=http: exit status" "$rc" 0
check_has "events --hook=http: a 500 is retried" "$(cat "$t/web.err")" \
    "HTTP 500; trying again in"
check "events --hook=http: every line POSTed once, in order, as JSON" \
    "$(sed 's/^application\/json //' "$t/posts")" "$(h --json events)"
kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null
out=$(h events --hook="ftp://x" 2>&1); rc=$?
check "events --hook with a bad target: refused" "$rc" 2

# prune spares the events a hook has not handed on (their feed rows would
# go with them, and the hook would skip them)
pdb=$t/prunehook.db
p() { "$ctl" --db "$pdb" "$@"; }
p --create suppress now@p.test >/dev/null
p events --hook="exec:cat >>'$t/p.out'" 2>/dev/null
printf 'address,state,reason,date\nlate@p.test,suppressed,hard,2020-01-01\n' \
    >"$t/late.csv"
p import "$t/late.csv" >/dev/null
out=$(p prune --older-than 30 2>&1 >/dev/null)
check_has "prune names the hook that is behind" "$out" \
    "hook:hook has not handed on 1 event older than 30 days"
check "prune keeps the event the hook has not handed on" \
    "$(p --json history late@p.test | wc -l)" 1
p events --hook="exec:cat >>'$t/p.out'" 2>/dev/null
check_has "the hook then hands it on" "$(cat "$t/p.out")" \
    '"recipient":"late@p.test"'
out=$(p prune --older-than 30 2>&1 >/dev/null)
check "once handed on, prune says nothing of hooks" "$out" ""
check "and deletes it" "$(p --json history late@p.test | wc -l)" 0
printf 'address,state,reason,date\nlater@p.test,suppressed,hard,2020-01-01\n' \
    >"$t/later.csv"
p import "$t/later.csv" >/dev/null
p prune --older-than 30 --ignore-hooks >/dev/null 2>&1
check "prune --ignore-hooks deletes it all the same" \
    "$(p --json history later@p.test | wc -l)" 0

# --- metrics in the Prometheus text format ------------------------------

# promcheck: every sample line is NAME{LABELS} VALUE of a metric with
# HELP and TYPE before it; prints the samples, one a line, sorted
cat >"$t/promcheck.py" <<'PY'
import re, sys
helped, typed, out, bad = set(), set(), [], []
sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_]+="([^"\\]|\\.)*",?)*\})? (-?[0-9.e+]+|\+Inf|NaN)$')
for line in sys.stdin.read().splitlines():
	if line.startswith("# HELP "):
		helped.add(line.split()[2]); continue
	if line.startswith("# TYPE "):
		typed.add(line.split()[2]); continue
	m = sample.match(line)
	base = m and re.sub(r'_(bucket|sum|count)$', '', m.group(1))
	if not m or (m.group(1) not in typed and base not in typed) or \
	    (m.group(1) not in helped and base not in helped):
		bad.append(line)
	out.append(line)
if bad:
	print("BAD: " + " | ".join(bad))
else:
	print("\n".join(sorted(out)))
PY
out=$(c metrics); rc=$?
check "metrics: exit status" "$rc" 0
m=$(printf '%s\n' "$out" | python3 "$t/promcheck.py")
check_lacks "metrics: valid Prometheus text format" "$m" "BAD:"
check "metrics: suppressed by hand" \
    "$(printf '%s\n' "$m" | sed -n 's/^bounced_suppressed{reason="manual"} //p')" \
    "$(c --csv list --state suppressed --reason manual | tail -n +2 | wc -l)"
check "metrics: the feed cursor is the last of events" \
    "$(printf '%s\n' "$m" | sed -n 's/^bounced_feed_cursor //p')" \
    "$(c --json events | tail -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["cursor"])')"
undoc=
awk '/^\.SH METRICS/ { p = 1; next } /^\.SH/ { p = 0 } p' \
    "$top/man/bouncectl.8.in" >"$t/metrics.man"
for m in $(printf '%s\n' "$out" | sed -n 's/^# TYPE \([^ ]*\) .*/\1/p'); do
	grep -qw -- "$m" "$t/metrics.man" || undoc="$undoc $m"
done
check "metrics: every metric documented in bouncectl(8), METRICS" "$undoc" ""
c metrics --output "$t/bounced.prom"; rc=$?
check "metrics --output: exit status" "$rc" 0
check "metrics --output writes what metrics prints" "$(cat "$t/bounced.prom")" "$out"
c --json metrics >/dev/null 2>&1; rc=$?
check "metrics --json: refused" "$rc" 2

# --- the kind of mail that bounced: bulk or transactional ---------------

eml=$top/tests/e2e/data/postfix-5xx.eml
kind() {
	c --json classify "$1" | python3 -c '
import json, sys
print(json.loads(sys.stdin.readline()).get("mail_kind"))'
}
check "a bounced original without list headers is transactional" \
    "$(kind "$eml")" transactional
sed '/^Subject: hard/i List-Unsubscribe: <mailto:unsub@sender.test>' \
    "$eml" >"$t/bulk1.eml"
check "List-Unsubscribe in the original: bulk" "$(kind "$t/bulk1.eml")" bulk
sed '/^Subject: hard/i Precedence: bulk' "$eml" >"$t/bulk2.eml"
check "Precedence: bulk in the original: bulk" "$(kind "$t/bulk2.eml")" bulk
sed '/^Subject: hard/i List-Id: News <news.sender.test>' "$eml" >"$t/bulk3.eml"
check "List-Id in the original: bulk" "$(kind "$t/bulk3.eml")" bulk

# --- compressed and wrong logs for ingest-log ---------------------------

log=$top/tests/data/maillog/postfix-maillog_file.maillog
for _ in 1 2 3 4 5 6 7 8 9 10; do cat "$log"; done >"$t/mail.log"
gzip -c "$t/mail.log" >"$t/mail.log.2.gz"
plain=$(c --json ingest-log --from-start "$t/mail.log" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["records"])')
out=$(c --json ingest-log "$t/mail.log.2.gz"); rc=$?
check "ingest-log of a .gz: exit status" "$rc" 0
check "ingest-log of a .gz reads the records of the plain file" \
    "$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["records"])')" \
    "$plain"
size=$(stat -c %s "$t/mail.log.2.gz")
head -c $((size / 2)) "$t/mail.log.2.gz" >"$t/cut.gz"
out=$(c ingest-log "$t/cut.gz" 2>&1 >/dev/null); rc=$?
check "ingest-log of a truncated .gz: exit status" "$rc" 2
check_has "ingest-log of a truncated .gz: says so" "$out" "truncated"
printf 'BZh91AY&SY' >"$t/mail.log.3.bz2"
out=$(c ingest-log "$t/mail.log.3.bz2" 2>&1); rc=$?
check "ingest-log of a .bz2: refused" "$rc" 2
check_has "ingest-log of a .bz2: names the way" "$out" "bzcat"
head -c 4000 "$ctl" >"$t/binary"
out=$(c ingest-log "$t/binary" 2>&1 >/dev/null); rc=$?
check "ingest-log of a file with no log line: exit status" "$rc" 1
check_has "ingest-log of a file with no log line: says so" "$out" \
    "is it a mail log?"

# --- a held lock: the operator's words, --wait ------------------------

python3 - "$db" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[1] + ".held", "w").close()
time.sleep(4)
PY
holder=$!
for _ in $(seq 50); do [ -e "$db.held" ] && break; sleep 0.1; done
s0=$(date +%s%N)
out=$(c --wait 1 suppress lock@x.test 2>&1); rc=$?
s1=$(date +%s%N)
check "a write while another holds the lock: exit status" "$rc" 2
check_has "it says who may hold the lock" "$out" \
    "another bouncectl or bounced holds the database's write lock"
check_has "it names --wait" "$out" "--wait SECONDS"
ms=$(( (s1 - s0) / 1000000 ))
[ "$ms" -ge 900 ] && [ "$ms" -lt 3500 ] && r=yes || r="no ($ms ms)"
check "--wait 1 waited about a second" "$r" yes
wait "$holder"

[ "$fails" -eq 0 ] || exit 1
exit 0
