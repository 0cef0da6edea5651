#!/usr/bin/env bash
# Writes N realistic usage records as JSON lines to stdout (for `spendlog ingest -`):
#   scripts/gen-records.sh N DAYS [SEED] [END_EPOCH_SECONDS]
# 20 projects, 10 models with list prices, 60 users per project, callers, roles, tasks, 2% errors,
# 40% cached input;
# times spread over the DAYS days before END (default: now), in random order, or with ORDERED=1 in
# time order (as writers append them: record i falls in the i-th of N equal slots of the span).
# About 300 bytes per stored record.
# With TAGS=1 each record also has tags: team (one of 6, by project) and env (prod 80%, staging).
set -euo pipefail
N=${1:?count}; DAYS=${2:?days}; SEED=${3:-7}; END=${4:-$(date +%s)}
awk -v n="$N" -v days="$DAYS" -v seed="$SEED" -v end="$END" -v tags="${TAGS:-0}" -v ordered="${ORDERED:-0}" 'BEGIN {
    srand(seed)
    split("support-bot research etl search-rerank marketing-copy billing-assistant code-review docs-qa sales-email " \
          "fraud-triage onboarding translation moderation analytics-sql ticket-routing legal-summaries hr-faq " \
          "product-search voice-notes data-cleanup", projects, " ")
    split("gpt-4.1 gpt-4.1-mini gpt-5 o3 claude-sonnet-4-5 claude-haiku-4-5 claude-opus-4-1 gemini-2.5-pro " \
          "gemini-2.5-flash mistral-large-latest", models, " ")
    split("2.00 0.40 1.25 2.00 3.00 1.00 15.00 1.25 0.30 2.00", inPrice, " ")
    split("8.00 1.60 10.00 8.00 15.00 5.00 75.00 10.00 2.50 6.00", outPrice, " ")
    split("planner summarizer extractor classifier writer", roles, " ")
    split("api-gateway nightly-batch slack-bot crm-sync webhook", callers, " ")
    split("triage draft-reply summarize-thread extract-fields classify-intent rerank-results translate-text " \
          "write-sql review-diff answer-question", tasks, " ")
    span = days * 86400
    for (i = 0; i < n; i++) {
        p = 1 + int(rand() * 20); m = 1 + int(rand() * 10)
        t = (ordered == 1) ? end - span + int((i + rand()) * span / n) : end - 1 - int(rand() * span)
        inTok = 200 + int(rand() * 8000); outTok = 20 + int(rand() * 1200)
        cached = (rand() < 0.4) ? int(inTok * 0.5) : 0
        reasoning = (m == 3 || m == 4) ? int(outTok * 0.6) : 0
        cost = sprintf("%.9f", (inTok * inPrice[m] + outTok * outPrice[m]) / 1000000)
        sub(/0+$/, "", cost); sub(/\.$/, "", cost)
        status = (rand() < 0.02) ? "error" : "ok"
        printf "{\"ts\":\"%s.%03dZ\",\"project\":\"%s\",\"model\":\"%s\",\"input_tokens\":%d,\"output_tokens\":%d,\"cached_input_tokens\":%d,\"reasoning_tokens\":%d,\"cost_usd\":%s,\"latency_ms\":%d,\"user\":\"u-%05d\",\"caller\":\"%s\",\"role\":\"%s\",\"task\":\"%s\",\"status\":\"%s\"%s}\n",
            strftime("%Y-%m-%dT%H:%M:%S", t, 1), int(rand() * 1000), projects[p], models[m], inTok, outTok, cached,
            reasoning, cost, 300 + int(rand() * 9000), p * 100 + int(rand() * 60), callers[1 + int(rand() * 5)],
            roles[1 + int(rand() * 5)], tasks[1 + int(rand() * 10)], status,
            (tags == 1) ? sprintf(",\"tags\":{\"env\":\"%s\",\"team\":\"team-%d\"}", \
                                  (rand() < 0.8) ? "prod" : "staging", p % 6) : ""
    }
}'
