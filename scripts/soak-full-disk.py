#!/usr/bin/env python3
"""A real full disk: appends, enforced appends and ingests into a log on a small tmpfs until the
file system is full, then space comes back and appending resumes.

Every command's outcome is checked against its promise (docs/FORMAT.md, "What an error
promises"): an exit 0 printed an id that is in the log once; a failure wrote nothing, or only the
ids its error names. After space returns: verify is clean, the budget's checkpoint equals a
rebuild, and appends succeed again. Needs root (mount). Prints one line of figures.

    scripts/soak-full-disk.py BINARY [ROUNDS]
"""
import json
import os
import re
import subprocess
import sys
import tempfile

binary = os.path.abspath(sys.argv[1])
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
NOW = "2026-11-23T10:00:00Z"
ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def run(args, stdin=None):
    env = dict(os.environ, SPENDLOG_NOW=NOW, SPENDLOG_HOST="soak")
    p = subprocess.run([binary] + args, input=stdin, capture_output=True, text=True, env=env)
    return p.returncode, p.stdout, p.stderr


def log_ids(log):
    rc, out, err = run(["tail", "--dir", log, "--json", "-n", "100000000"])
    assert rc == 0, err
    return [json.loads(line)["id"] for line in out.splitlines()]


def main():
    totals = dict(commands=0, acknowledged=0, failed=0, nothing_written=0, named=0, lost=0, duplicated=0,
                  unexplained=0, verify_problems=0, budget_mismatches=0)
    for round_number in range(rounds):
        mount = tempfile.mkdtemp(prefix="spendlog-full-")
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mount], check=True)
        try:
            log = mount + "/log"
            rc, _, err = run(["limit", "set", "--dir", log, "--scope", "global", "--type", "cost", "--max",
                              "1000000", "--window", "day"])
            assert rc == 0, err
            acked, named = [], set()
            failures = 0
            i = 0
            while failures < 40:
                i += 1
                kind = i % 3
                if kind == 2:
                    lines = "\n".join(json.dumps({"ts": NOW, "project": "p", "model": "m", "input_tokens": 1,
                                                  "output_tokens": 1, "cost_usd": 0.001, "task": "x" * 200})
                                      for _ in range(50))
                    rc, out, err = run(["ingest", "--dir", log, "-"], stdin=lines)
                else:
                    args = ["append", "--dir", log, "--project", "p", "--model", "m", "--input-tokens", "1",
                            "--output-tokens", "1", "--cost", "0.001", "--task", "y" * 200,
                            "--fsync", ["always", "batch"][i % 2]]
                    args += ["--enforce"] if kind == 1 else ["--ts", NOW]
                    rc, out, err = run(args)
                totals["commands"] += 1
                if rc == 0:
                    if kind != 2:
                        acked.append(out.strip())
                    else:
                        acked.extend(None for _ in range(50))  # ingest ids are the log's; counted below
                    continue
                failures += 1
                totals["failed"] += 1
                if "Nothing was written" in err:
                    totals["nothing_written"] += 1
                else:
                    ids = set(ID.findall(err))
                    named |= ids
                    totals["named"] += len(ids)
                    if not ids:
                        print(f"round {round_number}: a failure that neither wrote nothing nor names ids: {err}")
                        totals["unexplained"] += 1
            in_log = log_ids(log)
            totals["duplicated"] += len(in_log) - len(set(in_log))
            known = [a for a in acked if a]
            totals["acknowledged"] += len(acked)
            totals["lost"] += len(set(known) - set(in_log))
            ingested = len(acked) - len(known)
            extra = set(in_log) - set(known) - named
            if len(extra) != ingested:
                totals["unexplained"] += abs(len(extra) - ingested)
                print(f"round {round_number}: {len(extra)} records in the log that no success or error accounts"
                      f" for (ingested {ingested})")
            # Space comes back: the filler is the log itself, so remove what the soak can spare.
            subprocess.run(["mount", "-o", "remount,size=64m", mount], check=True)
            rc, out, err = run(["append", "--dir", log, "--project", "p", "--model", "m", "--input-tokens", "1",
                                "--output-tokens", "1", "--cost", "0.001", "--enforce"])
            assert rc == 0, f"appending after space returned failed: {err}"
            rc, out, err = run(["verify", "--dir", log])
            if rc != 0:
                totals["verify_problems"] += 1
                print(f"round {round_number}: verify: {out} {err}")
            rc, out, err = run(["budget", "rebuild", "--dir", log, "--check"])
            if rc != 0:
                totals["budget_mismatches"] += 1
                print(f"round {round_number}: budget rebuild --check: {out} {err}")
        finally:
            subprocess.run(["umount", mount], check=False)
            os.rmdir(mount)
    print("full disk: " + ", ".join(f"{k} {v}" for k, v in totals.items()))
    bad = totals["lost"] + totals["duplicated"] + totals["unexplained"] + totals["verify_problems"] + \
        totals["budget_mismatches"]
    sys.exit(1 if bad else 0)


main()
