#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# check_purity.sh - the pure core (src/lib/ but for src/lib/log) never
# logs, never calls syslog(3) and never touches libmilter; it reaches
# the daemon's and bouncectl's rooms not at all.  DESIGN.md: "The
# classifier is a pure function"; STYLE.md: "Call syslog(), exit() or
# smfi_* from the core modules" is a Don't.  A grep is enough, as long
# as it fails loudly.
set -u
top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
core=$top/src/lib
[ -d "$core/util" ] || { echo "check_purity: $core/util missing" >&2; exit 99; }

fail=0
files=$(find "$core" -path "$core/log" -prune -o -name '*.[ch]' -print | sort)
[ -n "$files" ] || { echo "check_purity: no core files" >&2; exit 99; }
n=$(echo "$files" | wc -l)

check() {
	what=$1; pattern=$2
	hits=$(grep -nE "$pattern" $files)
	if [ -n "$hits" ]; then
		echo "check_purity: the core $what:" >&2
		echo "$hits" | sed "s#^$top/#  #" >&2
		fail=1
	fi
}
check "includes our logging" '#[[:space:]]*include[[:space:]]*"(log/)?log\.h"'
check "includes libmilter" '#[[:space:]]*include[[:space:]]*[<"]libmilter/|mfapi\.h'
check "calls syslog or exit" '(^|[^_[:alnum:]])(syslog|openlog|exit|_exit)[[:space:]]*\('
check "calls libmilter" '(^|[^_[:alnum:]])smfi_[a-z]+[[:space:]]*\('
check "includes a program's header" '#[[:space:]]*include[[:space:]]*"(bounced|bouncectl)/'
check "calls a log function" '(^|[^_[:alnum:]])log_(err|warn|info|debug|fatal|panic)[[:space:]]*\('

if [ "$fail" -ne 0 ]; then
	echo "FAIL: core purity ($n files)"
	exit 1
fi
echo "PASS: core purity: $n files under src/lib (but src/lib/log) neither log nor touch libmilter"
