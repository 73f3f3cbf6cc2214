#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# e2e-trust-sign.sh - signed return addresses (SignEnvelope, issue 10):
#
# 4. with signing on, outbound mail from alice@sender.test leaves with a
#    prvs=0DDDHHHHHH=alice@sender.test envelope sender (smfi_chgfrom) and
#    is delivered; the tag is the one this script computes from the key
#    (HMAC-SHA256 over "0DDD" and the address, the first six hex digits);
#    a remote DSN that comes back to the valid tag counts even about a
#    message the relay has no record of (harry); to a wrong tag it does
#    not, even about a message that was sent (bob); to an expired tag
#    (30 days old) it does not (ivan).  Postfix's own DSN for signed mail
#    (judy, refused 5.1.1 by the remote) counts too.  With the
#    recipient_canonical_maps of bounced(8), every one of these bounces is
#    delivered to alice@sender.test, the address without its tag.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/trust.sh"

e2e_need_postfix
e2e_mkdir
key=$E2E_DIR/etc/prvs.key
head -c 32 /dev/urandom | base64 >"$key"
chmod 0600 "$key"
[ "$(id -u)" = 0 ] && chown "$E2E_USER" "$key"
e2e_write_bounced_conf SignEnvelope yes SignKeyFile "$key" \
    SignSenders '*@sender.test'
e2e_start_bounced
e2e_start_postfix judy@remote.test=hard
# The Postfix lines of bounced(8) SECURITY: a bounce to a signed address
# is delivered to the address without its tag.
e2e_log "recipient_canonical_maps strips prvs= tags (postfix reload)"
cat >"$E2E_DIR/etc/prvs.regexp" <<'RE'
/^prvs=0[0-9]{3}[0-9a-f]{6}=(.+@.+)$/	${1}
RE
echo "recipient_canonical_maps = regexp:$E2E_DIR/etc/prvs.regexp" \
    >>"$E2E_DIR/etc/main.cf"
postfix -c "$E2E_DIR/etc" reload >>"$E2E_DIR/postfix-start.log" 2>&1 ||
    e2e_error "postfix reload failed"
sleep 1

# prvs_tag ADDR DAYS-AGO - the tag bounced makes for ADDR that many days ago
prvs_tag()
{
	python3 - "$key" "$1" "$2" <<'PY'
import hashlib, hmac, sys, time
key = open(sys.argv[1], "rb").read().rstrip(b"\r\n")
addr, ago = sys.argv[2], int(sys.argv[3])
ddd = "%03d" % ((int(time.time()) // 86400 - ago) % 1000)
h = hmac.new(key, ("0" + ddd + addr.lower()).encode(), hashlib.sha256)
print("prvs=0%s%s=%s" % (ddd, h.hexdigest()[:6], addr))
PY
}

e2e_log "sending from $E2E_SENDER to bob@remote.test (accepted) and" \
    "judy@remote.test (550 5.1.1)"
e2e_send "$E2E_SENDER" bob@remote.test "e2e trust sign"
e2e_send "$E2E_SENDER" judy@remote.test "e2e trust sign judy"
e2e_wait_qids bob@remote.test sent 1 30 ||
    e2e_error "the message to bob@remote.test was not delivered"
qid=$(e2e_qids bob@remote.test sent | head -n 1)
from=$(sed -n "s/.*: $qid: from=<\\([^>]*\\)>.*/\\1/p" "$E2E_MAILLOG" |
    head -n 1)
good=$(prvs_tag "$E2E_SENDER" 0)
e2e_check "envelope sender of bob's message as Postfix delivered it" \
    "$from" "$good"
e2e_check "bob's message delivered" "$(e2e_count_qids bob@remote.test sent)" 1
case $good in
prvs=0???[0-5]*)	bad=${good:0:9}f${good:10} ;;
*)			bad=${good:0:9}0${good:10} ;;
esac
old=$(prvs_tag "$E2E_SENDER" 30)

d=$E2E_DIR/reports
mkdir -p "$d"
trust_dsn "$d/harry.eml" harry@remote.test "<not-recorded-1@sender.test>"
trust_dsn "$d/bob.eml" bob@remote.test "$(trust_msgid bob@remote.test)"
trust_dsn "$d/ivan.eml" ivan@remote.test "<not-recorded-2@sender.test>"
e2e_log "remote DSNs: harry to $good, bob to $bad, ivan to $old"
e2e_send_file "" "$good" "$d/harry.eml"
e2e_send_file "" "$bad" "$d/bob.eml"
e2e_send_file "" "$old" "$d/ivan.eml"
back_re='to=<alice@sender\.test>, orig_to=<prvs=[^>]*=alice@sender\.test>,'
back_re="$back_re.* status=sent"
e2e_wait_log "$back_re" 4 30
e2e_check "reports to the signed addresses delivered to $E2E_SENDER" \
    "$(e2e_count_log "$back_re")" 4

e2e_wait_status harry@remote.test 1 10
trust_state harry@remote.test
e2e_check "state of harry@remote.test (valid tag)" "$E2E_STATE" suppressed
e2e_check "trust of harry's event" "$(trust_last harry@remote.test trust)" \
    signed-return-path
trust_wait_held bob@remote.test 10
trust_state bob@remote.test
e2e_check "state of bob@remote.test (wrong tag)" "$E2E_STATE" active
e2e_check "why bob's event is not trusted" \
    "$(trust_last bob@remote.test trust)" bad-signature
trust_wait_held ivan@remote.test 10
trust_state ivan@remote.test
e2e_check "state of ivan@remote.test (expired tag)" "$E2E_STATE" active
e2e_check "why ivan's event is not trusted" \
    "$(trust_last ivan@remote.test trust)" expired-signature
e2e_wait_status judy@remote.test 1 10
trust_state judy@remote.test
e2e_check "state of judy@remote.test (Postfix's own DSN, signed mail)" \
    "$E2E_STATE" suppressed
e2e_check "trust of judy's event" "$(trust_last judy@remote.test trust)" \
    send:queue-id
e2e_check_milter_clean

e2e_finish
