#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# bench/milter/hostile.py DIR - write the hostile bounces of issue 11 into
# DIR, each just under 1 MB (MaxMessageBytes): parts.eml (100,000 tiny
# MIME parts), deep.eml (multiparts nested as deep as 1 MB allows),
# msgchain.eml (message/rfc822 inside message/rfc822 ...), rcpts.eml
# (12,000 recipients), headers.eml (a returned message of 200,000 fields).
import sys, os
d = sys.argv[1]
hdr = ("From: MAILER-DAEMON@remote.test\r\nTo: alice@sender.test\r\n"
       "Subject: Undelivered\r\nMIME-Version: 1.0\r\nContent-Type: "
       "multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n")
ds = ("--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n"
      "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
      "Reporting-MTA: dns; mx.remote.test\r\n\r\n"
      "Final-Recipient: rfc822; bob@remote.test\r\nAction: failed\r\n"
      "Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user\r\n\r\n")
LIM = 1000000 - 1000
def put(name, text):
    with open(os.path.join(d, name), "w") as f:
        f.write(text[:LIM])
body = ds + "--b\r\nContent-Type: multipart/mixed; boundary=\"c\"\r\n\r\n"
put("parts.eml", hdr + body + "--c\r\n\r\nx\r\n" * 100000)
put("deep.eml", hdr + ds + "".join(
    "--b%s\r\nContent-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n" %
    ("" if i == 0 else str(i), i + 1) for i in range(20000)))
put("msgchain.eml", hdr + ds + ("--b\r\nContent-Type: message/rfc822\r\n\r\n"
    "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n") * 20000)
put("rcpts.eml", hdr + "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
    "Reporting-MTA: dns; mx\r\n\r\n" + "".join(
    "Final-Recipient: rfc822; u%d@remote.test\r\nAction: failed\r\n"
    "Status: 5.1.1\r\n\r\n" % i for i in range(12000)))
put("headers.eml", hdr + ds + "--b\r\nContent-Type: message/rfc822\r\n\r\n" +
    "a:b\r\n" * 200000)
