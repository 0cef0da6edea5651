#!/usr/bin/env python3
"""Checks for `spendlog serve` that need Python packages (the tests in ServeCLITests run it).

  check-serve.py metrics METRICS.txt STATS.json BUDGET.json
      /metrics parses with prometheus_client's text parser; its counters by project and model equal
      `stats --by project --by model --format json`, its utilisation gauge `budget status`.
  check-serve.py openapi DOC.json
      the OpenAPI document validates (openapi-spec-validator).
  check-serve.py dashboard URL MARKER -- APPEND-COMMAND...
      headless chromium (Debian's, driven over its DevTools pipe with the standard library only)
      opens the dashboard at URL: charts, no console error, no request off the server's origin;
      then APPEND-COMMAND runs in another process, and the page must show MARKER within 2 s.
"""
import json
import sys
from decimal import Decimal


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def metrics(text_path, stats_path, budget_path):
    from prometheus_client.parser import text_string_to_metric_families

    text = open(text_path, encoding="utf-8").read()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    # prometheus_client names a counter family without its _total suffix.
    for name, kind in [("spendlog_requests", "counter"), ("spendlog_cost_usd", "counter"),
                       ("spendlog_tokens", "counter"), ("spendlog_budget_utilisation_ratio", "gauge")]:
        if name not in families:
            fail("no %s family in /metrics: %s" % (name, sorted(families)))
        if families[name].type != kind:
            fail("%s is a %s, not a %s" % (name, families[name].type, kind))

    def samples(name, suffix="_total"):
        out = {}
        for s in families[name].samples:
            if s.name == name + suffix:
                out[tuple(sorted(s.labels.items()))] = s.value
        return out

    rows = json.load(open(stats_path, encoding="utf-8"))
    requests = samples("spendlog_requests")
    cost = samples("spendlog_cost_usd")
    tokens = samples("spendlog_tokens")
    if len(requests) != len(rows):
        fail("%d request series, %d stats rows" % (len(requests), len(rows)))
    for row in rows:
        labels = tuple(sorted({"project": row["project"] or "", "model": row["model"] or ""}.items()))
        if requests.get(labels) != row["requests"]:
            fail("requests of %s: %s, stats says %s" % (labels, requests.get(labels), row["requests"]))
        if abs(Decimal(repr(cost.get(labels, -1))) - Decimal(str(row["cost_usd"]))) > Decimal("1e-9"):
            fail("cost of %s: %s, stats says %s" % (labels, cost.get(labels), row["cost_usd"]))
        for kind, field in [("input", "input_tokens"), ("output", "output_tokens"),
                            ("cached_input", "cached_input_tokens"), ("cache_write", "cache_write_tokens"),
                            ("reasoning", "reasoning_tokens")]:
            key = tuple(sorted(dict(labels + (("kind", kind),)).items()))
            if tokens.get(key) != row[field]:
                fail("%s tokens of %s: %s, stats says %s" % (kind, labels, tokens.get(key), row[field]))
    limits = json.load(open(budget_path, encoding="utf-8"))
    gauges = samples("spendlog_budget_utilisation_ratio", "")
    if len(gauges) != len(limits):
        fail("%d utilisation gauges, %d limits" % (len(gauges), len(limits)))
    for limit in limits:
        found = [v for k, v in gauges.items() if dict(k).get("limit") == limit["id"]]
        expected = (Decimal(str(limit["spent"])) + Decimal(str(limit["held"]))) / Decimal(str(limit["max"]))
        if len(found) != 1 or abs(Decimal(repr(found[0])) - expected) > Decimal("1e-9"):
            fail("utilisation of %s: %s, budget status says %s" % (limit["id"], found, expected))
    print("metrics: %d series by project and model, %d limits, equal to stats and budget status"
          % (len(rows), len(limits)))


def openapi(path):
    from openapi_spec_validator import validate
    from openapi_spec_validator.readers import read_from_filename

    spec, _ = read_from_filename(path)
    validate(spec)
    print("openapi: %s validates (%d paths)" % (path, len(spec["paths"])))


class Browser:
    """Headless chromium over --remote-debugging-pipe: commands on fd 3, answers on fd 4, each a
    JSON message ended by a NUL byte."""

    def __init__(self, work):
        import os
        import subprocess
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()

        def fds():
            # Copies first: a pipe end may itself be fd 3 or 4.
            read_end, write_end = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        argv = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--user-data-dir=" + os.path.join(work, "profile"), "--remote-debugging-pipe",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-extensions", "about:blank"]
        self.process = subprocess.Popen(argv, pass_fds=(3, 4), preexec_fn=fds,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        self.buffer = b""
        self.next_id = 0
        self.events = []
        self.session = None

    def send(self, method, params=None, session=True):
        import os
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self.to_child, json.dumps(message).encode() + b"\0")
        return self.wait(lambda m: m.get("id") == self.next_id)

    def read(self, timeout):
        import os
        import select
        while b"\0" not in self.buffer:
            ready, _, _ = select.select([self.from_child], [], [], timeout)
            if not ready:
                return None
            chunk = os.read(self.from_child, 1 << 16)
            if not chunk:
                raise SystemExit("chromium closed its pipe")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(raw)

    def wait(self, match, timeout=30):
        import time
        deadline = time.time() + timeout
        while time.time() < deadline:
            message = self.read(max(0.01, deadline - time.time()))
            if message is None:
                break
            if match(message):
                if "error" in message:
                    raise RuntimeError(message["error"])
                return message
            if "method" in message:
                self.events.append(message)
        raise SystemExit("chromium did not answer in time")

    def evaluate(self, expression):
        answer = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return answer["result"]["result"].get("value")

    def close(self):
        try:
            self.send("Browser.close", session=False)
        except BaseException:
            pass
        try:
            self.process.wait(timeout=10)
        except Exception:
            self.process.kill()


def dashboard(url, marker, command):
    import subprocess
    import tempfile
    import time
    from urllib.parse import urlsplit

    origin = "%s://%s" % urlsplit(url)[:2]
    with tempfile.TemporaryDirectory() as work:
        browser = Browser(work)
        try:
            target = browser.send("Target.createTarget", {"url": "about:blank"}, session=False)
            attached = browser.send("Target.attachToTarget",
                                    {"targetId": target["result"]["targetId"], "flatten": True}, session=False)
            browser.session = attached["result"]["sessionId"]
            for domain in ["Runtime", "Log", "Page", "Network"]:
                browser.send(domain + ".enable")
            browser.send("Page.navigate", {"url": url})
            browser.wait(lambda m: m.get("method") == "Page.loadEventFired")
            charts = browser.evaluate("document.querySelectorAll('svg').length")
            sections = browser.evaluate("document.querySelectorAll('section').length")
            if not charts or not sections:
                fail("the dashboard shows no charts (%s svg, %s sections)" % (charts, sections))
            if browser.evaluate("document.body.innerText.indexOf(%s) >= 0" % json.dumps(marker)):
                fail("the marker %r is on the page before the append" % marker)
            # Let the page poll once with nothing new: it must not reload for nothing.
            time.sleep(1.5)
            loads_before = sum(1 for e in browser.events if e.get("method") == "Page.loadEventFired")
            if loads_before:
                fail("the page reloaded with no new record")
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0:
                fail("the append failed: %s" % result.stderr)
            appended = time.time()
            seen = None
            while time.time() - appended < 2.0:
                try:
                    if browser.evaluate("document.body.innerText.indexOf(%s) >= 0" % json.dumps(marker)):
                        seen = time.time() - appended
                        break
                except (RuntimeError, KeyError):
                    pass  # the page is reloading
                time.sleep(0.05)
            if seen is None:
                fail("the dashboard did not show %r within 2 s of the append" % marker)
            errors = []
            requests = set()
            for event in browser.events:
                method, params = event.get("method"), event.get("params", {})
                if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
                    errors.append(json.dumps(params.get("args"))[:300])
                elif method == "Runtime.exceptionThrown":
                    errors.append(json.dumps(params.get("exceptionDetails"))[:300])
                elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in ("error", "warning"):
                    errors.append(params["entry"].get("text", "")[:300])
                elif method == "Network.requestWillBeSent":
                    requests.add(params["request"]["url"])
            if errors:
                fail("console errors: %s" % errors)
            foreign = [r for r in requests if not r.startswith(origin + "/")]
            if foreign:
                fail("requests off the server's origin: %s" % foreign)
            print("dashboard: %d charts, no console error, %d requests all to %s; the new record shown %.2f s "
                  "after the append" % (charts, len(requests), origin, seen))
        finally:
            browser.close()


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    if what == "metrics" and len(sys.argv) == 5:
        metrics(*sys.argv[2:])
    elif what == "openapi" and len(sys.argv) == 3:
        openapi(sys.argv[2])
    elif what == "dashboard" and len(sys.argv) > 5 and sys.argv[4] == "--":
        dashboard(sys.argv[2], sys.argv[3], sys.argv[5:])
    else:
        sys.exit(__doc__)
