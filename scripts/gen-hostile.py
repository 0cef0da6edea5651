#!/usr/bin/env python3
"""Writes Fixtures/hostile/cases.jsonl: bad records and bad invocations of the spendlog CLI.

Run from the repository root: `python3 scripts/gen-hostile.py`. The output is checked in; change
this script and run it again rather than editing the output. Tests/CLITests/HostileInputTests.swift
runs every case against the built binary in a fresh log directory and expects its exit code, the
field (or flag) it names on standard error, and nothing written.

One JSON object per line:
  name      unique, says what is wrong
  argv      the arguments; "{dir}" is the log directory, "{file}" the input file. An argument
            that is not UTF-8 is {"b64": "..."}.
  stdin     standard input as text, or stdin_b64 as bytes, or stdin_fill (below)
  file      content of {file} as text, or file_b64 as bytes, or file_fill (below)
  *_fill    generated content, so that no fixture is large: {"prefix": text, "repeat": text,
            "count": n, "suffix": text} is prefix + repeat * count + suffix
  budget    true: the log directory starts as a log with one limit (its budget must not change)
  exit      the expected exit code (64: bad flags, 65: bad input data)
  field     the field (ingest) or flag (`--project`) that standard error must name; for ingest
            standard error must hold "line <line>: <field>". null when the fault is the JSON
            text itself and no field is concerned: then "line <line>: " must appear, and the
            mentions say what else (the byte offset, "byte ", unless given otherwise).
  line      for ingest: the line number the error names (default 1)
  mentions  further text standard error must hold (optional)
"""

import base64
import json
import os
import sys

TS = '"2026-11-23T10:15:02.123Z"'
BASE = [
    ("ts", TS),
    ("project", '"etl"'),
    ("model", '"gpt-4.1"'),
    ("input_tokens", "10"),
    ("output_tokens", "5"),
    ("cost_usd", "0.01"),
]
NAME_KEYS = ["project", "model", "provider", "user", "caller", "session", "request_id", "role", "task"]
COUNT_KEYS = [
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "latency_ms",
]
MIB = 1 << 20

cases = []


def add(name, **case):
    assert all(c["name"] != name for c in cases), name
    case = {"name": name, **case}
    cases.append(case)


def record(overrides=(), drop=(), extra=()):
    """A line as bytes: BASE with keys replaced by raw JSON bytes (or removed), then `extra`."""
    over = dict(overrides)
    parts = []
    for key, raw in BASE:
        if key in drop:
            continue
        value = over.pop(key, raw)
        parts.append(b'"' + key.encode() + b'":' + as_bytes(value))
    for key, raw in list(over.items()) + list(extra):
        parts.append(b'"' + key.encode() + b'":' + as_bytes(raw))
    return b"{" + b",".join(parts) + b"}"


def as_bytes(value):
    return value if isinstance(value, bytes) else value.encode()


def ingest(name, line, field, *, line_no=1, mentions=None, via_file=False, before=()):
    """An ingest case: `line` (bytes) after the valid lines `before`."""
    data = b"".join(l + b"\n" for l in before) + line + b"\n"
    case = {"argv": ["ingest", "--dir", "{dir}", "{file}" if via_file else "-"]}
    key = "file" if via_file else "stdin"
    try:
        case[key] = data.decode("utf-8")
    except UnicodeDecodeError:
        case[key + "_b64"] = base64.b64encode(data).decode()
    case.update(exit=65, field=field)
    if line_no != 1:
        case["line"] = line_no
    if field is None and not mentions:
        mentions = ["byte "]
    if mentions:
        case["mentions"] = mentions
    add(name, **case)


def flags(name, argv, flag, *, exit_code=64, mentions=None, budget=False, **extra):
    case = {"argv": argv, "exit": exit_code, "field": flag}
    if budget:
        case["budget"] = True
    if mentions:
        case["mentions"] = mentions
    case.update(extra)
    add(name, **case)


def raw_arg(data):
    return {"b64": base64.b64encode(data).decode()}


def jstr(text):
    return json.dumps(text, ensure_ascii=False)


# ---------------------------------------------------------------------------------------------
# ingest: token counts

BAD_COUNTS = [
    ("negative", "-1"),
    ("minus-zero", "-0"),
    ("string", '"12"'),
    ("word", '"abc"'),
    ("fraction", "1.5"),
    ("whole-with-fraction", "10.0"),
    ("exponent", "1e3"),
    ("exponent-upper-signed", "1E+2"),
    ("above-int64", "9223372036854775808"),
    ("thirty-digits", "123456789012345678901234567890"),
    ("above-2-53", "9007199254740993"),
    ("leading-zero", "012"),
    ("plus-sign", "+5"),
    ("hex", "0x10"),
    ("nan-word", "NaN"),
    ("bool", "true"),
    ("array", "[1]"),
    ("object", '{"n":1}'),
]
# Every bad count for the two main counts; a sample for the others, which share the code.
COUNT_SAMPLE = {"negative", "string", "fraction", "exponent", "above-int64", "above-2-53", "hex"}
for key in COUNT_KEYS:
    for label, raw in BAD_COUNTS:
        if key in ("input_tokens", "output_tokens") or label in COUNT_SAMPLE:
            ingest(f"ingest-{key}-{label}", record([(key, raw)]), key)

# Counts that break a rule between fields.
ingest("ingest-cached-above-input", record([("cached_input_tokens", "11")]), "cached_input_tokens")
ingest("ingest-cache-write-above-input", record([("cache_write_tokens", "11")]), "cache_write_tokens")
ingest(
    "ingest-cache-reads-plus-writes-above-input",
    record([("cached_input_tokens", "6"), ("cache_write_tokens", "5")]),
    "cache_write_tokens",
)
ingest("ingest-reasoning-above-output", record([("reasoning_tokens", "6")]), "reasoning_tokens")
ingest(
    "ingest-cache-write-1h-above-cache-write",
    record([("cache_write_tokens", "2"), ("cache_write_1h_tokens", "3")]),
    "cache_write_1h_tokens",
)
ingest("ingest-cache-write-1h-negative", record([("cache_write_1h_tokens", "-1")]), "cache_write_1h_tokens")
# A line without a cost is priced: its service tier must be one the table knows.
ingest("ingest-service-tier-unknown", record([("service_tier", '"gold"')], drop=["cost_usd"]), "service_tier")

# ---------------------------------------------------------------------------------------------
# ingest: cost

BAD_COSTS = [
    ("nan", "NaN"),
    ("infinity", "Infinity"),
    ("minus-infinity", "-Infinity"),
    ("negative", "-0.01"),
    ("huge-exponent", "1e999"),
    ("huge-negative-exponent", "-1e999"),
    ("string", '"0.1"'),
    ("ten-decimals", "0.0000000001"),
    ("tiny-exponent", "1e-10"),
    ("above-million", "1000000.000000001"),
    ("million-and-one", "1000001"),
    ("thirty-digits", "123456789012345678901234567890"),
    ("bool", "true"),
    ("array", "[0.1]"),
    ("two-points", "0.1.2"),
    ("bare-exponent", "1e"),
    ("leading-point", ".5"),
    ("leading-zero", "01.5"),
    ("trailing-point", "1."),
]
for label, raw in BAD_COSTS:
    ingest(f"ingest-cost-{label}", record([("cost_usd", raw)]), "cost_usd")
ingest("ingest-cost-source-unknown", record([("cost_source", '"free"')]), "cost_source")
ingest("ingest-cost-source-capitalised", record([("cost_source", '"Provided"')]), "cost_source")
ingest("ingest-cost-source-number", record([("cost_source", "5")]), "cost_source")
ingest("ingest-unpriced-with-a-cost", record([("cost_source", '"unpriced"')]), "cost_source")

# ---------------------------------------------------------------------------------------------
# ingest: names

BAD_NAMES = [
    ("empty", b'""'),
    ("257-bytes", jstr("n" * 257).encode()),
    ("258-bytes-of-two-byte-characters", jstr("\u00e9" * 129).encode()),
    ("escaped-control", b'"a\\u0001b"'),
    ("escaped-newline", b'"a\\nb"'),
    ("raw-control", b'"a\x01b"'),
    ("raw-nul", b'"a\x00b"'),
    ("raw-tab", b'"a\tb"'),
    ("raw-del", b'"a\x7fb"'),
    ("c1-control", b'"a\\u0085b"'),
    ("invalid-utf8", b'"a\xffb"'),
    ("overlong-utf8", b'"a\xc0\xafb"'),
    ("truncated-utf8", b'"a\xe2\x82"'),
    ("utf8-surrogate", b'"a\xed\xa0\x80b"'),
    ("lone-high-surrogate", b'"a\\ud800"'),
    ("lone-low-surrogate", b'"\\udc00a"'),
    ("bad-escape", b'"a\\qb"'),
    ("number", b"5"),
    ("bool", b"true"),
    ("object", b"{}"),
    ("array", b'["a"]'),
]
NAME_SAMPLE = {"empty", "257-bytes", "raw-control", "c1-control", "invalid-utf8", "lone-high-surrogate", "number"}
for key in NAME_KEYS:
    for label, raw in BAD_NAMES:
        if key in ("project", "model", "user", "task") or label in NAME_SAMPLE:
            ingest(f"ingest-{key}-{label}", record([(key, raw)]), key)
for key in ["project", "model"]:
    ingest(f"ingest-{key}-null", record([(key, "null")]), key)
    ingest(f"ingest-{key}-missing", record(drop=[key]), key)

# ---------------------------------------------------------------------------------------------
# ingest: tags

BAD_TAGS = [
    ("array", '["a"]', "tags"),
    ("string", '"env=prod"', "tags"),
    ("number", "1", "tags"),
    ("value-number", '{"env":1}', "tags.env"),
    ("value-null", '{"env":null}', "tags.env"),
    ("value-object", '{"env":{}}', "tags.env"),
    ("empty-key", '{"":"v"}', "tags"),
    ("key-257-bytes", "{" + jstr("k" * 257) + ':"v"}', "tags"),
    ("key-control", '{"a\\u0007":"v"}', "tags"),
    ("value-1025-bytes", '{"env":' + jstr("v" * 1025) + "}", "tags.env"),
    ("value-control", '{"env":"a\\u001bb"}', "tags.env"),
    ("value-raw-tab", '{"env":"a\tb"}', "tags"),
    ("value-lone-surrogate", '{"env":"\\udbff"}', "tags"),
    ("duplicate-key", '{"env":"a","env":"b"}', "tags.env"),
    ("65-tags", "{" + ",".join(f'"k{i}":"v"' for i in range(65)) + "}", "tags"),
    ("unterminated", '{"env":"a"', "tags"),
    ("trailing-comma", '{"env":"a",}', "tags"),
]
for label, raw, field in BAD_TAGS:
    ingest(f"ingest-tags-{label}", record([("tags", raw)]), field)
ingest("ingest-tags-value-invalid-utf8", record([("tags", b'{"env":"\xfe"}')]), "tags")

# ---------------------------------------------------------------------------------------------
# ingest: version, id, time, status

for label, raw in [
    ("string", '"1"'),
    ("two", "2"),
    ("zero", "0"),
    ("negative", "-1"),
    ("fraction", "1.0"),
    ("exponent", "1e0"),
    ("huge", "100000"),
    ("null", "null"),
    ("bool", "true"),
]:
    ingest(f"ingest-v-{label}", record(extra=[("v", raw)]), "v")

for label, raw in [
    ("word", '"not-a-uuid"'),
    ("version-4", '"550e8400-e29b-41d4-a716-446655440000"'),
    ("wrong-variant", '"019a6f3c-5b2e-7c41-0d2a-3f9e1b7c6d5a"'),
    ("no-dashes", '"019a6f3c5b2e7c418d2a3f9e1b7c6d5a"'),
    ("escaped", '"019a6f3c-5b2e-7c41-8d2a-3f9e1b7c6d5\\u0061"'),
    ("number", "7"),
    ("null", "null"),
    ("empty", '""'),
]:
    ingest(f"ingest-id-{label}", record(extra=[("id", raw)]), "id")

for label, raw in [
    ("number", "1732357200"),
    ("word", '"yesterday"'),
    ("empty", '""'),
    ("february-30", '"2026-02-30T00:00:00Z"'),
    ("month-13", '"2026-13-01T00:00:00Z"'),
    ("hour-25", '"2026-11-23T25:00:00Z"'),
    ("minute-60", '"2026-11-23T10:60:00Z"'),
    ("no-zone", '"2026-11-23T10:15:02"'),
    ("offset-25-hours", '"2026-11-23T10:15:02+25:00"'),
    ("date-only", '"2026-11-23"'),
    ("before-1970", '"1969-12-31T23:59:59Z"'),
    ("year-10000", '"10000-01-01T00:00:00Z"'),
    ("escaped", '"2026-11-23T10:15:02\\u002e123Z"'),
    ("null", "null"),
    ("bool", "false"),
]:
    ingest(f"ingest-ts-{label}", record([("ts", raw)]), "ts")

for label, raw in [("word", '"maybe"'), ("capitalised", '"OK"'), ("number", "1"), ("empty", '""')]:
    ingest(f"ingest-status-{label}", record(extra=[("status", raw)]), "status")

# ---------------------------------------------------------------------------------------------
# ingest: broken JSON

good = record()
for cut in [1, 6, 12, 20, 35, 47, 60, 75, 90, len(good) - 1]:
    piece = good[:cut]
    # The key whose value the cut falls in or after, if any.
    text = piece.decode()
    field = None
    colon = text.rfind('":')
    if colon >= 0 and "," not in text[colon:]:
        field = text[text.rfind('"', 0, colon) + 1 : colon]
    ingest(f"ingest-truncated-at-{cut}", piece, field)

for label, line, field in [
    ("trailing-garbage", good + b"x", None),
    ("trailing-brace", good + b"}", None),
    ("two-objects", good + b" {}", None),
    ("trailing-comma-after-object", good + b",", None),
    ("trailing-comma-inside", good[:-1] + b",}", None),
    ("missing-colon", b'{"project" "etl","model":"m"}', None),
    ("missing-value", b'{"project":,"model":"m"}', "project"),
    ("missing-comma", b'{"project":"etl" "model":"m"}', "project"),
    ("single-quotes", b"{'project':'etl','model':'m'}", None),
    ("bare-key", b'{project:"etl","model":"m"}', None),
    ("comment", b'{"project":"etl","model":"m"} // note', None),
    ("array-top", b'[{"project":"etl","model":"m"}]', None),
    ("string-top", b'"etl"', None),
    ("number-top", b"42", None),
    ("null-top", b"null", None),
    ("empty-object", b"{}", "project"),
    ("unterminated-string", b'{"project":"etl,"model":"m"}', "project"),
    ("unterminated-key", b'{"project', None),
    ("key-not-a-string", b'{1:"etl"}', None),
    ("invalid-literal", good[:-1] + b',"x":tru}', "x"),
    ("nan-in-extra", good[:-1] + b',"x":NaN}', "x"),
    ("bad-hex-escape", good[:-1] + b',"x":"\\u12G4"}', "x"),
    ("truncated-hex-escape", good[:-1] + b',"x":"\\u12"}', "x"),
    ("invalid-escape-in-extra", good[:-1] + b',"x":"\\x41"}', "x"),
    ("invalid-utf8-in-extra-key", good[:-1] + b',"\xff":1}', None),
    ("invalid-utf8-in-extra-value", good[:-1] + b',"x":"\xc3\x28"}', "x"),
    ("known-key-spelled-with-escapes", good[:-1] + b',"pro\\u006aect":"q"}', "project"),
    ("duplicate-known-key", good[:-1] + b',"model":"gpt-4o"}', "model"),
    ("duplicate-extra-key", good[:-1] + b',"x":1,"x":2}', "x"),
    ("duplicate-key-depth-1", good[:-1] + b',"x":{"a":1,"a":2}}', "x"),
    ("duplicate-key-depth-2", good[:-1] + b',"x":{"y":{"a":1,"a":2}}}', "x"),
    ("duplicate-key-depth-3-in-array", good[:-1] + b',"x":[{"y":[{"a":1,"a":{}}]}]}', "x"),
    (
        "duplicate-key-in-a-large-object",
        good[:-1] + b',"x":{' + b",".join(b'"k%d":%d' % (i, i) for i in range(12)) + b',"k3":0}}',
        "x",
    ),
    ("duplicate-escaped-extra-key", good[:-1] + b',"x":1,"\\u0078":2}', "x"),
    ("nesting-65-levels", good[:-1] + b',"x":' + b"[" * 65 + b"]" * 65 + b"}", "x"),
    ("nesting-2000-levels", good[:-1] + b',"x":' + b"[" * 2000 + b"]" * 2000 + b"}", "x"),
    ("unclosed-nesting", good[:-1] + b',"x":' + b"{" * 10, "x"),
    ("byte-order-mark-after-the-brace", good[:1] + b"\xef\xbb\xbf" + good[1:], None),
]:
    ingest(f"ingest-json-{label}", line, field)

ingest(
    "ingest-bad-third-line",
    record([("project", '""')]),
    "project",
    line_no=3,
    before=[record(), record([("input_tokens", "3")])],
)
ingest("ingest-bad-line-from-a-file", record([("model", '""')]), "model", via_file=True)
ingest(
    "ingest-bad-line-with-crlf",
    record([("output_tokens", "-2")]) + b"\r",
    "output_tokens",
    line_no=2,
    before=[record() + b"\r"],
)

# Lines over the 1 MiB limit, made at run time. An extra value pads the line just past it.
pad_prefix = record()[:-1].decode() + ',"pad":"'
add(
    "ingest-line-over-1-mib",
    argv=["ingest", "--dir", "{dir}", "-"],
    stdin_fill={"prefix": pad_prefix, "repeat": "a", "count": MIB + 1 - len(pad_prefix) - 2, "suffix": '"}\n'},
    exit=65,
    field=None,
    mentions=["1048576"],
)
add(
    "ingest-file-line-over-1-mib",
    argv=["ingest", "--dir", "{dir}", "{file}"],
    file_fill={
        "prefix": record().decode() + "\n" + pad_prefix,
        "repeat": "b",
        "count": 2 * MIB,
        "suffix": '"}\n',
    },
    exit=65,
    field=None,
    line=2,
    mentions=["1048576"],
)
add(
    "ingest-line-over-1-mib-in-a-name",
    argv=["ingest", "--dir", "{dir}", "-"],
    stdin_fill={"prefix": '{"project":"', "repeat": "p", "count": MIB + 16, "suffix": '","model":"m"}\n'},
    exit=65,
    field=None,
    mentions=["1048576"],
)

# ---------------------------------------------------------------------------------------------
# ingest: bad flags

flags("ingest-bad-fsync", ["ingest", "--dir", "{dir}", "--fsync", "sometimes", "{file}"], "--fsync", file="")
flags("ingest-unknown-flag", ["ingest", "--dir", "{dir}", "--no-such-flag", "-"], "--no-such-flag", stdin="")
flags("ingest-two-files", ["ingest", "--dir", "{dir}", "{file}", "{file}"], "{file}", file="", exit_code=64)

# ---------------------------------------------------------------------------------------------
# append: flags

APPEND = [
    "append", "--dir", "{dir}", "--project", "etl", "--model", "gpt-4.1", "--ts", "2026-11-23T10:15:02.123Z",
    "--input-tokens", "10", "--output-tokens", "5",
]


def append(name, pairs, flag, tail=(), **kw):
    """`append` with the options of `pairs` (option, value) set, and `tail` added as given."""
    argv = list(APPEND)
    for option, value in pairs:
        if option in argv:
            argv[argv.index(option) + 1] = value
        else:
            argv += [option, value]
    flags(name, argv + list(tail), flag, **kw)


COUNT_FLAGS = [
    "--input-tokens",
    "--output-tokens",
    "--cached-input-tokens",
    "--cache-write-tokens",
    "--reasoning-tokens",
    "--latency-ms",
    "--cache-write-1h-tokens",
]
BAD_COUNT_TEXT = [
    ("negative", "-5"),
    ("word", "abc"),
    ("fraction", "1.5"),
    ("exponent", "1e3"),
    ("above-int64", "9223372036854775808"),
    ("above-2-53", "9007199254740993"),
    ("empty", ""),
    ("leading-space", " 5"),
    ("hex", "0x10"),
]
for flag in COUNT_FLAGS:
    for label, text in BAD_COUNT_TEXT:
        if flag != "--input-tokens" and label not in ("negative", "word", "fraction", "above-2-53"):
            continue
        append(f"append{flag}-{label}", [(flag, text)], flag)

for label, text in [
    ("negative", "-0.01"),
    ("nan", "NaN"),
    ("infinity", "inf"),
    ("minus-infinity", "-inf"),
    ("huge-exponent", "1e999"),
    ("ten-decimals", "0.0000000001"),
    ("word", "ten"),
    ("empty", ""),
    ("above-million", "1000000.000000001"),
    ("thirty-digits", "123456789012345678901234567890"),
    ("dollar-sign", "$1"),
    ("comma-decimal", "0,5"),
]:
    append(f"append--cost-{label}", [("--cost", text)], "--cost")

NAME_FLAGS = ["--project", "--model", "--provider", "--user", "--caller", "--session", "--request-id", "--role", "--task"]
for flag in NAME_FLAGS:
    for label, text in [
        ("empty", ""),
        ("257-bytes", "n" * 257),
        ("control", "a\x01b"),
        ("tab", "a\tb"),
        ("newline", "a\nb"),
        ("del", "a\x7fb"),
        ("c1-control", "a\u0085b"),
    ]:
        if flag not in ("--project", "--user") and label not in ("empty", "control", "257-bytes"):
            continue
        append(f"append{flag}-{label}", [(flag, text)], flag)
    append(f"append{flag}-invalid-utf8", [(flag, raw_arg(b"ab\xff"))], flag)

for label, text in [
    ("word", "yesterday"),
    ("empty", ""),
    ("february-30", "2026-02-30T00:00:00Z"),
    ("before-1970", "1969-12-31T23:59:59Z"),
    ("seconds-since-epoch", "1732357200"),
    ("date-only", "2026-11-23"),
    ("no-zone", "2026-11-23T10:15:02"),
]:
    append(f"append--ts-{label}", [("--ts", text)], "--ts")

for label, text in [
    ("no-equals", "novalue"),
    ("empty-key", "=v"),
    ("key-257-bytes", "k" * 257 + "=v"),
    ("value-1025-bytes", "k=" + "v" * 1025),
    ("control-in-value", "k=a\x07b"),
    ("control-in-key", "k\x07=v"),
]:
    append(f"append--tag-{label}", [("--tag", text)], "--tag")
append("append--tag-given-twice", [("--tag", "k=a")], "--tag", tail=["--tag", "k=b"])
append("append--status-unknown", [("--status", "maybe")], "--status")
append("append--fsync-unknown", [("--fsync", "sometimes")], "--fsync")
append("append--service-tier-unknown", [("--service-tier", "gold")], "--service-tier")
append("append--from-response-unknown-format", [("--from-response", "xml")], "--from-response")
append("append-file-without-from-response", [], "--from-response", tail=["{file}"], file="{}")
append("append-cached-above-input", [("--cached-input-tokens", "11")], "--cached-input-tokens")
append("append-cache-write-above-input", [("--cache-write-tokens", "11")], "--cache-write-tokens")
append("append-reasoning-above-output", [("--reasoning-tokens", "6")], "--reasoning-tokens")
append(
    "append-cache-write-1h-above-cache-write",
    [("--cache-write-tokens", "2"), ("--cache-write-1h-tokens", "3")],
    "--cache-write-1h-tokens",
)
flags(
    "append-missing-project",
    ["append", "--dir", "{dir}", "--model", "gpt-4.1", "--input-tokens", "1", "--output-tokens", "1"],
    "--project",
)
flags(
    "append-missing-model",
    ["append", "--dir", "{dir}", "--project", "etl", "--input-tokens", "1", "--output-tokens", "1"],
    "--model",
)
append("append-unknown-flag", [], "--colour", tail=["--colour=red"])
append("append-flag-without-value", [], "--user", tail=["--user"])

# Provider responses that hold no usable usage (the capture parsers).
for label, body, fmt in [
    ("not-json", "{not json", "openai"),
    ("empty", "", "openai"),
    ("no-usage", '{"object":"chat.completion","model":"gpt-4.1"}', "openai"),
    ("negative-tokens", '{"object":"chat.completion","usage":{"prompt_tokens":-1,"completion_tokens":1}}', "openai"),
    ("fraction-tokens", '{"object":"chat.completion","usage":{"prompt_tokens":1.5,"completion_tokens":1}}', "openai"),
    ("string-tokens", '{"type":"message","usage":{"input_tokens":"3","output_tokens":1}}', "anthropic"),
    ("huge-tokens", '{"usageMetadata":{"promptTokenCount":99999999999999999999}}', "gemini"),
    ("duplicate-key", '{"usage":{"inputTokens":1,"inputTokens":2,"outputTokens":1}}', "bedrock"),
    ("unknown-provider", '{"hello":"world"}', "auto"),
    ("sse-broken-event", 'data: {"type":"message_start"\n\ndata: [DONE]\n', "anthropic"),
    ("deep-nesting", "[" * 2000 + "]" * 2000, "auto"),
]:
    flags(
        f"append--from-response-{label}",
        ["append", "--dir", "{dir}", "--project", "etl", "--ts", "2026-11-23T10:15:02.123Z",
         "--from-response", fmt, "{file}"],
        "--from-response",
        file=body,
    )

# ---------------------------------------------------------------------------------------------
# limit set, reserve: bad flags, with a budget that must not change

LIMIT = ["limit", "set", "--dir", "{dir}", "--scope", "project=etl", "--type", "cost", "--max", "25", "--window", "day"]


def limit(name, changes, flag, drop=None):
    argv = list(LIMIT)
    if drop:
        i = argv.index(drop)
        del argv[i : i + 2]
    for k in range(0, len(changes), 2):
        option, value = changes[k], changes[k + 1]
        if option in argv:
            argv[argv.index(option) + 1] = value
        else:
            argv += [option, value]
    flags(name, argv, flag, budget=True)


for label, text in [
    ("negative", "-1"),
    ("word", "abc"),
    ("nan", "NaN"),
    ("huge-exponent", "1e999"),
    ("empty", ""),
    ("ten-decimals", "0.0000000001"),
    ("thirty-digits", "123456789012345678901234567890"),
]:
    limit(f"limit-set--max-{label}", ["--max", text], "--max")
limit("limit-set--max-fraction-of-requests", ["--type", "requests", "--max", "1.5"], "--max")
limit("limit-set--max-negative-tokens", ["--type", "total-tokens", "--max", "-3"], "--max")
limit("limit-set--type-unknown", ["--type", "dollars"], "--type")
for label, text in [
    ("unknown", "fortnight"),
    ("rolling-zero", "rolling:0h"),
    ("rolling-negative", "rolling:-1h"),
    ("rolling-unit", "rolling:1y"),
    ("rolling-empty", "rolling:"),
    ("empty", ""),
]:
    limit(f"limit-set--window-{label}", ["--window", text], "--window")
for label, text in [("unknown", "Mars/Olympus"), ("path", "../../etc/passwd"), ("empty", "")]:
    limit(f"limit-set--tz-{label}", ["--tz", text], "--tz")
for label, text in [
    ("above-one", "1.5"),
    ("zero", "0"),
    ("percent-above-100", "150%"),
    ("negative", "-0.1"),
    ("word", "abc"),
    ("empty", ""),
]:
    limit(f"limit-set--soft-{label}", ["--soft", text], "--soft")
for label, text in [
    ("empty", ""),
    ("no-value", "project="),
    ("no-key", "=etl"),
    ("unknown-key", "planet=mars"),
    ("key-twice", "project=a,project=b"),
    ("empty-tag-name", "tag:=x"),
    ("control-in-value", "project=a\x01b"),
    ("value-257-bytes", "project=" + "p" * 257),
]:
    limit(f"limit-set--scope-{label}", ["--scope", text], "--scope")
limit("limit-set-missing-max", [], "--max", drop="--max")
limit("limit-set-missing-window", [], "--window", drop="--window")

RESERVE = ["reserve", "--dir", "{dir}", "--scope-fields", "project=etl", "--max-usd", "0.5", "--ttl", "10m"]


def reserve(name, option, value, flag=None):
    argv = list(RESERVE)
    if option in argv:
        argv[argv.index(option) + 1] = value
    else:
        argv += [option, value]
    flags(name, argv, flag or option, budget=True)


for label, text in [("empty", ""), ("no-equals", "project"), ("no-value", "project="), ("unknown-key", "bogus=1")]:
    reserve(f"reserve--scope-fields-{label}", "--scope-fields", text)
for label, text in [
    ("negative", "-1"),
    ("nan", "NaN"),
    ("word", "abc"),
    ("huge-exponent", "1e999"),
    ("empty", ""),
    ("ten-decimals", "0.0000000001"),
]:
    reserve(f"reserve--max-usd-{label}", "--max-usd", text)
for label, text in [("word", "forever"), ("negative", "-5m"), ("unit", "10y"), ("empty", ""), ("no-unit", "10")]:
    reserve(f"reserve--ttl-{label}", "--ttl", text)
for label, text in [("zero", "0"), ("negative", "-1"), ("word", "me")]:
    reserve(f"reserve--holder-pid-{label}", "--holder-pid", text)

# ---------------------------------------------------------------------------------------------
# cost: bad flags (it writes nothing in any case)

COST = ["cost", "--model", "gpt-4.1", "--input-tokens", "100", "--output-tokens", "10"]


def cost(name, option, value, flag=None):
    argv = list(COST)
    if option in argv:
        argv[argv.index(option) + 1] = value
    else:
        argv += [option, value]
    flags(name, argv, flag or option)


for flag in ["--input-tokens", "--output-tokens", "--cached-input-tokens", "--cache-write-tokens",
             "--reasoning-tokens", "--cache-write-1h-tokens"]:
    for label, text in [("negative", "-1"), ("word", "abc"), ("fraction", "1.5"), ("above-2-53", "9007199254740993")]:
        cost(f"cost{flag}-{label}", flag, text)
cost("cost-cached-above-input", "--cached-input-tokens", "101")
cost("cost-reasoning-above-output", "--reasoning-tokens", "11")
cost("cost--model-empty", "--model", "")
cost("cost--model-control", "--model", "gpt\x07")
cost("cost--service-tier-unknown", "--service-tier", "gold")
cost("cost--format-unknown", "--format", "xml")
flags("cost-missing-model", ["cost", "--input-tokens", "1"], "--model")
flags("cost-missing-input-tokens", ["cost", "--model", "gpt-4.1"], "--input-tokens")


# ---------------------------------------------------------------------------------------------

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out = os.path.join(root, "Fixtures", "hostile", "cases.jsonl")
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w", encoding="utf-8") as f:
    for case in cases:
        f.write(json.dumps(case, ensure_ascii=True, separators=(",", ":")) + "\n")
print(f"{len(cases)} cases written to {os.path.relpath(out, root)}", file=sys.stderr)
