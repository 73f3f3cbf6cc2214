#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# check_instance.sh - bounced -n says what a start needs (the user, the
# rights on the database's and the socket's folders, a privileged port,
# the rules file) with strerror, and a second bounced on the same database
# or socket refuses to start without touching the live socket.
#
# Runs as root (the checks then run as UserID nobody, as the daemon
# would) or as any user (UserID is not used; permissions by chmod).
# Needs no MTA: bounced listens on a unix socket in a temporary folder.
set -u

top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${TOP_BUILDDIR:-$PWD}
bounced=$build/bounced
fails=0
pids=()

t=$(mktemp -d) || exit 99
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$t"
}
trap cleanup EXIT
chmod 755 "$t"

if [ "$(id -u)" = 0 ]; then
	user=nobody
	userline="UserID nobody"
	own() { chown "$user" "$@"; }
	deny() { chown root "$1"; chmod 755 "$1"; }
else
	user=$(id -un)
	userline="# UserID: not used when not started as root"
	own() { :; }
	deny() { chmod 555 "$1"; }
fi

ok() { echo "ok:   $1"; }
bad() { echo "FAIL: $1"; fails=$((fails + 1)); }

# check WHAT GOT WANT
check() {
	if [ "$2" = "$3" ]; then ok "$1 (got $2)"; else
		bad "$1: got '$2', want '$3'"; fi
}

# check_has WHAT TEXT NEEDLE
check_has() {
	case $2 in
	*"$3"*) ok "$1" ;;
	*) bad "$1: got '$2', want it to contain '$3'" ;;
	esac
}

# conf NAME DBDIR SOCKDIR [EXTRA LINE] - write $t/NAME.conf
conf() {
	mkdir -p "$2" "$3"
	{
		echo "Socket unix:$3/b.sock"
		echo "Database $2/b.db"
		echo "$userline"
		[ $# -ge 4 ] && echo "$4"
	} >"$t/$1.conf"
}

# answers SOCKET - something accepts on the unix socket
answers() {
	python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])
PY
}

# --- bounced -n ---------------------------------------------------------

conf good "$t/db" "$t/run"
own "$t/db" "$t/run"
out=$("$bounced" -n -c "$t/good.conf" 2>&1); rc=$?
check "-n on a good setup: exit status" "$rc" 0
check "-n on a good setup: output" "$out" ""

conf nodb "$t/db2" "$t/run2"
own "$t/run2"
deny "$t/db2"
out=$("$bounced" -n -c "$t/nodb.conf" 2>&1); rc=$?
check "-n with an unwritable database folder: exit status" "$rc" 78
check_has "-n names the database folder and the errno" "$out" \
    "Database folder $t/db2: Permission denied as user $user"

conf nosock "$t/db3" "$t/run3"
own "$t/db3"
deny "$t/run3"
out=$("$bounced" -n -c "$t/nosock.conf" 2>&1); rc=$?
check "-n with an unwritable socket folder: exit status" "$rc" 78
check_has "-n names the socket folder" "$out" \
    "Socket folder $t/run3: Permission denied as user $user"

# a missing database folder: -n says so, and a start stops at once (the
# lock file cannot be made there) rather than run without its lock
printf 'Socket unix:%s/run/m.sock\nDatabase %s/gone/b.db\n%s\n' "$t" "$t" \
    "$userline" >"$t/gone.conf"
out=$("$bounced" -n -c "$t/gone.conf" 2>&1); rc=$?
check "-n with a missing database folder: exit status" "$rc" 78
check_has "-n names the missing folder" "$out" \
    "Database folder $t/gone: No such file or directory"
out=$(timeout 20 "$bounced" -f -c "$t/gone.conf" 2>&1); rc=$?
check "a start with a missing database folder: exit status" "$rc" 69
check_has "it names the lock file and the errno" "$out" \
    "lock file $t/gone/b.db.lock: No such file or directory"

printf 'status 5.1.1 userunknown\n' >"$t/rules"
conf rules "$t/db" "$t/run" "RulesFile $t/rules"
if [ "$(id -u)" = 0 ]; then chmod 600 "$t/rules"; fi
out=$("$bounced" -n -c "$t/rules.conf" 2>&1); rc=$?
if [ "$(id -u)" = 0 ]; then
	check "-n with a rules file only root reads: exit status" "$rc" 78
	check_has "-n names the rules file" "$out" \
	    "RulesFile $t/rules: Permission denied as user nobody"

	conf root "$t/db" "$t/run" "UserID root"
	sed -i '/^UserID nobody/d' "$t/root.conf"
	out=$("$bounced" -n -c "$t/root.conf" 2>&1); rc=$?
	check "-n with UserID root: exit status" "$rc" 78
	check_has "-n refuses UserID root" "$out" "UserID root is root"

	conf nouser "$t/db" "$t/run" "UserID no-such-user-x"
	sed -i '/^UserID nobody/d' "$t/nouser.conf"
	out=$("$bounced" -n -c "$t/nouser.conf" 2>&1); rc=$?
	check "-n with an unknown UserID: exit status" "$rc" 78
	check_has "-n names the unknown user" "$out" \
	    'unknown user "no-such-user-x"'

	if [ "$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start 2>/dev/null \
	    || echo 1024)" -gt 1 ]; then
		printf 'Socket inet:1@127.0.0.1\nDatabase %s/db/b.db\n%s\n' \
		    "$t" "$userline" >"$t/port.conf"
		out=$("$bounced" -n -c "$t/port.conf" 2>&1); rc=$?
		check "-n with port 1 as nobody: exit status" "$rc" 78
		check_has "-n explains the privileged port" "$out" \
		    "port 1 is privileged"
	fi
fi

# --- one instance per database and socket -------------------------------

"$bounced" -f -c "$t/good.conf" 2>"$t/a.log" &
pids+=($!)
a=$!
for _ in $(seq 50); do answers "$t/run/b.sock" && break; sleep 0.1; done
answers "$t/run/b.sock" || { cat "$t/a.log"; echo "FAIL: bounced did not start"; exit 1; }
ino=$(stat -c %i "$t/run/b.sock")

out=$(timeout 20 "$bounced" -f -c "$t/good.conf" 2>&1); rc=$?
check "a second bounced on the same database: exit status" "$rc" 69
check_has "it says who holds the database" "$out" \
    "Database $t/db/b.db is in use by another bounced (pid $a)"
check "the live socket is the same file" "$(stat -c %i "$t/run/b.sock" 2>&1)" "$ino"
answers "$t/run/b.sock" && r=yes || r=no
check "the first bounced still answers" "$r" yes

conf other "$t/dbo" "$t/run"
own "$t/dbo"
out=$(timeout 20 "$bounced" -f -c "$t/other.conf" 2>&1); rc=$?
check "a second bounced on the same socket: exit status" "$rc" 69
check_has "it names the socket" "$out" \
    "Socket unix:$t/run/b.sock is in use by another bounced (pid $a)"
check "the live socket is still the same file" \
    "$(stat -c %i "$t/run/b.sock" 2>&1)" "$ino"
answers "$t/run/b.sock" && r=yes || r=no
check "the first bounced still answers after both" "$r" yes

out=$("$bounced" -n -c "$t/good.conf" 2>&1); rc=$?
check "-n while it runs: exit status" "$rc" 0
check_has "-n notes the running instance" "$out" \
    "in use by a running bounced (pid $a)"

# MetricsFile: written at the start, then every 30 s
conf metrics "$t/dbm" "$t/runm" "MetricsFile $t/dbm/bounced.prom"
own "$t/dbm" "$t/runm"
"$bounced" -f -c "$t/metrics.conf" 2>"$t/m.log" &
pids+=($!)
mp=$!
for _ in $(seq 50); do [ -s "$t/dbm/bounced.prom" ] && break; sleep 0.1; done
mf=$(cat "$t/dbm/bounced.prom" 2>/dev/null)
check_has "MetricsFile: the process counters" "$mf" \
    'bounced_bounces_total{outcome="recorded"} 0'
check_has "MetricsFile: the bounce time histogram" "$mf" \
    'bounced_bounce_seconds_bucket{le="+Inf"} 0'
check_has "MetricsFile: whether the database answered" "$mf" \
    "bounced_database_up "
undoc=
awk '/^\.SH METRICS/ { p = 1; next } /^\.SH/ { p = 0 } p' \
    "$top/man/bouncectl.8.in" >"$t/metrics.man"
for m in $(printf '%s\n' "$mf" | sed -n 's/^# TYPE \([^ ]*\) .*/\1/p'); do
	grep -qw -- "$m" "$t/metrics.man" || undoc="$undoc $m"
done
check "MetricsFile: every metric documented in bouncectl(8), METRICS" \
    "$undoc" ""
kill "$mp"
wait "$mp" 2>/dev/null

kill "$a"
wait "$a" 2>/dev/null
"$bounced" -f -c "$t/good.conf" 2>"$t/b.log" &
pids+=($!)
for _ in $(seq 50); do answers "$t/run/b.sock" && break; sleep 0.1; done
answers "$t/run/b.sock" && r=yes || r=no
check "after the first stops, a new one starts" "$r" yes

[ "$fails" -eq 0 ] || exit 1
exit 0
