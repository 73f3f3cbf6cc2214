#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# check_docs.sh - fail when a key of src/lib/conf/conf_tab.h is missing from
# bounced.conf(5) or from the sample etc/bounced.conf (after Postfix's
# check-postconf-undocumented), when a man page is not lint-clean
# under mandoc -Tlint (style messages included) or lacks EXAMPLES, a
# dated .TH or (section 8) ENVIRONMENT.
set -eu

top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
tab=$top/src/lib/conf/conf_tab.h
man=$top/man/bounced.conf.5.in
sample=$top/etc/bounced.conf

for f in "$tab" "$man" "$sample"; do
	[ -f "$f" ] || { echo "check_docs: $f missing" >&2; exit 1; }
done

keys=$(sed -n 's/^[[:space:]]*{ "\([A-Za-z]*\)", CT_.*/\1/p' "$tab")
[ -n "$keys" ] || { echo "check_docs: no keys found in $tab" >&2; exit 1; }

fail=0
n=0
for k in $keys; do
	n=$((n + 1))
	# The page documents a key as ".It Cm Key" or ".B Key" / ".TP\n.B Key".
	if ! grep -Eq "^\.(B|IP|It Cm|TP) +\"?$k\"?( |$)" "$man"; then
		echo "check_docs: $k is not documented in man/bounced.conf.5.in" >&2
		fail=1
	fi
	# The sample shows every key, commented out at its default or set.
	if ! grep -Eq "^#? ?$k([[:space:]]|$)" "$sample"; then
		echo "check_docs: $k is missing from etc/bounced.conf" >&2
		fail=1
	fi
done
# And nothing documented that does not exist.
for k in $(awk '/^\.SH PARAMETERS/ { p = 1; next } /^\.SH/ { p = 0 }
    p && tp && /^\.B / { print $2 } { tp = ($0 == ".TP") }' "$man"); do
	echo "$keys" | grep -qx "$k" || {
		echo "check_docs: man page documents unknown key $k" >&2
		fail=1
	}
done

# Every page has EXAMPLES and a dated .TH; the programs' pages say what
# they read from the environment.
for p in "$top"/man/*.in; do
	grep -q '^\.SH EXAMPLES' "$p" || {
		echo "check_docs: $p has no EXAMPLES section" >&2; fail=1; }
	grep -Eq '^\.TH [^ ]+ [0-9] [0-9]{4}-[0-9]{2}-[0-9]{2} ' "$p" || {
		echo "check_docs: $p: .TH without a YYYY-MM-DD date" >&2; fail=1; }
done
for p in "$top"/man/*.8.in; do
	grep -q '^\.SH ENVIRONMENT' "$p" || {
		echo "check_docs: $p has no ENVIRONMENT section" >&2; fail=1; }
done

# Every page lint-clean under plain mandoc -Tlint, style messages
# included (mandoc is in setup.sh's packages: a missing mandoc fails
# here rather than skip the check in silence).
if command -v mandoc >/dev/null 2>&1; then
	for p in "$top"/man/*.in; do
		mandoc -Tlint "$p" || fail=1
	done
else
	echo "check_docs: mandoc not installed (apt-get install mandoc)" >&2
	fail=1
fi
[ "$fail" -eq 0 ] && echo "check_docs: $n keys documented"
exit "$fail"
