#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# setup.sh - from a fresh Debian 12 machine to a running or tested bounced.
#
#   ./setup.sh run    install the packages, build, and start bounced in the
#                     foreground on a default configuration (database and
#                     milter socket in a local state folder); prints the
#                     Postfix main.cf lines to add.
#   ./setup.sh test   install the packages, build, and run the whole test
#                     suite: Check unit tests, corpus accuracy, and the
#                     end-to-end tests against a private Postfix and miltertest.
#   ./setup.sh deps | build    the first steps alone.
#
# Environment: STATE_DIR (run; default /var/lib/bounced as root, ./state
# otherwise), MILTER_PORT (run; default 8895), BUILD_DIR (default _build).
set -eu

top=$(cd "$(dirname "$0")" && pwd)
BUILD_DIR=${BUILD_DIR:-$top/_build}
PACKAGES="build-essential autoconf automake pkg-config libmilter-dev \
libsqlite3-dev sqlite3 check libgmime-3.0-dev libpcre2-dev libidn2-dev postfix \
miltertest python3 clang libclang-rt-14-dev libpq-dev postgresql mandoc \
zlib1g-dev libjson-glib-dev libcurl4-openssl-dev \
libcsv-dev"

say() { printf 'setup: %s\n' "$*" >&2; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"
	elif command -v sudo >/dev/null 2>&1; then sudo "$@"
	else say "need root to run: $*"; exit 1; fi
}

deps() {
	missing=
	for p in $PACKAGES; do
		dpkg-query -W -f '${Status}' "$p" 2>/dev/null |
		    grep -q 'install ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	say "installing:$missing"
	as_root apt-get update -q
	# Postfix asks questions at install time; a test instance needs none
	# of its answers (see POSTFIX-NOTES: the tests start their own).
	echo "postfix postfix/main_mailer_type select Local only" |
	    as_root debconf-set-selections
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends $missing
}

build() {
	[ -x "$top/configure" ] || (cd "$top" && ./autogen.sh >/dev/null 2>&1)
	mkdir -p "$BUILD_DIR"
	cd "$BUILD_DIR"
	[ -f Makefile ] || "$top/configure" -q --enable-werror
	make -j"$(nproc)" >/dev/null
	say "built in $BUILD_DIR"
}

run() {
	port=${MILTER_PORT:-8895}
	if [ "$(id -u)" -eq 0 ]; then
		state=${STATE_DIR:-/var/lib/bounced}
		# bounced drops root for this unprivileged user.
		id bounced >/dev/null 2>&1 || useradd --system --home-dir "$state" \
		    --shell /usr/sbin/nologin bounced
		user_line="UserID bounced"
	else
		state=${STATE_DIR:-$top/state}
		user_line="# UserID: not needed, not started as root"
	fi
	mkdir -p "$state"
	[ "$(id -u)" -eq 0 ] && chown bounced: "$state"
	conf=$state/bounced.conf
	if [ ! -f "$conf" ]; then
		cat >"$conf" <<CONF
# Written by setup.sh run; see bounced.conf(5) and etc/bounced.conf.
Socket		inet:$port@127.0.0.1
Database	$state/bounced.db
PidFile		$state/bounced.pid
$user_line
CONF
	fi
	cat <<MSG

bounced is starting in the foreground (stop it with Ctrl-C).
Config: $conf   Database: $state/bounced.db

Add to /etc/postfix/main.cf, then run 'postfix reload':

    smtpd_milters = inet:127.0.0.1:$port
    non_smtpd_milters = inet:127.0.0.1:$port
    internal_mail_filter_classes = bounce
    milter_default_action = accept
    milter_protocol = 6

Then ask:  $BUILD_DIR/bouncectl --db $state/bounced.db status ADDRESS

MSG
	exec "$BUILD_DIR/bounced" -f -c "$conf"
}

runtests() {
	cd "$BUILD_DIR"
	# Unit, corpus and end-to-end tests all hang off "make check".
	rc=0
	make -j2 check || rc=$?
	if [ "$rc" -ne 0 ] && [ -f test-suite.log ]; then
		cat test-suite.log
	fi
	pass=$(sed -n 's/^# PASS: *//p' test-suite.log 2>/dev/null | head -1)
	skip=$(sed -n 's/^# SKIP: *//p' test-suite.log 2>/dev/null | head -1)
	fail=$(sed -n 's/^# \(FAIL\|ERROR\|XPASS\): *//p' test-suite.log 2>/dev/null |
	    awk '{ n += $1 } END { print n + 0 }')
	# The fuzz targets, a bounded run each (make check-fuzz, mk/fuzz.am);
	# a finding fails the suite like a failed test.
	if ! make check-fuzz; then
		rc=1
		fail=$((fail + 1))
	fi
	# The fault scenarios on a real Postfix (make check-faults, issue 11:
	# kill -9, a read-only, locked or full database, hostile load,
	# rebuild under load); each failing scenario counts as a failed test.
	# (its failure is counted below: set -e must not end the run first,
	# before faults.out and the summary are shown)
	make check-faults >faults.out 2>&1 || true
	cat faults.out
	n=$(grep -c '^FAIL: ' faults.out || true)
	if [ "$n" -gt 0 ]; then
		rc=1
		fail=$((fail + n))
	fi
	if [ "$rc" -eq 0 ] && ! sanitized; then
		rc=1
		fail=$((fail + 1))	# the sanitizer run counts as one failed test
	fi
	echo "tests: ${pass:-0} passed, ${fail:-0} failed, ${skip:-0} skipped"
	exit "$rc"
}

# The unit tests again, built with AddressSanitizer and UBSan: every input
# bounced reads is hostile, so memory errors must fail the suite.
sanitized() {
	asan=$top/_build-asan
	mkdir -p "$asan"
	cd "$asan"
	[ -f Makefile ] || "$top/configure" -q --enable-werror \
	    CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" \
	    LDFLAGS="-fsanitize=address,undefined"
	make -j"$(nproc)" >/dev/null
	unit=$(make -s print-tests | tr ' ' '\n' | grep -v '^tests/e2e/' | tr '\n' ' ')
	# GMime keeps its one-time initialisation until exit: not a leak.
	ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    make -j2 check TESTS="$unit" >sanitized.out 2>&1 || {
		# A test failed (test-suite.log), or a test did not build.
		if [ -f test-suite.log ]; then cat test-suite.log
		else tail -n 40 sanitized.out; fi
		say "sanitizer build: unit tests failed"
		return 1
	}
	say "sanitizer build: unit tests passed ($unit)"
}

case "${1:-}" in
deps)	deps ;;
build)	deps; build ;;
run)	deps; build; run ;;
test)	deps; build; runtests ;;
*)	echo "usage: $0 run|test|deps|build" >&2; exit 64 ;;
esac
