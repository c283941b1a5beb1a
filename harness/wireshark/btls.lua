-- btls.lua — Wireshark/tshark dissector for bTLS 1.0 (reference-impl/SPEC.md).
--
--   tshark -X lua_script:harness/wireshark/btls.lua -r CAPTURE -Y btls -V
--
-- Registers on TCP port 4433 (preference "btls.tcp_port") and as the heuristic dissector
-- "btls_tcp" on TCP for other ports. Reassembles frames across TCP segments, dissects several
-- frames per segment, names every field under "btls." and flags malformed frames with expert
-- info. Field names and filters: harness/wireshark/README.md.

local MAX_FRAME_BODY = 16400 -- BT-FRAME-2
local HEADER_LEN = 4
local AEAD_TAG_LEN = 16 -- both cipher suites of §2.4
local DEFAULT_PORT = 4433

local btls = Proto("btls", "bTLS 1.0")

---------------------------------------------------------------------------------------------
-- Registries (SPEC §2, §9)

local CONTENT_TYPES = { [1] = "HANDSHAKE", [2] = "ALERT", [3] = "APPLICATION" }
local CT_HANDSHAKE, CT_ALERT, CT_APPLICATION = 1, 2, 3

local HANDSHAKE_CODES = {
    [0x01] = "CLIENT_HELLO",
    [0x02] = "SERVER_HELLO",
    [0x03] = "SEND_KEY",
    [0x04] = "SENDING_KEY",
    [0x05] = "CANNOT_SEND_KEY",
    [0x06] = "SUCCESSFUL_VALIDATION",
    [0x07] = "FAILED_VALIDATION",
    [0x08] = "SESSION_DETAILS",
    [0x09] = "CLIENT_READY",
    [0x0A] = "SERVER_READY",
}
local HS = {
    CLIENT_HELLO = 1, SERVER_HELLO = 2, SEND_KEY = 3, SENDING_KEY = 4, CANNOT_SEND_KEY = 5,
    SUCCESSFUL_VALIDATION = 6, FAILED_VALIDATION = 7, SESSION_DETAILS = 8, CLIENT_READY = 9,
    SERVER_READY = 10,
}

local ALERT_DESCRIPTIONS = {
    [0] = "close_notify",
    [10] = "unexpected_message",
    [20] = "bad_record_mac",
    [22] = "record_overflow",
    [40] = "failed_handshake",
    [47] = "illegal_parameter",
    [50] = "decode_error",
    [51] = "decrypt_error",
    [70] = "protocol_version",
    [80] = "internal_error",
    [130] = "handshake_timeout",
}
local ALERT_LEVELS = { [1] = "warning", [2] = "fatal" }

local KEY_ALGORITHMS = { [0x0001] = "ED25519_X25519", [0x0002] = "ECDSA_P256_ECDH_P256" }
-- public key / key share sizes per algorithm (§2.3)
local KEY_SIZES = { [0x0001] = 32, [0x0002] = 65 }

local CIPHER_SUITES = { [0x0001] = "AES_256_GCM", [0x0002] = "CHACHA20_POLY1305" }

local VALIDATION_REASONS = {
    [0x01] = "UNTRUSTED_KEY",
    [0x02] = "EXPIRED_KEY",
    [0x03] = "ALGORITHM_NOT_ALLOWED",
    [0x04] = "HANDLE_MISMATCH",
    [0x05] = "BAD_REGISTRY_SIGNATURE",
    [0x06] = "MALFORMED_KEY",
    [0x07] = "UNEXPECTED_IDENTITY",
    [0x08] = "PIN_MISMATCH",
}

local VERSIONS = { [0x0100] = "bTLS 1.0" }

---------------------------------------------------------------------------------------------
-- Fields

local F = {
    -- frame layer
    content_type = ProtoField.uint8("btls.content_type", "Content type", base.DEC, CONTENT_TYPES),
    subcode = ProtoField.uint8("btls.subcode", "Subcode", base.DEC),
    length = ProtoField.uint16("btls.length", "Length", base.DEC),
    body = ProtoField.bytes("btls.body", "Body (not decoded)"),
    summary = ProtoField.string("btls.summary", "Summary"),
    problem = ProtoField.string("btls.problem", "Problem"),
    continuation = ProtoField.bytes("btls.continuation",
        "Continuation of a frame begun in an earlier segment"),
    handshake_code = ProtoField.uint8("btls.handshake.code", "Handshake code", base.DEC,
        HANDSHAKE_CODES),
    -- alerts
    alert_description = ProtoField.uint8("btls.alert.description", "Alert description", base.DEC,
        ALERT_DESCRIPTIONS),
    alert_level = ProtoField.uint8("btls.alert.level", "Alert level", base.DEC, ALERT_LEVELS),
    -- protected frames
    protected = ProtoField.bool("btls.protected", "Protected"),
    protected_payload = ProtoField.bytes("btls.protected.payload", "Encrypted payload"),
    protected_ciphertext = ProtoField.bytes("btls.protected.ciphertext", "Ciphertext"),
    protected_tag = ProtoField.bytes("btls.protected.tag", "AEAD tag"),
    protected_plaintext_length = ProtoField.uint16("btls.protected.plaintext_length",
        "Plaintext length", base.DEC),
    -- CLIENT_HELLO / SERVER_HELLO
    hello_version = ProtoField.uint16("btls.hello.version", "Version", base.HEX, VERSIONS),
    hello_random = ProtoField.bytes("btls.hello.random", "Random"),
    hello_session_id_length = ProtoField.uint8("btls.hello.session_id_length",
        "Session ID length", base.DEC),
    hello_session_id = ProtoField.bytes("btls.hello.session_id", "Session ID"),
    hello_key_algorithm = ProtoField.uint16("btls.hello.key_algorithm", "Key algorithm", base.HEX,
        KEY_ALGORITHMS),
    hello_reg_handle_length = ProtoField.uint8("btls.hello.reg_handle_length",
        "Registration handle length", base.DEC),
    hello_reg_handle = ProtoField.string("btls.hello.reg_handle", "Registration handle"),
    hello_key_handle_length = ProtoField.uint8("btls.hello.key_handle_length",
        "Key handle length", base.DEC),
    hello_key_handle = ProtoField.string("btls.hello.key_handle", "Key handle"),
    hello_key_share_length = ProtoField.uint8("btls.hello.key_share_length", "Key share length",
        base.DEC),
    hello_key_share = ProtoField.bytes("btls.hello.key_share", "Key share"),
    hello_cipher_suites_length = ProtoField.uint8("btls.hello.cipher_suites_length",
        "Cipher suites length", base.DEC),
    hello_cipher_suite = ProtoField.uint16("btls.hello.cipher_suite", "Cipher suite", base.HEX,
        CIPHER_SUITES),
    -- SENDING_KEY (PublishedKey)
    key_reg_handle_length = ProtoField.uint8("btls.key.reg_handle_length",
        "Registration handle length", base.DEC),
    key_reg_handle = ProtoField.string("btls.key.reg_handle", "Registration handle"),
    key_key_handle_length = ProtoField.uint8("btls.key.key_handle_length", "Key handle length",
        base.DEC),
    key_key_handle = ProtoField.string("btls.key.key_handle", "Key handle"),
    key_key_algorithm = ProtoField.uint16("btls.key.key_algorithm", "Key algorithm", base.HEX,
        KEY_ALGORITHMS),
    key_public_key_length = ProtoField.uint16("btls.key.public_key_length", "Public key length",
        base.DEC),
    key_public_key = ProtoField.bytes("btls.key.public_key", "Public key"),
    key_not_before = ProtoField.uint64("btls.key.not_before", "Not before (Unix seconds)",
        base.DEC),
    key_not_after = ProtoField.uint64("btls.key.not_after", "Not after (Unix seconds)", base.DEC),
    key_registry_signature_length = ProtoField.uint16("btls.key.registry_signature_length",
        "Registry signature length", base.DEC),
    key_registry_signature = ProtoField.bytes("btls.key.registry_signature",
        "Registry signature"),
    -- FAILED_VALIDATION
    validation_reason = ProtoField.uint8("btls.validation.reason", "Validation failure reason",
        base.DEC, VALIDATION_REASONS),
    -- SESSION_DETAILS
    session_session_id = ProtoField.bytes("btls.session.session_id", "Session ID"),
    session_cipher_suite = ProtoField.uint16("btls.session.cipher_suite", "Cipher suite",
        base.HEX, CIPHER_SUITES),
    session_signature_length = ProtoField.uint16("btls.session.signature_length",
        "Signature length", base.DEC),
    session_signature = ProtoField.bytes("btls.session.signature", "Signature"),
    -- CLIENT_READY / SERVER_READY
    ready_signature_length = ProtoField.uint16("btls.ready.signature_length", "Signature length",
        base.DEC),
    ready_signature = ProtoField.bytes("btls.ready.signature", "Signature"),
    ready_verify_data = ProtoField.bytes("btls.ready.verify_data", "Verify data"),
}

do
    local list = {}
    for _, f in pairs(F) do list[#list + 1] = f end
    btls.fields = list
end

---------------------------------------------------------------------------------------------
-- Expert info

local E = {
    record_overflow = ProtoExpert.new("btls.expert.record_overflow",
        "Frame length above MAX_FRAME_BODY (record_overflow, BT-FRAME-2)",
        expert.group.MALFORMED, expert.severity.ERROR),
    unknown_content_type = ProtoExpert.new("btls.expert.unknown_content_type",
        "Unknown content type (unexpected_message, BT-FRAME-3)",
        expert.group.MALFORMED, expert.severity.ERROR),
    unknown_handshake_code = ProtoExpert.new("btls.expert.unknown_handshake_code",
        "Unknown handshake code (unexpected_message, BT-FRAME-5)",
        expert.group.MALFORMED, expert.severity.ERROR),
    bad_application_subcode = ProtoExpert.new("btls.expert.bad_application_subcode",
        "APPLICATION subcode is not 0 (decode_error, BT-FRAME-6)",
        expert.group.MALFORMED, expert.severity.ERROR),
    malformed = ProtoExpert.new("btls.expert.malformed",
        "Body does not decode (decode_error, BT-FRAME-7)",
        expert.group.MALFORMED, expert.severity.ERROR),
    unknown_alert = ProtoExpert.new("btls.expert.unknown_alert",
        "Unknown alert description (treated as fatal, BT-ALERT-2)",
        expert.group.PROTOCOL, expert.severity.WARN),
    protocol = ProtoExpert.new("btls.expert.protocol",
        "Protocol violation (a well-formed frame the peer must reject)",
        expert.group.PROTOCOL, expert.severity.WARN),
    partial = ProtoExpert.new("btls.expert.partial",
        "Frame continues beyond this segment (TCP reassembly off or impossible)",
        expert.group.REASSEMBLE, expert.severity.WARN),
    bug = ProtoExpert.new("btls.expert.dissector_bug", "Internal error in the bTLS dissector",
        expert.group.UNDECODED, expert.severity.ERROR),
}

do
    local list = {}
    for _, e in pairs(E) do list[#list + 1] = e end
    btls.experts = list
end

---------------------------------------------------------------------------------------------
-- Preferences

btls.prefs.tcp_port = Pref.uint("TCP port", DEFAULT_PORT,
    "TCP port of the bTLS listener (other ports are found by the heuristic dissector btls_tcp)")

---------------------------------------------------------------------------------------------
-- Helpers

local function name_or_hex(tbl, v, width)
    local n = tbl[v]
    if n then return n end
    return string.format("unknown(0x%0" .. (width or 2) .. "x)", v)
end

-- Adds an enumerated integer field whose label prints unknown values in hex (SPEC §2).
local function add_enum(tree, field, range, label, tbl, width)
    local v = range:uint()
    local shown
    if tbl[v] then
        shown = string.format("%s: %s (%s)", label, tbl[v],
            width == 4 and string.format("0x%04x", v) or tostring(v))
    else
        shown = string.format("%s: unknown (0x%0" .. (width or 2) .. "x)", label, v)
    end
    return tree:add(field, range, v, shown), v
end

local function utc(v)
    -- v is a UInt64; only dates up to year 9999 are formatted
    local ok, s = pcall(function()
        if v > UInt64(253402300799) then return nil end
        return os.date("!%Y-%m-%d %H:%M:%S UTC", v:tonumber())
    end)
    if ok then return s end
    return nil
end

-- A decode failure, raised with error() and caught in dissect_body.
local DecodeError = {}
DecodeError.__index = DecodeError
local function decode_error(msg)
    error(setmetatable({ msg = msg }, DecodeError), 0)
end

-- Sequential reader over a frame body.
local Reader = {}
Reader.__index = Reader

local function new_reader(tvb, offset, length, tree)
    return setmetatable({ tvb = tvb, pos = offset, stop = offset + length, start = offset,
        tree = tree }, Reader)
end

function Reader:remain() return self.stop - self.pos end

function Reader:take(n, what)
    local r = self:remain()
    if r < n then
        decode_error(string.format("%s is truncated: needs %d more byte(s), %d remain", what,
            n - r, r))
    end
    local range = self.tvb(self.pos, n)
    self.pos = self.pos + n
    return range
end

-- Fixed-width field.
function Reader:fixed(field, n, what)
    local r = self:take(n, what)
    return self.tree:add(field, r), r
end

function Reader:uint(field, n, what, tbl, label)
    local r = self:take(n, what)
    if tbl then
        local item, v = add_enum(self.tree, field, r, label, tbl, n * 2)
        return v, item, r
    end
    return r:uint(), self.tree:add(field, r), r
end

-- opaque x<min..max> with an n-byte prefix; `as_string` shows it as UTF-8 text.
-- Returns the value range (nil when empty) and its length.
function Reader:opaque(len_field, val_field, prefix, min, max, what, as_string)
    local pr = self:take(prefix, what .. " length")
    local len = pr:uint()
    local litem = self.tree:add(len_field, pr)
    if len < min or len > max then
        decode_error(string.format("%s length %d is outside %d..%d", what, len, min, max))
    end
    if len == 0 then
        litem:append_text(" (empty)")
        return nil, 0
    end
    local r = self:remain()
    if r < len then
        decode_error(string.format("%s length %d runs past the end of the body (%d byte(s) remain)",
            what, len, r))
    end
    local vr = self:take(len, what)
    if as_string then
        self.tree:add_packet_field(val_field, vr, ENC_UTF_8)
    else
        self.tree:add(val_field, vr)
    end
    return vr, len
end

function Reader:finish(name)
    local r = self:remain()
    if r > 0 then
        decode_error(string.format("%d trailing byte(s) after %s", r, name))
    end
end

---------------------------------------------------------------------------------------------
-- Handshake bodies (SPEC §3). Each takes a Reader and a `note(msg)` callback for
-- well-formed-but-illegal values; errors are raised with decode_error().

local function check_key_share(rd, note, alg, share_len, what, spec_id)
    local want = KEY_SIZES[alg]
    if want and share_len ~= want then
        note(string.format("%s is %d bytes; %s needs %d (%s)", what, share_len,
            KEY_ALGORITHMS[alg], want, spec_id))
    end
end

local function hello(rd, note, is_client)
    local version = rd:uint(F.hello_version, 2, "version", VERSIONS, "Version")
    if version ~= 0x0100 then
        note(string.format("version 0x%04x is not 0x0100 (protocol_version, BT-HS-3)", version))
    end
    rd:fixed(F.hello_random, 32, "random")
    local _, sid_len = rd:opaque(F.hello_session_id_length, F.hello_session_id, 1, 0, 32,
        "session_id")
    if sid_len ~= 0 and sid_len ~= 32 then
        decode_error(string.format("session_id length %d is neither 0 nor 32 (BT-MSG-2)", sid_len))
    end
    local alg = rd:uint(F.hello_key_algorithm, 2, "key_algorithm", KEY_ALGORITHMS,
        "Key algorithm")
    rd:opaque(F.hello_reg_handle_length, F.hello_reg_handle, 1, 1, 255, "reg_handle", true)
    rd:opaque(F.hello_key_handle_length, F.hello_key_handle, 1, 1, 255, "key_handle", true)
    local _, share_len = rd:opaque(F.hello_key_share_length, F.hello_key_share, 1, 1, 255,
        "key_share")
    check_key_share(rd, note, alg, share_len, "key_share", "illegal_parameter, BT-MSG-4")
    local summary = KEY_ALGORITHMS[alg] or string.format("unknown(0x%04x)", alg)
    if is_client then
        local pr = rd:take(1, "cipher_suites length")
        local n = pr:uint()
        local litem = rd.tree:add(F.hello_cipher_suites_length, pr)
        if n < 2 or n > 254 or n % 2 ~= 0 then
            decode_error(string.format(
                "cipher_suites length %d is not an even number in 2..254 (BT-MSG-2)", n))
        end
        if rd:remain() < n then
            decode_error(string.format(
                "cipher_suites length %d runs past the end of the body (%d byte(s) remain)", n,
                rd:remain()))
        end
        litem:append_text(string.format(" (%d suite(s))", n / 2))
        local seen, names = {}, {}
        for _ = 1, n / 2 do
            local cs = rd:uint(F.hello_cipher_suite, 2, "cipher_suite", CIPHER_SUITES,
                "Cipher suite")
            if seen[cs] then
                note(string.format("cipher suite 0x%04x offered twice (illegal_parameter, BT-MSG-3)",
                    cs))
            end
            seen[cs] = true
            names[#names + 1] = name_or_hex(CIPHER_SUITES, cs, 4)
        end
        summary = summary .. ", suites " .. table.concat(names, " ")
    end
    if sid_len == 32 then summary = summary .. ", with session_id" end
    rd:finish(is_client and "CLIENT_HELLO" or "SERVER_HELLO")
    return summary
end

local function published_key(rd, note)
    rd:opaque(F.key_reg_handle_length, F.key_reg_handle, 1, 1, 255, "reg_handle", true)
    rd:opaque(F.key_key_handle_length, F.key_key_handle, 1, 1, 255, "key_handle", true)
    local alg = rd:uint(F.key_key_algorithm, 2, "key_algorithm", KEY_ALGORITHMS, "Key algorithm")
    local _, pk_len = rd:opaque(F.key_public_key_length, F.key_public_key, 2, 1, 1024,
        "public_key")
    check_key_share(rd, note, alg, pk_len, "public_key", "MALFORMED_KEY, BT-KEY-6")
    local r1 = rd:take(8, "not_before")
    local nb = r1:uint64()
    local i1 = rd.tree:add(F.key_not_before, r1)
    local d1 = utc(nb)
    if d1 then i1:append_text(" (" .. d1 .. ")") end
    local r2 = rd:take(8, "not_after")
    local na = r2:uint64()
    local i2 = rd.tree:add(F.key_not_after, r2)
    local d2 = utc(na)
    if d2 then i2:append_text(" (" .. d2 .. ")") end
    if na < nb then
        decode_error(string.format("not_after %s is before not_before %s (BT-MSG-8)",
            tostring(na), tostring(nb)))
    end
    local _, sig_len = rd:opaque(F.key_registry_signature_length, F.key_registry_signature, 2, 0,
        1024, "registry_signature")
    rd:finish("SENDING_KEY")
    local s = KEY_ALGORITHMS[alg] or string.format("unknown(0x%04x)", alg)
    if sig_len > 0 then s = s .. ", registry-signed" end
    return s
end

local function failed_validation(rd)
    local reason = rd:uint(F.validation_reason, 1, "FAILED_VALIDATION reason", VALIDATION_REASONS,
        "Reason")
    rd:finish("FAILED_VALIDATION")
    return name_or_hex(VALIDATION_REASONS, reason, 2)
end

local function session_details(rd)
    rd:fixed(F.session_session_id, 32, "session_id")
    local cs = rd:uint(F.session_cipher_suite, 2, "cipher_suite", CIPHER_SUITES, "Cipher suite")
    rd:opaque(F.session_signature_length, F.session_signature, 2, 1, 1024, "signature")
    rd:finish("SESSION_DETAILS")
    return name_or_hex(CIPHER_SUITES, cs, 4)
end

local function client_ready(rd)
    local _, sig_len = rd:opaque(F.ready_signature_length, F.ready_signature, 2, 0, 1024,
        "signature")
    rd:fixed(F.ready_verify_data, 32, "verify_data")
    rd:finish("CLIENT_READY")
    if sig_len == 0 then return "no signature (resumed)" end
    return nil
end

local function server_ready(rd)
    rd:fixed(F.ready_verify_data, 32, "verify_data")
    rd:finish("SERVER_READY")
    return nil
end

local function empty_body(name)
    return function(rd)
        rd:finish(name)
        return nil
    end
end

local HANDSHAKE_DECODERS = {
    [HS.CLIENT_HELLO] = function(rd, note) return hello(rd, note, true) end,
    [HS.SERVER_HELLO] = function(rd, note) return hello(rd, note, false) end,
    [HS.SEND_KEY] = empty_body("SEND_KEY"),
    [HS.SENDING_KEY] = published_key,
    [HS.CANNOT_SEND_KEY] = empty_body("CANNOT_SEND_KEY"),
    [HS.SUCCESSFUL_VALIDATION] = empty_body("SUCCESSFUL_VALIDATION"),
    [HS.FAILED_VALIDATION] = failed_validation,
    [HS.SESSION_DETAILS] = session_details,
    [HS.CLIENT_READY] = client_ready,
    [HS.SERVER_READY] = server_ready,
}

---------------------------------------------------------------------------------------------
-- Per-direction state: whether the sender has sent its READY (its later ALERT and APPLICATION
-- frames are protected, BT-REC-1), and, when TCP reassembly is off, how much of a frame that
-- began in an earlier segment is still to come. State is computed on the first pass and a
-- snapshot kept per dissector call so that re-dissection (GUI clicks, two-pass tshark) gives
-- the same answer.

local directions = {} -- key -> { protected = bool, skip = n, hdr = string of header bytes }
local snapshots = {}  -- "packet:call" -> copy of the direction state at the call's start

function btls.init()
    directions = {}
    snapshots = {}
end

local f_tcp_stream = Field.new("tcp.stream")

local function direction_key(pinfo)
    local stream = ""
    local ok, fi = pcall(f_tcp_stream)
    if ok and fi then stream = tostring(fi.value) end
    return string.format("%s|%s:%d>%s:%d", stream, tostring(pinfo.src), pinfo.src_port,
        tostring(pinfo.dst), pinfo.dst_port)
end

local function copy_state(s)
    return { protected = s.protected, skip = s.skip, hdr = s.hdr }
end

local function private_counter(pinfo, name)
    local v = tonumber(pinfo.private[name] or "0") + 1
    pinfo.private[name] = tostring(v)
    return v
end

---------------------------------------------------------------------------------------------
-- One frame

-- Problem bookkeeping for one frame.
local function new_frame_ctx(tree, ftree)
    return { tree = tree, ftree = ftree, problems = {} }
end

local function flag(ctx, exp, item_or_tree, msg)
    ctx.problems[#ctx.problems + 1] = msg
    local target = item_or_tree or ctx.ftree
    target:add_proto_expert_info(exp, msg)
    local p = ctx.ftree:add(F.problem, msg)
    p:set_generated()
end

-- Info-column text for a frame; appended after the previous frames of the same packet.
local function add_info(pinfo, text)
    local n = private_counter(pinfo, "btls_info")
    if n == 1 then
        pinfo.cols.protocol:set("bTLS")
        pinfo.cols.info:set(text)
    else
        pinfo.cols.info:append(", " .. text)
    end
end

-- Dissects the frame at `offset`; `avail` bytes of it are in tvb (fewer than the whole frame
-- only when the frame continues in a later segment that cannot be reassembled).
-- `st` is the direction state, updated in place.
local function dissect_frame(tvb, pinfo, tree, offset, avail, st)
    local frame_range = tvb(offset, avail)
    local ftree = tree:add(btls, frame_range)
    local ctx = new_frame_ctx(tree, ftree)

    local ct = tvb(offset, 1):uint()
    local ct_item = add_enum(ftree, F.content_type, tvb(offset, 1), "Content type",
        CONTENT_TYPES, 2)
    local sub, length, len_item
    if avail >= 2 then
        sub = tvb(offset + 1, 1):uint()
        ftree:add(F.subcode, tvb(offset + 1, 1))
    end

    local name -- short name for summary
    if ct == CT_HANDSHAKE then
        name = sub and name_or_hex(HANDSHAKE_CODES, sub, 2) or "HANDSHAKE"
        if sub then
            add_enum(ftree, F.handshake_code, tvb(offset + 1, 1), "Handshake code",
                HANDSHAKE_CODES, 2)
        end
        if sub and not HANDSHAKE_CODES[sub] then
            name = string.format("HANDSHAKE unknown(0x%02x)", sub)
        end
    elseif ct == CT_ALERT then
        name = "Alert"
        if sub then
            local item = add_enum(ftree, F.alert_description, tvb(offset + 1, 1),
                "Alert description", ALERT_DESCRIPTIONS, 2)
            if not ALERT_DESCRIPTIONS[sub] then
                ctx.problems[#ctx.problems + 1] = string.format(
                    "unknown alert description %d (0x%02x)", sub, sub)
                item:add_proto_expert_info(E.unknown_alert, string.format(
                    "Unknown alert description %d (0x%02x): treated as fatal (BT-ALERT-2)", sub,
                    sub))
                ftree:add(F.problem, ctx.problems[#ctx.problems]):set_generated()
            end
        end
    elseif ct == CT_APPLICATION then
        name = "Application data"
    else
        name = string.format("Unknown content type 0x%02x", ct)
    end

    if avail >= 4 then
        length = tvb(offset + 2, 2):uint()
        len_item = ftree:add(F.length, tvb(offset + 2, 2))
    end

    local summary
    if avail < HEADER_LEN then
        flag(ctx, E.partial, ftree, string.format(
            "frame header continues in the next segment (%d of 4 bytes here)", avail))
        summary = name .. " (partial header)"
    elseif length > MAX_FRAME_BODY then
        flag(ctx, E.record_overflow, len_item, string.format(
            "length %d exceeds MAX_FRAME_BODY %d (record_overflow, BT-FRAME-2); the body is not dissected",
            length, MAX_FRAME_BODY))
        summary = string.format("%s (length %d > %d)", name, length, MAX_FRAME_BODY)
    elseif avail < HEADER_LEN + length then
        flag(ctx, E.partial, ftree, string.format(
            "frame continues beyond this segment: %d of %d body bytes here, body not decoded",
            avail - HEADER_LEN, length))
        summary = name .. " (partial)"
        if ct == CT_HANDSHAKE and (sub == HS.CLIENT_READY or sub == HS.SERVER_READY) then
            -- cannot be decoded here; the sender protects what follows it (BT-REC-1)
            st.protected = true
        end
    else
        local body_off = offset + HEADER_LEN
        local body_tvb_range = length > 0 and tvb(body_off, length) or nil

        if ct == CT_HANDSHAKE then
            local was_protected = st.protected
            if was_protected then
                flag(ctx, E.protocol, ftree,
                    "HANDSHAKE frame after the sender's READY (unexpected_message, BT-HS-26)")
            end
            local dec = HANDSHAKE_DECODERS[sub]
            if not dec then
                flag(ctx, E.unknown_handshake_code, ct_item, string.format(
                    "unknown handshake code %d (0x%02x) (unexpected_message, BT-FRAME-5)", sub,
                    sub))
                if body_tvb_range then ftree:add(F.body, body_tvb_range) end
                summary = name
            else
                local mtree = ftree:add(body_tvb_range or tvb(offset, HEADER_LEN),
                    HANDSHAKE_CODES[sub] .. (body_tvb_range and "" or " (empty body)"))
                local rd = new_reader(tvb, body_off, length, mtree)
                local notes = {}
                local function note(msg) notes[#notes + 1] = msg end
                local ok, res = pcall(dec, rd, note)
                for _, m in ipairs(notes) do flag(ctx, E.protocol, mtree, m) end
                if ok then
                    summary = res and (name .. " (" .. res .. ")") or name
                    if sub == HS.CLIENT_READY or sub == HS.SERVER_READY then
                        st.protected = true
                    end
                elseif getmetatable(res) == DecodeError then
                    flag(ctx, E.malformed, mtree, res.msg .. " (decode_error, BT-FRAME-7)")
                    summary = name
                else
                    flag(ctx, E.bug, mtree, "dissector error: " .. tostring(res))
                    summary = name
                end
            end
        elseif ct == CT_ALERT then
            local desc = ALERT_DESCRIPTIONS[sub] or string.format("unknown(%d)", sub)
            if st.protected then
                ftree:add(F.protected, true):set_generated()
                if body_tvb_range then
                    local pl = ftree:add(F.protected_payload, body_tvb_range)
                    if length >= AEAD_TAG_LEN then
                        if length > AEAD_TAG_LEN then
                            pl:add(F.protected_ciphertext, tvb(body_off, length - AEAD_TAG_LEN))
                        end
                        pl:add(F.protected_tag, tvb(body_off + length - AEAD_TAG_LEN,
                            AEAD_TAG_LEN))
                    end
                end
                if length < AEAD_TAG_LEN then
                    flag(ctx, E.protocol, len_item, string.format(
                        "protected frame of %d bytes is shorter than the %d-byte AEAD tag (bad_record_mac, BT-REC-4)",
                        length, AEAD_TAG_LEN))
                else
                    ftree:add(F.protected_plaintext_length, length - AEAD_TAG_LEN)
                        :set_generated()
                    if length ~= 1 + AEAD_TAG_LEN then
                        flag(ctx, E.malformed, len_item, string.format(
                            "protected alert carries %d plaintext bytes, not 1 (decode_error, BT-ALERT-5)",
                            length - AEAD_TAG_LEN))
                    end
                end
                summary = string.format("Alert: %s (protected)", desc)
            else
                ftree:add(F.protected, false):set_generated()
                if length ~= 1 then
                    flag(ctx, E.malformed, len_item, string.format(
                        "alert body is %d bytes, not 1 (decode_error, BT-ALERT-5)", length))
                    if body_tvb_range then ftree:add(F.body, body_tvb_range) end
                    summary = string.format("Alert: %s", desc)
                else
                    local item, level = add_enum(ftree, F.alert_level, tvb(body_off, 1),
                        "Alert level", ALERT_LEVELS, 2)
                    local lname = ALERT_LEVELS[level] or string.format("unknown level %d", level)
                    summary = string.format("Alert: %s (%s)", desc, lname)
                    if not ALERT_LEVELS[level] then
                        flag(ctx, E.protocol, item, string.format(
                            "unknown alert level %d: breaks BT-ALERT-1; a receiver ignores the level and the description decides (BT-ALERT-2)", level))
                    elseif ALERT_DESCRIPTIONS[sub] then
                        local want = (sub == 0) and 1 or 2
                        if level ~= want then
                            flag(ctx, E.protocol, item, string.format(
                                "%s must have level %s (BT-ALERT-1)", desc, ALERT_LEVELS[want]))
                        end
                    end
                end
            end
        elseif ct == CT_APPLICATION then
            if sub ~= 0 then
                flag(ctx, E.bad_application_subcode, ftree, string.format(
                    "APPLICATION subcode %d is not 0 (decode_error, BT-FRAME-6)", sub))
            end
            ftree:add(F.protected, true):set_generated()
            if body_tvb_range then
                local pl = ftree:add(F.protected_payload, body_tvb_range)
                if length >= AEAD_TAG_LEN then
                    if length > AEAD_TAG_LEN then
                        pl:add(F.protected_ciphertext, tvb(body_off, length - AEAD_TAG_LEN))
                    end
                    pl:add(F.protected_tag, tvb(body_off + length - AEAD_TAG_LEN, AEAD_TAG_LEN))
                end
            end
            if length < AEAD_TAG_LEN then
                flag(ctx, E.protocol, len_item, string.format(
                    "protected frame of %d bytes is shorter than the %d-byte AEAD tag (bad_record_mac, BT-REC-4)",
                    length, AEAD_TAG_LEN))
            else
                ftree:add(F.protected_plaintext_length, length - AEAD_TAG_LEN):set_generated()
            end
            if not st.protected then
                flag(ctx, E.protocol, ftree,
                    "APPLICATION frame before the sender's READY (BT-REC-6, BT-HS-25)")
            end
            summary = string.format("Application data (protected, %d bytes)", length)
        else
            flag(ctx, E.unknown_content_type, ct_item, string.format(
                "unknown content type %d (0x%02x) (unexpected_message, BT-FRAME-3)", ct, ct))
            if body_tvb_range then ftree:add(F.body, body_tvb_range) end
            summary = string.format("%s, %d bytes", name, length)
        end
    end

    if #ctx.problems > 0 then
        summary = summary .. " [" .. table.concat(ctx.problems, "; ") .. "]"
    end
    ftree:append_text(": " .. summary)
    ftree:add(F.summary, summary):set_generated()
    add_info(pinfo, summary)
end

---------------------------------------------------------------------------------------------
-- Segment loop

-- Header bytes from a string carried over from an earlier segment followed by tvb bytes.
local function header_bytes(carry, tvb, offset, len)
    local b = {}
    for i = 1, #carry do b[#b + 1] = carry:byte(i) end
    local i = offset
    while #b < HEADER_LEN and i < len do
        b[#b + 1] = tvb(i, 1):uint()
        i = i + 1
    end
    return b
end

local function dissect_segment(tvb, pinfo, tree)
    local len = tvb:len()
    if len == 0 then return 0 end
    local can_desegment = (pinfo.can_desegment or 0) > 0

    local dkey = direction_key(pinfo)
    local st = directions[dkey]
    if not st then
        st = { protected = false, skip = 0, hdr = "" }
        directions[dkey] = st
    end
    local call = private_counter(pinfo, "btls_calls")
    local skey = tostring(pinfo.number) .. ":" .. tostring(call)
    local work
    if pinfo.visited and snapshots[skey] then
        work = copy_state(snapshots[skey])
    else
        snapshots[skey] = copy_state(st)
        work = st
    end

    local offset = 0

    -- Reassembly off: the start of this segment may continue a frame of an earlier segment.
    if work.hdr ~= "" then
        local b = header_bytes(work.hdr, tvb, 0, len)
        local took = #b - #work.hdr
        if #b < HEADER_LEN then
            local t = tree:add(btls, tvb(0, took))
            t:add(F.continuation, tvb(0, took))
            work.hdr = work.hdr .. tvb(0, took):raw()
            return len
        end
        local length = b[3] * 256 + b[4]
        if b[1] == CT_HANDSHAKE and (b[2] == HS.CLIENT_READY or b[2] == HS.SERVER_READY) then
            work.protected = true -- as for a partial READY in dissect_frame
        end
        work.hdr = ""
        work.skip = (length > MAX_FRAME_BODY) and 0 or length
        if took > 0 then
            local t = tree:add(btls, tvb(0, took))
            t:add(F.continuation, tvb(0, took))
        end
        offset = took
    end
    if work.skip > 0 and offset < len then
        local n = math.min(work.skip, len - offset)
        local t = tree:add(btls, tvb(offset, n))
        t:append_text(string.format(": continuation of an earlier frame (%d bytes)", n))
        t:add(F.continuation, tvb(offset, n))
        work.skip = work.skip - n
        offset = offset + n
    end

    while offset < len do
        local avail = len - offset
        if avail < HEADER_LEN then
            if can_desegment then
                pinfo.desegment_offset = offset
                pinfo.desegment_len = DESEGMENT_ONE_MORE_SEGMENT
                return len
            end
            dissect_frame(tvb, pinfo, tree, offset, avail, work)
            work.hdr = tvb(offset, avail):raw()
            return len
        end
        local length = tvb(offset + 2, 2):uint()
        -- An oversize header is a frame of its own: receivers reject it without waiting for
        -- the body (BT-FRAME-2), and senders of one usually send no body.
        local pdu = (length > MAX_FRAME_BODY) and HEADER_LEN or (HEADER_LEN + length)
        if avail < pdu then
            if can_desegment then
                pinfo.desegment_offset = offset
                pinfo.desegment_len = pdu - avail
                return len
            end
            dissect_frame(tvb, pinfo, tree, offset, avail, work)
            work.skip = pdu - avail
            return len
        end
        dissect_frame(tvb, pinfo, tree, offset, pdu, work)
        offset = offset + pdu
    end
    return offset
end

local function main_dissector(tvb, pinfo, tree)
    local ok, res = pcall(dissect_segment, tvb, pinfo, tree)
    if ok then return res end
    -- Never let a Lua error escape: show it as expert info instead.
    local t = tree:add(btls, tvb())
    t:add_proto_expert_info(E.bug, "dissector error: " .. tostring(res))
    return tvb:len()
end

btls.dissector = main_dissector

---------------------------------------------------------------------------------------------
-- Heuristic: the segment starts with a plausible bTLS frame header.

local function known_subcode(ct, sub)
    if ct == CT_HANDSHAKE then return HANDSHAKE_CODES[sub] ~= nil end
    if ct == CT_ALERT then return ALERT_DESCRIPTIONS[sub] ~= nil end
    if ct == CT_APPLICATION then return sub == 0 end
    return false
end

local f_tcp_seq = Field.new("tcp.seq")

local function heuristic(tvb, pinfo, tree)
    local len = tvb:len()
    if len < 1 then return false end
    local ct = tvb(0, 1):uint()
    if not CONTENT_TYPES[ct] then return false end
    if len == 1 then
        -- A one-byte first segment (a writer sending byte by byte, BT-TIME-2): ask TCP for
        -- the next segment and decide on the two bytes, without claiming the conversation.
        local ok, seq = pcall(f_tcp_seq)
        if ok and seq and seq.value == 1 and (pinfo.can_desegment or 0) > 0 then
            pinfo.desegment_offset = 0
            pinfo.desegment_len = DESEGMENT_ONE_MORE_SEGMENT
            return true
        end
        return false
    end
    if not known_subcode(ct, tvb(1, 1):uint()) then return false end
    if len >= 4 then
        if tvb(2, 2):uint() > MAX_FRAME_BODY then return false end
    elseif len == 3 then
        -- a tiny segment (slow writer): the high length byte must allow <= MAX_FRAME_BODY
        if tvb(2, 1):uint() * 256 > MAX_FRAME_BODY then return false end
    end
    pinfo.conversation = btls
    -- call the Lua function itself: calling btls.dissector (a Dissector handle) would take
    -- away the right to ask TCP for reassembly (pinfo.can_desegment)
    main_dissector(tvb, pinfo, tree)
    return true
end

btls:register_heuristic("tcp", heuristic)

---------------------------------------------------------------------------------------------
-- Port registration (preference-driven)

local tcp_port_table = DissectorTable.get("tcp.port")
local registered_port = DEFAULT_PORT
tcp_port_table:add(registered_port, btls)

function btls.prefs_changed()
    local p = btls.prefs.tcp_port
    if p ~= registered_port then
        if registered_port ~= 0 then tcp_port_table:remove(registered_port, btls) end
        registered_port = p
        if p ~= 0 then tcp_port_table:add(p, btls) end
    end
end
