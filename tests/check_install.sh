#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# check_install.sh - make install (into a DESTDIR) puts in place what
# the README's install section relies on: the programs, the man pages,
# /etc/bounced.conf, the systemd units and the sysusers.d file (with the
# installed paths), the bash completion; the sample main.cf names the
# socket the installed bounced.conf gives; the completion completes.
set -u

build=${TOP_BUILDDIR:-$PWD}
top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
fails=0
t=$(mktemp -d) || exit 99
trap 'rm -rf "$t"' EXIT
root=$t/root

ok() { echo "ok:   $1"; }
bad() { echo "FAIL: $1"; fails=$((fails + 1)); }
check() {
	if [ "$2" = "$3" ]; then ok "$1 (got $2)"; else
		bad "$1: got '$2', want '$3'"; fi
}
# one installed file by name; "" when missing
found() { find "$root" -path "*$1" -type f | head -1; }

${MAKE:-make} -s -C "$build" install DESTDIR="$root" >"$t/install.log" 2>&1 ||
    { cat "$t/install.log"; echo "FAIL: make install"; exit 1; }

for f in sbin/bounced sbin/bouncectl man8/bounced.8 man8/bouncectl.8 \
    man5/bounced.conf.5 etc/bounced.conf systemd/system/bounced.service \
    systemd/system/bounced-logfollow.service \
    systemd/system/bounced-events.service sysusers.d/bounced.conf \
    completions/bouncectl; do
	[ -n "$(found "/$f")" ] && r=yes || r=no
	check "make install puts .../$f in place" "$r" yes
done

# bounced-events.service: skipped (ExecCondition) without an EventHook,
# so that it is not failed and restarted every 5 s for ever; its
# condition run on configurations with and without one
evunit=$(found /systemd/system/bounced-events.service)
cond=$(sed -n 's/^ExecCondition=//p' "$evunit")
check "bounced-events.service has a condition" "${cond:+yes}" yes
etc=$(sed -n 's|^ExecStart=.* -c \([^ ]*\)/bounced.conf .*|\1|p' "$evunit")
mkdir -p "$t/etc"
cond_on() {
	printf '%s\n' "$1" >"$t/etc/bounced.conf"
	# the command as systemd runs it: sh -c '...', with our folder
	eval "${cond//$etc/$t/etc}" && echo run || echo skipped
}
check "with EventHook exec:...: started" \
    "$(cond_on 'EventHook exec:/usr/local/bin/on-bounce')" run
check "with an indented eventhook https://...: started" \
    "$(cond_on '  eventhook https://app.example/bounces')" run
check "without an EventHook: skipped" "$(cond_on 'Socket inet:8895@127.0.0.1')" skipped
check "with EventHook commented out: skipped" \
    "$(cond_on '# EventHook exec:/bin/true')" skipped
check "with an empty EventHook: skipped" "$(cond_on 'EventHook')" skipped

unit=$(found /systemd/system/bounced.service)
sbin=$(dirname "$(found /sbin/bounced)")
sbin=${sbin#"$root"}
check "the unit starts the installed bounced" \
    "$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$unit")" "$sbin/bounced"
sysusers=$(found /sysusers.d/bounced.conf)
check "the sysusers file makes user bounced" \
    "$(awk '$1 == "u" { print $2 }' "$sysusers")" bounced
check "the sysusers file has no placeholder left" \
    "$(grep -c '@[a-z]*@' "$sysusers")" 0

# the socket of the installed configuration, as Postfix writes it
sock=$(sed -n 's/^Socket[[:space:]]*//p' "$(found /etc/bounced.conf)")
case $sock in
inet:*@*) p=${sock#inet:}; want="inet:${p#*@}:${p%@*}" ;;
unix:*) want=$sock ;;
*) want="(no Socket line)" ;;
esac
check "main.cf.example's smtpd_milters is the installed Socket" \
    "$(sed -n 's/^smtpd_milters = //p' "$top/contrib/postfix/main.cf.example")" "$want"
check "main.cf.example's non_smtpd_milters is the installed Socket" \
    "$(sed -n 's/^non_smtpd_milters = //p' "$top/contrib/postfix/main.cf.example")" "$want"

# the completion, in bash, with bouncectl on PATH
comp=$(found /completions/bouncectl)
complete_words() {
	PATH=$build:$PATH bash -c '
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_bouncectl
		printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$@" 2>/dev/null |
	    sort | tr '\n' ' '
}
check "completion of a command" "$(complete_words bouncectl sta)" "stats status "
check "completion of a command's option" \
    "$(complete_words bouncectl events --fo)" "--follow "
check "completion after help" "$(complete_words bouncectl help met)" "metrics "

${MAKE:-make} -s -C "$build" uninstall DESTDIR="$root" >/dev/null 2>&1
left=$(find "$root" -type f ! -path '*/etc/bounced.conf' | wc -l)
check "make uninstall leaves no file but an edited bounced.conf" "$left" 0

# the README's apt-get line and setup.sh's PACKAGES name every package
# that configure asks for ("install PKG" in its errors)
pkgs=$(sed -n 's/.*install \([a-z0-9.+-]*-dev\).*/\1/p' "$top/configure.ac" | sort -u)
apt=$(sed -n '/^    apt-get install/,/^$/p' "$top/README")
for p in $pkgs; do
	case $apt in *"$p"*) r=yes ;; *) r=no ;; esac
	check "README's apt-get line names $p (configure needs it)" "$r" yes
	grep -q -- "$p" "$top/setup.sh" && r=yes || r=no
	check "setup.sh's PACKAGES names $p" "$r" yes
done

[ "$fails" -eq 0 ] || exit 1
exit 0
