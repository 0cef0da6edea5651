#!/usr/bin/env python3
"""Differential test: spendlog's cost against LiteLLM's own cost function, on one price table.

Both sides price from Fixtures/prices/litellm-model-prices.json: LiteLLM's `model_cost` is set
from that file (and checked to be exactly that file), spendlog prices from `spendlog prices
import` of it. With a fixed seed the script picks chat models across providers (rows with cache,
reasoning, prompt-size and service-tier prices; Fireworks, Bedrock, Gemini, xAI, DeepSeek,
Dashscope/Qwen, Volcengine) and random token mixes (cache reads and writes, 1-hour writes,
reasoning, prompts below, at and above each prompt-size threshold), prices every case with
LiteLLM (`litellm.cost_per_token` with a usage object and the service tier) and with spendlog
(all cases in one `spendlog ingest` into a temporary log, read back with `spendlog logs`), and
compares the two to 1e-9 USD.

A case where they differ must be explained by KNOWN_DIFFERENCES (each entry a rule: a predicate
over the case, the difference it predicts where it can, the reason, and the provider's price
page); any other difference fails, and so does a difference other than the one predicted.
A rule that explains no case fails too: it is stale and should be removed.

    litellm-diff.py --spendlog .build/debug/spendlog [--seed N] [--models N] [--verbose]

Prints a JSON summary on standard output; exit 0 when every difference is explained, 1 when not.
Runs offline: LITELLM_LOCAL_MODEL_COST_MAP=True keeps LiteLLM from fetching its remote table.
"""

import argparse
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
from datetime import datetime, timezone

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ.setdefault("LITELLM_LOG", "ERROR")

TOLERANCE_USD = 1e-9
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "Fixtures", "prices", "litellm-model-prices.json")
TIERS = {"batch": "_batches", "priority": "_priority", "flex": "_flex"}
# LiteLLM prices DeepSeek's off-peak hours by the clock. Every case is priced at a pinned moment
# (never today's): a peak-hours moment, or for cases marked off_peak an off-peak one. Checked below.
PEAK_MOMENT = datetime(2026, 11, 25, 2, 30, tzinfo=timezone.utc)  # a Wednesday, 02:30 UTC
OFF_PEAK_MOMENT = datetime(2026, 11, 25, 17, 30, tzinfo=timezone.utc)  # a Wednesday, 17:30 UTC


# ---------------------------------------------------------------------------------------------
# Known, justified differences. Each entry: a name, a predicate over the case (its LiteLLM row,
# its token counts, its service tier, and spendlog's and LiteLLM's costs), the reason, and the
# provider's own price page. A differing case must match exactly one entry.
# ---------------------------------------------------------------------------------------------


def has(row, key):
    return isinstance(row.get(key), (int, float))


def thresholds(row, suffix=""):
    """The prompt-size thresholds (tokens) of a row's `_above_<N>k_tokens` keys for one tier suffix."""
    found = set()
    for key in row:
        m = re.match(r"^(input_cost_per_token|output_cost_per_token|cache_read_input_token_cost|"
                     r"cache_creation_input_token_cost)_above_(\d+)k_tokens" + re.escape(suffix) + "$", key)
        if m and has(row, key):
            found.add(int(m.group(2)) * 1000)
    return found


def price(row, key):
    return float(row[key]) if has(row, key) else None


def no_prompt_tier(c):
    """True when no prompt-size threshold of the row is reached (so base prices apply)."""
    return all(c["input"] <= t for t in row_thresholds(c["row"]))


# Each rule: "when" (does the rule apply to this case) and "delta" (LiteLLM minus spendlog that
# the rule predicts, or None where the rule only names the class). A differing case is explained
# when at least one rule applies and, if every rule that applies predicts its delta, their sum is
# the difference seen (to 1e-9 USD).


def fireworks_default_cache_read(c):
    return (c["provider"] == "fireworks_ai" and c["tier"] == "standard" and c["cached"] > 0
            and not has(c["row"], "cache_read_input_token_cost"))


def fireworks_default_cache_read_delta(c):
    return c["cached"] * (0.5 * price(c["row"], "input_cost_per_token") - price(c["row"], "input_cost_per_token"))


def fireworks_dropped_service_tier(c):
    return c["provider"] == "fireworks_ai" and c["tier"] != "standard"


def batch_discount(row):
    """The batch input discount spendlog applies to cache prices a batch row does not list."""
    batch_input = price(row, "input_cost_per_token_batches")
    standard_input = price(row, "input_cost_per_token")
    if batch_input is None or not standard_input:
        return None
    return batch_input / standard_input


def batch_cache_read_without_batch_price(c):
    return (c["tier"] == "batch" and c["provider"] != "fireworks_ai" and c["cached"] > 0
            and has(c["row"], "cache_read_input_token_cost")
            and not any(k.startswith("cache_read_input_token_cost") and k.endswith("_batches") for k in c["row"]))


def batch_cache_read_delta(c):
    row = c["row"]
    d = batch_discount(row)
    if not no_prompt_tier(c) or d is None:
        return None
    return c["cached"] * (price(row, "input_cost_per_token_batches") - price(row, "cache_read_input_token_cost") * d)


def batch_output_without_batch_price(c):
    return (c["tier"] == "batch" and c["provider"] != "fireworks_ai" and c["output"] > 0
            and has(c["row"], "input_cost_per_token_batches") and not has(c["row"], "output_cost_per_token_batches"))


def batch_output_delta(c):
    row = c["row"]
    if not no_prompt_tier(c) or has(row, "output_cost_per_reasoning_token"):
        return None
    return -0.5 * c["output"] * price(row, "output_cost_per_token")


def batch_cache_write_without_batch_price(c):
    row = c["row"]
    return (c["tier"] == "batch" and c["provider"] != "fireworks_ai" and c["writes"] > 0
            and has(row, "cache_creation_input_token_cost") and not has(row, "cache_creation_input_token_cost_batches"))


def batch_cache_write_delta(c):
    row = c["row"]
    d = batch_discount(row)
    if not no_prompt_tier(c) or d is None:
        return None
    batch_input = price(row, "input_cost_per_token_batches")
    write = price(row, "cache_creation_input_token_cost")
    write_1h = price(row, "cache_creation_input_token_cost_above_1hr") or write
    return (c["writes"] - c["writes_1h"]) * (batch_input - write * d) + c["writes_1h"] * (batch_input - write_1h * d)


def batch_1h_write_without_batch_price(c):
    row = c["row"]
    return (c["tier"] == "batch" and c["writes_1h"] > 0 and has(row, "cache_creation_input_token_cost_batches")
            and has(row, "cache_creation_input_token_cost_above_1hr")
            and not has(row, "cache_creation_input_token_cost_above_1hr_batches"))


def batch_1h_write_delta(c):
    row = c["row"]
    d = batch_discount(row)
    if not no_prompt_tier(c) or d is None:
        return None
    return c["writes_1h"] * (price(row, "cache_creation_input_token_cost_batches")
                             - price(row, "cache_creation_input_token_cost_above_1hr") * d)


def service_tier_at_prompt_tier(c):
    """A service tier at a prompt size above a threshold, where the row lacks some component's
    price for that tier at that size: spendlog takes the tier's base price, LiteLLM the standard
    price at that size."""
    row = c["row"]
    suffix = TIERS.get(c["tier"])
    if suffix is None or c["tier"] == "batch":
        return False
    reached = [t for t in thresholds(row) if c["input"] > t]
    if not reached:
        return False
    n = max(reached) // 1000
    bases = ["input_cost_per_token", "output_cost_per_token", "cache_read_input_token_cost",
             "cache_creation_input_token_cost"]
    return any(has(row, f"{b}_above_{n}k_tokens") and not has(row, f"{b}_above_{n}k_tokens{suffix}") for b in bases)


def xai_inclusive_threshold(c):
    return c["provider"] == "xai" and c["input"] in row_thresholds(c["row"])


def tiered_pricing_not_imported(c):
    return (isinstance(c["row"].get("tiered_pricing"), list) and not has(c["row"], "input_cost_per_token")
            and not c["spendlog_exact_row"])


def tiered_pricing_delta(c):
    return c["litellm"] - 0.0 if c["cost_source"] == "unpriced" else None


def deepseek_off_peak(c):
    return c["clock"] == "off_peak" and isinstance(c["row"].get("off_peak_pricing"), dict)


# Not listed, because no case shows it with LiteLLM 1.109.1: a $0 cache read on a row without a
# cache price. That version bills such reads at the input price, like spendlog, except in its batch
# fallback for rows without any batch price (half of each standard price, and half of a missing
# cache-read price, $0); the cases use only the service tiers a row prices.
KNOWN_DIFFERENCES = [
    # Each is a rule of docs/PRICING.md ("Which price applies") where spendlog follows the
    # provider's price page and LiteLLM does not, or a guess of LiteLLM's that no page supports.
    {
        "name": "fireworks-service-tier-dropped-by-litellm",
        "when": fireworks_dropped_service_tier, "delta": None,
        "reason": "LiteLLM's Fireworks cost function takes no service tier: a priority call is priced at standard "
                  "prices there, at the row's priority prices in spendlog.",
        "source": "https://fireworks.ai/pricing",
    },
    {
        "name": "litellm-batch-output-at-half-standard",
        "when": batch_output_without_batch_price, "delta": batch_output_delta,
        "reason": "A row with a batch input price but no batch output price: LiteLLM guesses half the standard "
                  "output price, spendlog uses the standard output price and says so (docs/PRICING.md: an "
                  "input or output price the service tier does not list takes the standard price).",
        "source": "https://learn.microsoft.com/en-us/azure/ai-foundry/openai/how-to/batch",
    },
    {
        "name": "batch-cache-read-without-batch-price",
        "when": batch_cache_read_without_batch_price, "delta": batch_cache_read_delta,
        "reason": "Batch call, row without a batch cache-read price: LiteLLM bills cache reads as uncached input "
                  "at the batch input price (no cache discount in batch); spendlog bills the standard cache-read "
                  "price times the batch input discount, as the providers' batch tables do (OpenAI's batch "
                  "cached input is half of standard's; Anthropic's batch and caching discounts stack).",
        "source": "https://platform.openai.com/docs/pricing",
    },
    {
        "name": "batch-cache-write-without-batch-price",
        "when": batch_cache_write_without_batch_price, "delta": batch_cache_write_delta,
        "reason": "Batch call, row with cache-write prices but no batch cache-write price: LiteLLM bills the "
                  "writes as input at the batch input price; spendlog the standard cache-write prices times the "
                  "batch input discount (Anthropic: batch halves every price, cache writes included).",
        "source": "https://docs.anthropic.com/en/docs/build-with-claude/batch-processing#pricing",
    },
    {
        "name": "batch-1h-write-without-batch-price",
        "when": batch_1h_write_without_batch_price, "delta": batch_1h_write_delta,
        "reason": "Batch call, row with a batch cache-write price but no batch 1-hour write price: LiteLLM bills "
                  "1-hour writes at the batch 5-minute write price; spendlog at the standard 1-hour price times "
                  "the batch input discount (Anthropic: batch halves every price, so the batch 1-hour write is "
                  "half the 1-hour price).",
        "source": "https://docs.anthropic.com/en/docs/build-with-claude/batch-processing#pricing",
    },
    {
        "name": "service-tier-at-prompt-tier",
        "when": service_tier_at_prompt_tier, "delta": None,
        "reason": "Flex or priority above a prompt-size threshold, row without that tier's price for a component "
                  "at that size: LiteLLM takes the standard long-context price (no tier discount); spendlog the "
                  "standard long-context price times the tier's discount (tier base ÷ standard base), as the "
                  "providers' tables list their flex and batch long-context prices.",
        "source": "https://ai.google.dev/gemini-api/docs/pricing",
    },
]


# ---------------------------------------------------------------------------------------------
# The cases
# ---------------------------------------------------------------------------------------------


def priced_chat_rows(table):
    rows = {}
    for name, row in table.items():
        if name == "sample_spec" or not isinstance(row, dict) or row.get("mode") != "chat":
            continue
        if not row.get("litellm_provider"):
            continue
        if (has(row, "input_cost_per_token") and has(row, "output_cost_per_token")) or isinstance(
                row.get("tiered_pricing"), list):
            rows[name] = row
    return rows


def row_tiers(row):
    return [tier for tier, suffix in TIERS.items() if any(k.endswith(suffix) and has(row, k) for k in row)]


def row_thresholds(row):
    found = set()
    for suffix in [""] + list(TIERS.values()):
        found |= thresholds(row, suffix)
    for tier in row.get("tiered_pricing") or []:
        rng = tier.get("range") if isinstance(tier, dict) else None
        if isinstance(rng, list) and rng and rng[0]:
            found.add(int(rng[0]))
    return sorted(found)


def litellm_lookup_is_the_row(name, row, table):
    """cost_per_token(model=name, custom_llm_provider=p) looks up "p/name" first: skip names
    for which that is another row, so that both sides price the same row."""
    provider = row["litellm_provider"]
    return name.startswith(provider + "/") or f"{provider}/{name}" not in table


STRATA = [
    ("fireworks", 16, lambda n, r: r["litellm_provider"] == "fireworks_ai"),
    ("bedrock", 22, lambda n, r: r["litellm_provider"] in ("bedrock", "bedrock_converse")),
    ("gemini", 16, lambda n, r: r["litellm_provider"] in ("gemini", "vertex_ai-language-models")),
    ("xai", 10, lambda n, r: r["litellm_provider"] == "xai"),
    ("deepseek", 8, lambda n, r: r["litellm_provider"] == "deepseek" or "off_peak_pricing" in r),
    ("dashscope", 10, lambda n, r: r["litellm_provider"] in ("dashscope", "qwencloud", "qwen_ai_platform")),
    ("volcengine", 4, lambda n, r: r["litellm_provider"] == "volcengine"),
    ("prompt-tiers", 30, lambda n, r: bool(thresholds(r))),
    ("batch", 25, lambda n, r: "batch" in row_tiers(r)),
    ("priority", 20, lambda n, r: "priority" in row_tiers(r)),
    ("flex", 15, lambda n, r: "flex" in row_tiers(r)),
    ("reasoning", 15, lambda n, r: has(r, "output_cost_per_reasoning_token")),
    ("cache-write", 15, lambda n, r: has(r, "cache_creation_input_token_cost")),
    ("cache-write-1h", 10, lambda n, r: has(r, "cache_creation_input_token_cost_above_1hr")),
    ("cache-read", 15, lambda n, r: has(r, "cache_read_input_token_cost")),
]


def pick_models(rows, rng, total):
    chosen = []
    seen = set()
    for _, quota, predicate in STRATA:
        pool = sorted(n for n, r in rows.items() if predicate(n, r) and n not in seen)
        for name in rng.sample(pool, min(quota, len(pool))):
            chosen.append(name)
            seen.add(name)
    rest = sorted(n for n in rows if n not in seen)
    for name in rng.sample(rest, max(0, min(total - len(chosen), len(rest)))):
        chosen.append(name)
        seen.add(name)
    return chosen


def log_uniform(rng, low, high):
    return int(round(math.exp(rng.uniform(math.log(low), math.log(high)))))


def make_case(rng, name, row, index):
    tiers = row_tiers(row)
    tier = rng.choice(["standard"] + tiers) if tiers and rng.random() < 0.7 else "standard"
    limits = row_thresholds(row)
    if limits and rng.random() < 0.6:
        t = rng.choice(limits)
        total_in = rng.choice([t, t, t + 1, t - 1, t + log_uniform(rng, 2, t)])
    else:
        total_in = log_uniform(rng, 1, 400_000)
    cached = 0 if rng.random() < 0.4 else int(total_in * rng.uniform(0, 0.95))
    writes = 0 if rng.random() < 0.6 else int((total_in - cached) * rng.uniform(0, 0.9))
    writes_1h = 0 if writes == 0 or rng.random() < 0.6 else int(writes * rng.uniform(0, 1))
    total_out = log_uniform(rng, 1, 60_000)
    reasoning = 0 if rng.random() < 0.5 else int(total_out * rng.uniform(0, 1))
    clock = "off_peak" if isinstance(row.get("off_peak_pricing"), dict) and rng.random() < 0.5 else "peak"
    return {
        "id": f"case-{index}", "model": name, "provider": row["litellm_provider"], "row": row, "tier": tier,
        "input": total_in, "cached": cached, "writes": writes, "writes_1h": writes_1h, "output": total_out,
        "reasoning": reasoning, "clock": clock,
    }


# ---------------------------------------------------------------------------------------------
# LiteLLM's side
# ---------------------------------------------------------------------------------------------


def load_litellm(table):
    import litellm
    from litellm import _internal_context
    from litellm.litellm_core_utils.llm_cost_calc import utils as cost_utils

    litellm.model_cost = table
    litellm.utils._invalidate_model_cost_lowercase_map()  # LiteLLM's caches of rows
    litellm.suppress_debug_info = True
    # The table LiteLLM prices from is the fixture, row for row.
    assert litellm.model_cost is table
    for moment, off in [(PEAK_MOMENT, False), (OFF_PEAK_MOMENT, True)]:
        for name, row in table.items():
            if isinstance(row, dict) and isinstance(row.get("off_peak_pricing"), dict):
                assert cost_utils._is_off_peak(row["off_peak_pricing"], moment) == off, (name, moment)
    return litellm, _internal_context


def litellm_cost(litellm, context, case):
    from litellm import Usage

    details = {"cached_tokens": case["cached"], "cache_creation_tokens": case["writes"]}
    if case["writes_1h"]:
        details["cache_creation_token_details"] = {
            "ephemeral_5m_input_tokens": case["writes"] - case["writes_1h"],
            "ephemeral_1h_input_tokens": case["writes_1h"],
        }
    usage = Usage(
        prompt_tokens=case["input"], completion_tokens=case["output"],
        total_tokens=case["input"] + case["output"], prompt_tokens_details=details,
        completion_tokens_details={"reasoning_tokens": case["reasoning"]})
    moment = OFF_PEAK_MOMENT if case["clock"] == "off_peak" else PEAK_MOMENT
    kwargs = dict(model=case["model"], custom_llm_provider=case["provider"], usage_object=usage)
    if case["tier"] == "batch":
        kwargs["call_type"] = "retrieve_batch"
    elif case["tier"] != "standard":
        kwargs["service_tier"] = case["tier"]
    with context.pinned_billing_time(moment):
        prompt, completion = litellm.cost_per_token(**kwargs)
    return prompt + completion


def check_litellm_reads_the_fixture(litellm, context, table, cases):
    """Doubling every price of a row must double LiteLLM's cost: the numbers come from `table`."""
    probe = next(c for c in cases if c["tier"] == "standard" and c["clock"] == "peak"
                 and not isinstance(c["row"].get("tiered_pricing"), list))
    before = litellm_cost(litellm, context, probe)
    saved = dict(table[probe["model"]])
    try:
        for key, value in saved.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and "cost" in key:
                table[probe["model"]][key] = value * 2
        litellm.utils._invalidate_model_cost_lowercase_map()
        after = litellm_cost(litellm, context, probe)
    finally:
        table[probe["model"]] = saved
        litellm.utils._invalidate_model_cost_lowercase_map()
    assert before > 0 and abs(after - 2 * before) <= 1e-12 * max(1, after), (probe["model"], before, after)


# ---------------------------------------------------------------------------------------------
# spendlog's side
# ---------------------------------------------------------------------------------------------


def spendlog_costs(binary, cases, work):
    prices = os.path.join(work, "prices.json")
    env = dict(os.environ, SPENDLOG_NOW="2026-11-25T12:00:00Z")
    subprocess.run([binary, "prices", "import", FIXTURE, "--output", prices], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(prices) as f:
        imported = set(json.load(f)["models"])
    lines = []
    for c in cases:
        record = {
            "project": "litellm-diff", "model": c["model"], "request_id": c["id"],
            "input_tokens": c["input"], "output_tokens": c["output"], "cached_input_tokens": c["cached"],
            "cache_write_tokens": c["writes"], "reasoning_tokens": c["reasoning"],
            # The record's time prices off-peak hours, as LiteLLM's pinned moment does.
            "ts": (OFF_PEAK_MOMENT if c["clock"] == "off_peak" else PEAK_MOMENT).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        }
        if c["writes_1h"]:
            record["cache_write_1h_tokens"] = c["writes_1h"]
        if c["tier"] != "standard":
            record["service_tier"] = c["tier"]
        lines.append(json.dumps(record))
    log = os.path.join(work, "log")
    run = subprocess.run([binary, "ingest", "--dir", log, "--prices", prices, "--fsync", "none", "-"],
                         input="\n".join(lines) + "\n", text=True, capture_output=True, env=env)
    if run.returncode != 0:
        raise SystemExit(f"spendlog ingest failed ({run.returncode}): {run.stderr[-2000:]}")
    out = subprocess.run([binary, "logs", "--dir", log, "--format", "jsonl", "--limit", str(len(cases) + 10)],
                         check=True, text=True, capture_output=True, env=env).stdout
    costs = {}
    for line in out.splitlines():
        record = json.loads(line)
        costs[record["request_id"]] = (float(record["cost_usd"]), record["cost_source"], record["cost_usd"])
    for c in cases:
        c["spendlog_exact_row"] = c["model"] in imported
    return costs


def command_line(c):
    """The `spendlog cost` command that shows the breakdown of a case."""
    parts = ["spendlog cost --prices PRICES", f"--model '{c['model']}'", f"--input-tokens {c['input']}",
             f"--cached-input-tokens {c['cached']}", f"--cache-write-tokens {c['writes']}",
             f"--output-tokens {c['output']}", f"--reasoning-tokens {c['reasoning']}", "--format json"]
    if c["writes_1h"]:
        parts.append(f"--cache-write-1h-tokens {c['writes_1h']}")
    if c["tier"] != "standard":
        parts.append(f"--service-tier {c['tier']}")
    return " ".join(parts)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spendlog", required=True, help="the built spendlog binary")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--models", type=int, default=300, help="how many chat models (at least 200)")
    parser.add_argument("--cases-per-model", type=int, default=2)
    parser.add_argument("--verbose", action="store_true", help="list every differing case on standard error")
    args = parser.parse_args()

    with open(FIXTURE) as f:
        table = json.load(f)
    rows = priced_chat_rows(table)
    rows = {n: r for n, r in rows.items() if litellm_lookup_is_the_row(n, r, table)}
    rng = random.Random(args.seed)
    models = pick_models(rows, rng, args.models)
    cases = []
    for name in models:
        for _ in range(args.cases_per_model):
            cases.append(make_case(rng, name, rows[name], len(cases)))

    litellm, context = load_litellm(table)
    check_litellm_reads_the_fixture(litellm, context, table, cases)
    with tempfile.TemporaryDirectory(prefix="spendlog-litellm-diff-") as work:
        spend = spendlog_costs(args.spendlog, cases, work)

    agree = 0
    explained = {entry["name"]: 0 for entry in KNOWN_DIFFERENCES}
    unexplained = []
    mismatched = []
    for c in cases:
        try:
            c["litellm"] = litellm_cost(litellm, context, c)
        except Exception as error:  # noqa: BLE001 - reported as a difference
            c["litellm"] = None
            c["litellm_error"] = f"{type(error).__name__}: {error}"[:300]
        c["spendlog"], c["cost_source"], c["spendlog_text"] = spend[c["id"]]
        if c["litellm"] is not None and abs(c["litellm"] - c["spendlog"]) <= TOLERANCE_USD:
            agree += 1
            continue
        matching = [entry for entry in KNOWN_DIFFERENCES if entry["when"](c)]
        deltas = [entry["delta"](c) if entry["delta"] else None for entry in matching]
        actual = (c["litellm"] or 0.0) - c["spendlog"]
        if matching and (None in deltas or abs(sum(deltas) - actual) <= TOLERANCE_USD):
            for entry in matching:
                explained[entry["name"]] += 1
        elif matching:
            mismatched.append((c, [entry["name"] for entry in matching], sum(deltas)))
        else:
            unexplained.append(c)

    def show(c):
        return {
            "model": c["model"], "provider": c["provider"], "service_tier": c["tier"], "clock": c["clock"],
            "input_tokens": c["input"], "cached_input_tokens": c["cached"], "cache_write_tokens": c["writes"],
            "cache_write_1h_tokens": c["writes_1h"], "output_tokens": c["output"],
            "reasoning_tokens": c["reasoning"], "litellm_usd": c["litellm"], "spendlog_usd": c["spendlog_text"],
            "spendlog_cost_source": c["cost_source"], "spendlog_exact_row": c["spendlog_exact_row"],
            **({"litellm_error": c["litellm_error"]} if "litellm_error" in c else {}),
            "spendlog_command": command_line(c),
        }

    stale = [name for name, count in explained.items() if count == 0]
    summary = {
        "seed": args.seed, "cases": len(cases), "models": len(models),
        "providers": len({c["provider"] for c in cases}), "agree": agree,
        "explained": explained, "stale_rules": stale,
        "unexplained": [show(c) for c in unexplained],
        "rule_predicts_another_difference": [dict(show(c), rules=r, predicted_usd=d) for c, r, d in mismatched],
    }
    if args.verbose:
        for c in cases:
            if c["litellm"] is None or abs(c["litellm"] - c["spendlog"]) > TOLERANCE_USD:
                print(json.dumps(show(c)), file=sys.stderr)
    print(json.dumps(summary, indent=1))
    ok = not unexplained and not mismatched and not stale and len(models) >= 200
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
