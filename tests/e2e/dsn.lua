-- SPDX-License-Identifier: BSD-2-Clause
-- Copyright (c) 2026 The bounced authors
--
-- tests/e2e/dsn.lua - one milter transaction against bounced, driven by
-- miltertest(8) from e2e-miltertest.sh.  It plays the MTA side the way
-- Postfix does on the path in question (see ../shared/POSTFIX-NOTES.md):
-- emulated connect and HELO, {i} already set at MAIL, the envelope
-- sender as given, the message read from a file and sent as headers
-- (the space after the colon kept only with SMFIP_HDR_LEADSPC, folding
-- kept as LF) and a CRLF body in chunks; steps the milter negotiated
-- away are not sent.
--
-- Globals, from miltertest -D NAME=VALUE:
--   sock      milter socket spec, e.g. unix:/tmp/x/bounced.sock
--   from      envelope sender: "<>" or "" for a bounce, else an address
--   rcpt      envelope recipient
--   msg       message file (only when the transaction goes past MAIL)
--   qid       value of the {i} macro
--   client_addr  value of {client_addr} at MAIL (optional)
--   want_mail reply wanted at MAIL FROM: accept | continue
--   want_eom  reply wanted at end of message: accept | continue |
--             tempfail | discard (ignored when want_mail is accept)
--
-- A Lua error() makes miltertest exit 1 without saying why, so every
-- milter call goes through pcall, every failure is printed as
-- "got X, want Y", and the script ends with error() only after that.

local failures = 0

local function say(s)
	mt.echo("dsn.lua: " .. s)
end

local function fail(what, got, want)
	failures = failures + 1
	say(string.format("FAIL: %s: got %s, want %s", what, tostring(got),
	    tostring(want)))
end

local reply_names = {
	[SMFIR_ACCEPT] = "accept",
	[SMFIR_CONTINUE] = "continue",
	[SMFIR_TEMPFAIL] = "tempfail",
	[SMFIR_REJECT] = "reject",
	[SMFIR_DISCARD] = "discard",
	[SMFIR_REPLYCODE] = "replycode",
	[SMFIR_SKIP] = "skip",
}

local function reply_name(r)
	if r == nil then
		return "nil"
	end
	return reply_names[r] or string.format("0x%02x", math.floor(r))
end

-- step - call a milter function under pcall; true if it returned nil
local function step(what, f, ...)
	local ok, r = pcall(f, ...)
	if not ok then
		fail(what, "a Lua error (" .. tostring(r) .. ")", "success")
		return false
	end
	if r ~= nil then
		fail(what, r, "success")
		return false
	end
	return true
end

-- expect - the last reply on conn must be the one named want
local function expect(conn, what, want)
	local got = reply_name(mt.getreply(conn))
	if got ~= want then
		fail("reply to " .. what, got, want)
		return false
	end
	say(string.format("ok:   reply to %s is %s", what, got))
	return true
end

-- read_message - headers {name, value} and the body (CRLF) of a file
local function read_message(path)
	local fh, err = io.open(path, "rb")
	if fh == nil then
		error("cannot read " .. path .. ": " .. tostring(err))
	end
	local text = fh:read("a")
	fh:close()
	text = text:gsub("\r\n", "\n")
	local head, body = text:match("^(.-)\n\n(.*)$")
	if head == nil then
		head, body = text, ""
	end
	local headers = {}
	for line in (head .. "\n"):gmatch("(.-)\n") do
		if line:match("^[ \t]") and #headers > 0 then
			local h = headers[#headers]
			h.value = h.value .. "\n" .. line
		else
			local name, value = line:match("^([^:]+):[ \t]*(.*)$")
			if name ~= nil then
				headers[#headers + 1] = { name = name, value = value }
			end
		end
	end
	return headers, (body:gsub("\n", "\r\n"))
end

local function run()
	for _, v in ipairs({ "sock", "from", "rcpt", "qid", "want_mail" }) do
		if _G[v] == nil then
			error("missing -D " .. v)
		end
	end
	local conn = mt.connect(sock, 50, 0.1)
	if conn == nil then
		fail("connect to " .. sock, "no connection", "a connection")
		return
	end
	-- Offer everything, then leave out the steps the milter negotiated
	-- away: miltertest raises an error for those (POSTFIX-NOTES 8).
	if not step("option negotiation", mt.negotiate, conn, nil, nil,
	    nil) then
		return
	end
	local function off(opt)
		return opt ~= nil and mt.test_option(conn, opt)
	end
	if not off(SMFIP_NOCONNECT) then
		if not step("connect", mt.conninfo, conn, "localhost",
		    "127.0.0.1") then
			return
		end
		expect(conn, "connect", "continue")
	end
	if not off(SMFIP_NOHELO) then
		if not step("HELO", mt.helo, conn, "localhost") then
			return
		end
	end
	-- Postfix sends {client_addr} at MAIL when the milter asks for it,
	-- on its internal path too (the emulated 127.0.0.1 connection)
	if client_addr ~= nil then
		mt.macro(conn, SMFIC_MAIL, "i", qid, "{mail_addr}", "",
		    "{client_addr}", client_addr)
	else
		mt.macro(conn, SMFIC_MAIL, "i", qid, "{mail_addr}", "")
	end
	if not step("MAIL FROM:" .. from, mt.mailfrom, conn, from) then
		return
	end
	if not expect(conn, "MAIL FROM:" .. from, want_mail) then
		return
	end
	if want_mail == "accept" then
		mt.disconnect(conn)
		return
	end

	if not off(SMFIP_NORCPT) then
		mt.macro(conn, SMFIC_RCPT, "{rcpt_addr}", rcpt)
		if not step("RCPT TO:" .. rcpt, mt.rcptto, conn, rcpt) then
			return
		end
		expect(conn, "RCPT TO:" .. rcpt, "continue")
	end
	if not off(SMFIP_NODATA) then
		if not step("DATA", mt.data, conn) then
			return
		end
	end
	local headers, body = read_message(msg)
	-- as Postfix: the space after the colon is part of the value only
	-- when the milter asked for SMFIP_HDR_LEADSPC
	local lead = off(SMFIP_HDR_LEADSPC) and " " or ""
	if not off(SMFIP_NOHDRS) then
		for _, h in ipairs(headers) do
			if not step("header " .. h.name, mt.header, conn,
			    h.name, lead .. h.value) then
				return
			end
		end
	end
	if not off(SMFIP_NOEOH) then
		if not step("end of headers", mt.eoh, conn) then
			return
		end
	end
	local chunk = 65535
	for i = 1, off(SMFIP_NOBODY) and 0 or #body, chunk do
		if not step("body", mt.bodystring, conn,
		    body:sub(i, i + chunk - 1)) then
			return
		end
	end
	if not step("end of message", mt.eom, conn) then
		return
	end
	expect(conn, "end of message", want_eom)
	mt.disconnect(conn)
end

local ok, err = pcall(run)
if not ok then
	fail("dsn.lua", "a Lua error (" .. tostring(err) .. ")", "none")
end
if failures > 0 then
	say(failures .. " check(s) failed")
	error("dsn.lua failed")
end
