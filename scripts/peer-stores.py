#!/usr/bin/env python3
"""Writes an llm-toll and an llm-accounting database through the packages' own APIs, then prints
their own summaries as JSON (the import test compares spendlog's totals with them).

usage: peer-stores.py TOLL_DB ACCOUNTING_DB [CALLS]
"""
import json
import random
import sys
import warnings
from datetime import datetime, timedelta, timezone

toll_path, accounting_path = sys.argv[1], sys.argv[2]
calls = int(sys.argv[3]) if len(sys.argv) > 3 else 600
rng = random.Random(7)
warnings.simplefilter("ignore")

# llm-toll: calls through @track_costs with OpenAI-shaped responses; one project has a budget,
# which refuses some calls, and one budget is reset.
import llm_toll
from llm_toll import BudgetExceededError, SQLiteStore, set_store, track_costs

store = SQLiteStore(toll_path)
set_store(store)


class Usage:
    def __init__(self, i, o):
        self.prompt_tokens, self.completion_tokens = i, o


class Response:
    def __init__(self, model, i, o):
        self.model, self.usage, self.choices = model, Usage(i, o), []


models = ["gpt-4o-mini", "gpt-4o", "claude-3-5-sonnet-20241022", "gemini-1.5-flash"]


@track_costs(project="etl")
def etl(model, i, o):
    return Response(model, i, o)


@track_costs(project="web", max_budget=0.5)
def web(model, i, o):
    return Response(model, i, o)


@track_costs(project="research")
def research(model, i, o):
    return Response(model, i, o)


refused = 0
for n in range(calls):
    fn = (etl, web, research)[n % 3]
    try:
        fn(rng.choice(models), rng.randint(1, 40000), rng.randint(0, 4000))
    except BudgetExceededError:
        refused += 1
    if n == calls // 2:
        store.reset_budget("research")
toll = {
    "projects": store.get_all_project_summaries(),
    "models": store.get_model_summaries(),
    "budgets": store.get_budget_utilization(),
    "refused": refused,
}
store.close()

# llm-accounting: track_usage with projects, users, callers, cached and reasoning tokens, and a
# few usage limits of each kind.
from llm_accounting import LimitScope, LimitType, LLMAccounting, TimeInterval
from llm_accounting.backends.sqlite import SQLiteBackend

acc = LLMAccounting(backend=SQLiteBackend(db_path=accounting_path))
with acc:
    for n in range(calls):
        prompt = rng.randint(1, 30000)
        completion = rng.randint(0, 3000)
        acc.track_usage(
            model=rng.choice(models),
            prompt_tokens=prompt,
            completion_tokens=completion,
            total_tokens=prompt + completion,
            cost=round(rng.uniform(0, 0.2), rng.choice([4, 6, 9, 12])),
            execution_time=rng.uniform(0.05, 3.0),
            caller_name=rng.choice(["api", "batch", None]),
            username=rng.choice(["ana", "bo", None]),
            project=rng.choice(["etl", "web", None]),
            cached_tokens=rng.randint(0, prompt // 2),
            reasoning_tokens=rng.randint(0, completion),
        )
    limits = [
        (LimitScope.GLOBAL, LimitType.COST, 100.0, TimeInterval.MONTH, 1, {}),
        (LimitScope.PROJECT, LimitType.COST, 12.5, TimeInterval.DAY, 1, {"project_name": "etl"}),
        (LimitScope.USER, LimitType.REQUESTS, 500, TimeInterval.HOUR_ROLLING, 2, {"username": "ana"}),
        (LimitScope.MODEL, LimitType.TOTAL_TOKENS, 2000000, TimeInterval.WEEK, 1, {"model": "gpt-4o"}),
        (LimitScope.CALLER, LimitType.INPUT_TOKENS, 90000, TimeInterval.MINUTE_ROLLING, 30, {"caller_name": "api"}),
        (LimitScope.GLOBAL, LimitType.OUTPUT_TOKENS, 1000, TimeInterval.SECOND, 1, {}),
        (LimitScope.GLOBAL, LimitType.REQUESTS, 10000, TimeInterval.MONTH_ROLLING, 1, {}),
        (LimitScope.GLOBAL, LimitType.COST, 3.0, TimeInterval.DAY, 3, {}),
    ]
    for scope, kind, maximum, unit, value, names in limits:
        acc.set_usage_limit(scope=scope, limit_type=kind, max_value=maximum, interval_unit=unit,
                            interval_value=value, **names)
    start, end = datetime(1970, 1, 2, tzinfo=timezone.utc), datetime(9999, 1, 1, tzinfo=timezone.utc)
    period = acc.get_period_stats(start, end)
    by_model = acc.get_model_stats(start, end)
    accounting = {
        "period": {"cost": period.sum_cost, "prompt": period.sum_prompt_tokens,
                   "completion": period.sum_completion_tokens},
        "models": [{"model": m, "cost": s.sum_cost, "prompt": s.sum_prompt_tokens,
                    "completion": s.sum_completion_tokens} for m, s in by_model],
    }
print(json.dumps({"toll": toll, "accounting": accounting}, default=str))
