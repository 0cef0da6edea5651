#!/usr/bin/env python3
"""Holds `spendlog report` to `spendlog stats` for the same filters, and checks the HTML form in a
real headless browser (Debian's chromium), with nothing but the standard library.

    scripts/check-report.py BIN LOG_DIR [--text] [--html] [--control] [--hostile=TEXT] -- REPORT_ARGS...

--text also checks the Markdown and CSV forms; --html the HTML form in the browser; --hostile
names a string of the records that must never appear unescaped in the HTML.

REPORT_ARGS are the filters and --tz given to `report` (and, without --since/--until, to `stats`
with the report's own bounds). Every failure is printed; the exit status is 1 if there was one.

The browser check, and why it is robust:
  * chromium runs with --proxy-server=127.0.0.1:9 (a closed port), so nothing could leave anyway,
    and the report carries a Content-Security-Policy (default-src 'none') that forbids every load;
  * the browser writes its network log (--log-net-log): every URL request it starts is there,
    whether or not it would have succeeded. A request of the page has the page's file:// origin as
    its initiator; the browser's own background requests (update checks) have "not an origin".
    Any request the page made fails the check;
  * console messages (errors, CSP violations) are on stderr with --enable-logging=stderr: any fails;
  * --control runs the same checks on a page that makes a request and logs an error, and requires
    both to be caught, so that a browser that stopped logging cannot pass silently.
"""
import concurrent.futures
import csv
import decimal
import html.parser
import io
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import zlib

D = decimal.Decimal
FAILURES = []

METRICS = ["requests", "input_tokens", "output_tokens", "cached_input_tokens", "cache_write_tokens",
           "reasoning_tokens", "cost_usd", "unpriced_requests", "errors", "avg_latency_ms"]


def fail(message):
    FAILURES.append(message)
    print("FAIL: " + message, file=sys.stderr)


def run(argv, env=None):
    p = subprocess.run(argv, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise SystemExit("command failed (%d): %s\n%s" % (p.returncode, " ".join(argv), p.stderr))
    return p.stdout


def loads(text):
    return json.loads(text, parse_float=D)


def norm(value):
    """Exact values compare as decimals (JSON numbers, decimal strings), names as text."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, D)):
        return D(value)
    try:
        return D(value)
    except decimal.InvalidOperation:
        return value


def exact_text(value):
    """The exact text a JSON value has in CSV cells and data-value attributes."""
    if value is None:
        return ""
    return str(value)


def zero_row():
    row = {m: 0 for m in METRICS}
    row["avg_latency_ms"] = None
    return row


def share(part, whole):
    if whole <= 0:
        return None
    return (D(part) * 10000 / D(whole)).quantize(D(1), rounding=decimal.ROUND_HALF_UP) / 10000


def money_text(value):
    """As the report shows money: $0, whole cents from a dollar up, else four decimals."""
    value = D(value)
    if value == 0:
        return "$0"
    digits = 2 if abs(value) >= 1 else 4
    q = value.quantize(D(1).scaleb(-digits), rounding=decimal.ROUND_HALF_UP)
    whole, _, fraction = ("%s" % abs(q)).partition(".")
    return ("-" if q < 0 else "") + "$" + "{:,}".format(int(whole)) + "." + fraction


def same_metrics(where, ours, theirs):
    for m in METRICS:
        if norm(ours.get(m)) != norm(theirs.get(m)):
            fail("%s: %s is %r, stats says %r" % (where, m, ours.get(m), theirs.get(m)))


class Checker:
    def __init__(self, binary, log, args, env):
        self.bin, self.log, self.args, self.env = binary, log, args, env
        self.filters = []  # the report's args without --since/--until (stats gets the bounds)
        skip = False
        for i, a in enumerate(args):
            if skip:
                skip = False
                continue
            if a in ("--since", "--until", "--title"):
                skip = True
                continue
            self.filters.append(a)

    def spendlog(self, args):
        return run([self.bin] + args + ["--dir", self.log], self.env)

    def stats(self, since, until, by=()):
        argv = ["stats", "--format", "json", "--since", since, "--until", until] + self.filters
        for b in by:
            argv += ["--by", b]
        return loads(self.spendlog(argv))

    def report(self, fmt, extra=()):
        return self.spendlog(["report", "--format", fmt] + self.args + list(extra))

    # -- JSON against stats ------------------------------------------------------------------
    def check_json(self):
        r = loads(self.report("json"))
        self.r = r
        p = r["period"]
        # Every stats question at once, two at a time (the log is read afresh by each).
        questions = [(p["since"], p["until"], ()), (p["previous_since"], p["previous_until"], ())] + [
            (p["since"], p["until"], by) for by in (("project",), ("model",), ("user",), ("caller",), ("task",),
                                                    ("day", "model"))]
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            answers = dict(zip(questions, pool.map(lambda q: self.stats(*q), questions)))
        self.stats = lambda since, until, by=(): answers[(since, until, tuple(by))]
        if r["format"] != "spendlog-report 1":
            fail("format is %r" % r["format"])
        for name, since, until, row in (("totals current", p["since"], p["until"], r["totals"][0]),
                                         ("totals previous", p["previous_since"], p["previous_until"], r["totals"][1])):
            rows = self.stats(since, until)
            same_metrics(name, row, rows[0] if rows else zero_row())
            if row["total_tokens"] != row["input_tokens"] + row["output_tokens"]:
                fail(name + ": total_tokens")
        total_cost = D(r["totals"][0]["cost_usd"])
        for section, key, top in (("by_project", "project", None), ("by_model", "model", None),
                                  ("top_users", "user", 10), ("top_callers", "caller", 10), ("top_tasks", "task", 10)):
            theirs = self.stats(p["since"], p["until"], [key])
            if top:
                theirs = theirs[:top]
            ours = r[section]
            if [o[key] for o in ours] != [t[key] for t in theirs]:
                fail("%s: the groups differ: %r vs %r" % (section, [o[key] for o in ours][:5], [t[key] for t in theirs][:5]))
                continue
            for o, t in zip(ours, theirs):
                same_metrics("%s %r" % (section, o[key]), o, t)
                if norm(o["share"]) != (share(D(t["cost_usd"]) * 10**9, total_cost * 10**9)):
                    fail("%s %r: share %r" % (section, o[key], o["share"]))
        models = self.stats(p["since"], p["until"], ["model"])
        errors = {m["model"]: m for m in models}
        for row in r["errors_by_model"]:
            t = errors.get(row["model"])
            rate = share(t["errors"], t["requests"]) if t else None
            if t is None or row["errors"] != t["errors"] or row["requests"] != t["requests"] or norm(row["error_rate"]) != rate:
                fail("errors_by_model %r: %r vs %r" % (row["model"], row, t))
        unpriced = sorted(((m["model"], m["unpriced_requests"]) for m in models if m["unpriced_requests"] > 0))
        ours = sorted((u["model"], u["unpriced_requests"]) for u in r["unpriced"])
        if unpriced != ours:
            fail("unpriced: %r vs stats %r" % (ours, unpriced))
        # Days in the zone, and each chart model's cost per day.
        days, cells = {}, {}
        for c in self.stats(p["since"], p["until"], ["day", "model"]):
            cells[(c["day"], c["model"])] = D(c["cost_usd"])
            day = days.setdefault(c["day"], zero_row())
            for m in ("requests", "input_tokens", "output_tokens"):
                day[m] += c[m]
            day["cost_usd"] = D(day["cost_usd"]) + D(c["cost_usd"])
        seen = set()
        for d in r["daily"]:
            t = days.get(d["day"], zero_row())
            seen.add(d["day"])
            if d["requests"] != t["requests"] or norm(d["cost_usd"]) != norm(t["cost_usd"]) or \
                    d["total_tokens"] != t["input_tokens"] + t["output_tokens"]:
                fail("daily %s: %r vs stats %r" % (d["day"], d, t))
            chart = d["cost_by_model"]
            known = D(0)
            for model in r["chart_models"]:
                want = cells.get((d["day"], model), D(0))
                known += want
                if norm(chart[model]) != want:
                    fail("daily %s %s: %r vs stats %s" % (d["day"], model, chart[model], want))
            if r["chart_has_other"] and norm(chart["(other)"]) != D(t["cost_usd"]) - known:
                fail("daily %s other: %r" % (d["day"], chart["(other)"]))
        if set(days) - seen:
            fail("daily: stats has days the report lacks: %r" % sorted(set(days) - seen))
        # Change and token mix, from the totals.
        cur, prev = r["totals"]
        for c in r["change"]:
            a, b = (D(cur["cost_usd"]), D(prev["cost_usd"])) if c["metric"] == "cost_usd" else \
                (D(cur[c["metric"]]), D(prev[c["metric"]]))
            want = None if b == 0 else ((a - b) * 10000 / b).quantize(D(1), rounding=decimal.ROUND_HALF_UP) / 100
            if norm(c["change_percent"]) != want or norm(c["current"]) != a or norm(c["previous"]) != b:
                fail("change %s: %r (want %s)" % (c["metric"], c, want))
        mix = {m["kind"]: m["tokens"] for m in r["token_mix"]}
        want = {"uncached_input": cur["input_tokens"] - cur["cached_input_tokens"] - cur["cache_write_tokens"],
                "cache_read": cur["cached_input_tokens"], "cache_write": cur["cache_write_tokens"],
                "output": cur["output_tokens"] - cur["reasoning_tokens"], "reasoning": cur["reasoning_tokens"]}
        if mix != want:
            fail("token_mix: %r vs %r" % (mix, want))
        return r

    # -- Markdown and CSV against the JSON (itself held to stats) ---------------------------------
    def check_markdown(self):
        md = self.report("md")
        tables, current = {}, None
        for line in md.splitlines():
            if line.startswith("## "):
                current = line[3:]
                tables[current] = []
            elif line.startswith("| ") and current is not None:
                cells = [re.sub(r"\\(.)", r"\1", c.strip()) for c in re.split(r"(?<!\\)\|", line)[1:-1]]
                tables[current].append(cells)
        for title, section, key in (("Cost by project", "by_project", "project"), ("Cost by model", "by_model", "model"),
                                    ("Top users", "top_users", "user")):
            rows = tables.get(title)
            if rows is None:
                fail("markdown: no table %r" % title)
                continue
            header, body = rows[0], rows[1:]
            if len(body) != len(self.r[section]):
                fail("markdown %s: %d rows, JSON %d" % (section, len(body), len(self.r[section])))
            for cells, row in zip(body, self.r[section]):
                named = dict(zip(header, cells))
                if named[header[0]] != (row[key] if row[key] is not None else "(none)"):
                    fail("markdown %s: key %r vs %r" % (section, named[header[0]], row[key]))
                if int(named["Requests"].replace(",", "")) != row["requests"]:
                    fail("markdown %s %r: requests %r" % (section, row[key], named["Requests"]))
                if named["Cost"] != money_text(row["cost_usd"]):
                    fail("markdown %s %r: cost %r vs %s" % (section, row[key], named["Cost"], money_text(row["cost_usd"])))
        totals = tables.get("Totals", [])
        if len(totals) < 2 or totals[1][totals[0].index("Cost")] != money_text(self.r["totals"][0]["cost_usd"]):
            fail("markdown totals: %r" % totals[:2])

    def check_csv(self):
        for section in ("daily", "by_project", "unpriced", "change"):
            rows = list(csv.reader(io.StringIO(self.report("csv", ["--section", section]), newline="")))
            header, body = rows[0], rows[1:]
            ours = self.r[section]
            if len(body) != len(ours):
                fail("csv %s: %d rows, JSON %d" % (section, len(body), len(ours)))
                continue
            for cells, row in zip(body, ours):
                for name, cell in zip(header, cells):
                    group, _, member = name.partition(":")
                    value = row[group][member] if member else row[name]
                    if cell != exact_text(value):
                        fail("csv %s %s: %r vs JSON %r" % (section, name, cell, value))

    # -- HTML in the browser ----------------------------------------------------------------------
    def check_html(self, work, hostile):
        path = os.path.join(work, "report.html")
        self.report("html", ["--out", path])
        raw = open(path, encoding="utf-8").read()
        if "http-equiv=\"Content-Security-Policy\"" not in raw or "default-src 'none'" not in raw:
            fail("html: no Content-Security-Policy")
        for needle in ("<script", "<link", "@import", "url(http", "src=\"http", "href=\"http"):
            if needle in raw.lower():
                fail("html: contains %r" % needle)
        for text in hostile:
            if text in raw:
                fail("html: %r is not escaped" % text)
        dom, requests, console = browse(work, path, ["--dump-dom"])
        if requests:
            fail("html: the page made requests: %r" % requests)
        if console:
            fail("html: console messages: %r" % console)
        parsed = DomTables()
        parsed.feed(dom)
        if parsed.scripts:
            fail("html: the DOM has %d script elements (escaping failed)" % parsed.scripts)
        self.compare_dom(parsed)
        # A screenshot that is not blank, and a PDF from the print style.
        shot = os.path.join(work, "shot.png")
        _, requests, console = browse(work, path, ["--screenshot=" + shot, "--window-size=1200,2400",
                                                   "--hide-scrollbars"])
        if requests or console:
            fail("html screenshot run: requests %r, console %r" % (requests, console))
        colors, busy = pixel_variety(shot)
        print("screenshot: %d colours, %.1f%% not background" % (colors, busy * 100))
        if colors < 16 or busy < 0.05:
            fail("html: the screenshot looks blank (%d colours, %.3f not background)" % (colors, busy))
        pdf = os.path.join(work, "report.pdf")
        browse(work, path, ["--print-to-pdf=" + pdf, "--no-pdf-header-footer"])
        with open(pdf, "rb") as f:
            head = f.read(5)
        if head != b"%PDF-" or os.path.getsize(pdf) < 10000:
            fail("html: print to PDF gave %r, %d bytes" % (head, os.path.getsize(pdf)))

    def compare_dom(self, dom):
        r = self.r
        for section in ("totals", "change", "daily", "by_project", "by_model", "top_users", "top_callers", "top_tasks",
                        "token_mix", "errors_by_model", "budgets", "unpriced", "projection"):
            ours = r[section]
            if section == "projection":
                ours = [ours] if ours else []
            if section == "unpriced" and not ours:
                continue
            rows = dom.tables.get(section)
            if rows is None:
                fail("dom: no table %s" % section)
                continue
            if len(rows) != len(ours):
                fail("dom %s: %d rows, JSON %d" % (section, len(rows), len(ours)))
                continue
            for cells, row in zip(rows, ours):
                for name, value in cells.items():
                    group, _, member = name.partition(":")
                    want = row[group][member] if member else row[name]
                    if norm(value) != norm(want) or (value is None) != (want is None):
                        fail("dom %s %s: %r vs JSON %r" % (section, name, value, want))
        cur, prev = r["totals"]
        kpis = {k["data-field"]: k for k in dom.kpis}
        for field in ("cost_usd", "requests"):
            if norm(kpis[field]["data-value"]) != norm(cur[field]) or norm(kpis[field]["data-previous"]) != norm(prev[field]):
                fail("dom headline %s: %r" % (field, kpis[field]))
        if norm(kpis["total_tokens"]["data-value"]) != cur["total_tokens"]:
            fail("dom headline total_tokens")
        warned = dict(dom.unpriced)
        want = {u["model"]: u["unpriced_requests"] for u in r["unpriced"]}
        if {k: int(v) for k, v in warned.items()} != want:
            fail("dom unpriced warning: %r vs %r" % (warned, want))


class DomTables(html.parser.HTMLParser):
    """The report's tables (data-section → rows of data-key → data-value, None when data-null), the
    headline figures and the unpriced warning, from the DOM the browser built."""

    def __init__(self):
        super().__init__()
        self.tables, self.kpis, self.unpriced = {}, [], []
        self.section, self.row, self.scripts, self.in_body = None, None, 0, False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "table" and "data-section" in a:
            self.section = a["data-section"]
            self.tables[self.section] = []
        elif tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.section and self.in_body:
            self.row = {}
        elif tag == "td" and self.row is not None and "data-key" in a:
            self.row[a["data-key"]] = None if a.get("data-null") else a.get("data-value")
        elif tag == "div" and "kpi" in (a.get("class") or "").split():
            self.kpis.append(a)
        elif tag == "li" and "data-model" in a:
            self.unpriced.append((a["data-model"], a["data-value"]))

    def handle_endtag(self, tag):
        if tag == "tr" and self.row is not None:
            if self.row:
                self.tables[self.section].append(self.row)
            self.row = None
        elif tag == "tbody":
            self.in_body = False
        elif tag == "table":
            self.section = None


def browse(work, path, extra):
    """Opens `path` in headless chromium with the network off; returns its stdout, the requests the
    page made (from the network log) and the console messages."""
    netlog = os.path.join(work, "netlog-%d.json" % len(os.listdir(work)))
    argv = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--user-data-dir=" + os.path.join(work, "profile"), "--proxy-server=127.0.0.1:9",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", "--log-net-log=" + netlog, "--enable-logging=stderr", "--v=0"] \
        + extra + ["file://" + path]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=work)
    if p.returncode != 0:
        raise SystemExit("chromium failed (%d):\n%s" % (p.returncode, p.stderr[-3000:]))
    console = [line for line in p.stderr.splitlines() if ":CONSOLE" in line or "Refused to" in line]
    with open(netlog, encoding="utf-8", errors="replace") as f:
        text = f.read().rstrip().rstrip(",")
    if not text.endswith("}"):
        text += "]}"
    log = json.loads(text)
    names = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    requests = set()
    for event in log.get("events", []):
        params = event.get("params") or {}
        if names.get(event["type"]) != "URL_REQUEST_START_JOB":
            continue
        url = params.get("url")
        if url is None:  # the end of a job: no URL, only its result
            continue
        # The browser's own background requests have no page origin ("not an origin").
        if params.get("initiator") != "not an origin" or url.startswith("file:") or "file://" in params.get(
                "network_isolation_key", ""):
            if not url.startswith("data:") and url != "file://" + path:
                requests.add(url)
    return p.stdout, sorted(requests), console


def pixel_variety(path):
    """Distinct colours (of a sample) and the share of pixels unlike the commonest colour, from the
    PNG's own bytes: chunks, zlib, the five row filters."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert depth == 8 and color in (2, 6), "unexpected PNG type"
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    previous = bytearray(stride)
    counts = {}
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = previous[i]
            c = previous[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        previous = line
        if y % 4 == 0:
            for x in range(0, width, 4):
                px = bytes(line[x * bpp:x * bpp + 3])
                counts[px] = counts.get(px, 0) + 1
    total = sum(counts.values())
    return len(counts), 1 - max(counts.values()) / total


def check_control(work):
    """A page that makes a request and logs an error: both must be caught."""
    path = os.path.join(work, "control.html")
    with open(path, "w") as f:
        f.write('<!DOCTYPE html><html><head><meta charset="utf-8"><title>c</title></head><body>'
                '<img src="http://192.0.2.1/probe.png"><script>console.error("control")</script></body></html>')
    _, requests, console = browse(work, path, ["--dump-dom"])
    if "http://192.0.2.1/probe.png" not in requests:
        fail("control: the request of the control page was not seen (%r)" % requests)
    if not any("control" in line for line in console):
        fail("control: the console error of the control page was not seen")


def main():
    argv = sys.argv[1:]
    cut = argv.index("--")
    options, args = argv[:cut], argv[cut + 1:]
    binary, log = options[0], options[1]
    hostile = [o[len("--hostile="):] for o in options if o.startswith("--hostile=")]
    checker = Checker(binary, log, args, dict(os.environ))
    checker.check_json()
    if "--text" in options:
        checker.check_markdown()
        checker.check_csv()
    with tempfile.TemporaryDirectory(prefix="spendlog-report-") as work:
        if "--control" in options:
            check_control(work)
        if "--html" in options:
            checker.check_html(work, hostile)
    r = checker.r
    print("checked %s: %d requests, cost %s, %d days, %d projects, %d models, %d unpriced models" % (
        " ".join(args) or "(defaults)", r["totals"][0]["requests"], r["totals"][0]["cost_usd"], len(r["daily"]),
        len(r["by_project"]), len(r["by_model"]), len(r["unpriced"])))
    if FAILURES:
        print("%d failures" % len(FAILURES), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
