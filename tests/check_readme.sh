#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# check_readme.sh - the README's bouncectl session is real output, and
# stays so: every "    $ " line of the session block is run again (bash,
# in a scratch folder where "tests" is this tree's tests/, with the
# built bouncectl first on PATH) and what it prints must be the lines
# that follow it in the README, byte for byte.  A change of a rule's line
# number, a column or a message shows here.
#
#   tests/check_readme.sh            check (make check runs it)
#   tests/check_readme.sh --update   rewrite the block with today's output
#
# The block starts at the line "    $ bouncectl --db demo.db --create
# ingest-log ..." and ends at the first line not indented by 4 spaces.
set -u

build=${TOP_BUILDDIR:-$PWD}
top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
top=$(cd "$top" && pwd)
build=$(cd "$build" && pwd)
readme=$top/README
t=$(mktemp -d) || exit 99
trap 'rm -rf "$t"' EXIT
ln -s "$top/tests" "$t/tests"

first=$(grep -n '^    \$ bouncectl --db demo\.db --create ingest-log' "$readme" |
    head -1 | cut -d: -f1)
[ -n "$first" ] || { echo "FAIL: no session block in $readme"; exit 1; }
last=$(awk -v f="$first" 'NR > f && !/^    / { print NR - 1; exit }' "$readme")
sed -n "${first},${last}p" "$readme" | sed 's/^    //' >"$t/want"

# run the commands of the block, writing the block as it should be
grep '^\$ ' "$t/want" | sed 's/^\$ //' >"$t/cmds"
(
	cd "$t" || exit 99
	while IFS= read -r cmd; do
		printf '$ %s\n' "$cmd"
		PATH=$build:$PATH bash -c "$cmd" 2>&1
	done <"$t/cmds"
) >"$t/got"

if [ "${1:-}" = --update ]; then
	{
		head -n $((first - 1)) "$readme"
		sed 's/^/    /; s/^    $//' "$t/got"
		tail -n +$((last + 1)) "$readme"
	} >"$t/readme" && cp "$t/readme" "$readme"
	echo "check_readme: session of $readme rewritten"
	exit 0
fi
if cmp -s "$t/got" "$t/want"; then
	echo "ok:   the README's session ($(wc -l <"$t/cmds") commands) is what bouncectl prints"
	exit 0
fi
echo "FAIL: the README's session is stale (got vs want; tests/check_readme.sh --update rewrites it):"
diff -u "$t/want" "$t/got"
exit 1
