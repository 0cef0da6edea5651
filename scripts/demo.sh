#!/usr/bin/env bash
# The main job on the embedded default: record a realistic sample of LLM usage into a temporary
# log (given costs, costs priced from the table, a provider response), enforce a limit, seal, check,
# index, and report what was spent, on what.
set -euo pipefail
BIN=${1:-.build/release/spendlog}
LOG=$(mktemp -d "${TMPDIR:-/tmp}/spendlog-demo.XXXXXX")/log
# The log goes at the end; the HTML report written beside it stays.
trap 'rm -rf "$LOG"' EXIT

echo "== recording into $LOG"
# A few calls the way a script in any language would record them, one process per call.
"$BIN" append --dir "$LOG" --project support-bot --model gpt-4.1 --input-tokens 1840 --output-tokens 212 \
    --cached-input-tokens 1024 --cost 0.005152 --user u-1042 --caller zendesk-webhook --latency-ms 1380 --status ok \
    --tag env=prod >/dev/null
"$BIN" append --dir "$LOG" --project research --model claude-sonnet-4-5 --input-tokens 52310 --output-tokens 3120 \
    --cache-write-tokens 48000 --cost 0.3498 --role summarizer --task weekly-digest --latency-ms 24110 >/dev/null
"$BIN" append --dir "$LOG" --project etl --model o3 --input-tokens 9000 --output-tokens 4100 --reasoning-tokens 3500 \
    --cost 0.0508 --status error --caller nightly-batch >/dev/null

# A week of traffic from five projects and six models, as JSON lines through one group commit.
awk -v seed=7 'BEGIN {
    srand(seed)
    split("support-bot research etl search-rerank marketing-copy", projects, " ")
    split("gpt-4.1 gpt-4.1-mini claude-sonnet-4-5 claude-haiku-4-5 gemini-2.5-flash o3", models, " ")
    split("2.00 0.40 3.00 1.00 0.30 2.00", inPrice, " ")
    split("8.00 1.60 15.00 5.00 2.50 8.00", outPrice, " ")
    now = systime()
    for (i = 0; i < 5000; i++) {
        p = 1 + int(rand() * 5); m = 1 + int(rand() * 6)
        t = now - int(rand() * 7 * 86400)
        inTok = 200 + int(rand() * 6000); outTok = 20 + int(rand() * 900)
        cached = (rand() < 0.4) ? int(inTok * 0.5) : 0
        cost = sprintf("%.9f", (inTok * inPrice[m] + outTok * outPrice[m]) / 1000000)
        sub(/0+$/, "", cost); sub(/\.$/, "", cost)
        status = (rand() < 0.02) ? "error" : "ok"
        printf "{\"ts\":\"%s\",\"project\":\"%s\",\"model\":\"%s\",\"input_tokens\":%d,\"output_tokens\":%d,\"cached_input_tokens\":%d,\"cost_usd\":%s,\"latency_ms\":%d,\"user\":\"u-%d\",\"status\":\"%s\"}\n",
            strftime("%Y-%m-%dT%H:%M:%SZ", t, 1), projects[p], models[m], inTok, outTok, cached, cost,
            300 + int(rand() * 9000), 1000 + int(rand() * 40), status
    }
}' | "$BIN" ingest --dir "$LOG" -

echo "== sealing (zstd) and verifying"
"$BIN" seal --dir "$LOG"
"$BIN" verify --dir "$LOG"
du -sh "$LOG/segments" | awk '{print "segments on disk: " $1}'

echo "== pricing and limits"
# No --cost: priced from the built-in table, cache reads at their own price.
"$BIN" append --dir "$LOG" --project research --model claude-sonnet-4-5 --input-tokens 120000 \
    --cached-input-tokens 100000 --output-tokens 2000 >/dev/null
echo "what a gpt-5 call costs, from the price table (nothing recorded):"
"$BIN" cost --model gpt-5 --input-tokens 20000 --cached-input-tokens 15000 --output-tokens 3000 --reasoning-tokens 2000
# A response body piped in, as a script in any language would.
printf '%s' '{"id":"chatcmpl-demo","object":"chat.completion","model":"gpt-4.1-mini-2025-04-14","usage":{"prompt_tokens":5200,"completion_tokens":410,"total_tokens":5610,"prompt_tokens_details":{"cached_tokens":4096},"completion_tokens_details":{"reasoning_tokens":0}}}' |
    "$BIN" append --dir "$LOG" --from-response openai - --project support-bot >/dev/null
"$BIN" limit set --dir "$LOG" --scope project=research --type cost --max 10 --window rolling:30d --soft 0.8 >/dev/null
if ! "$BIN" append --dir "$LOG" --enforce --project research --model o3 --input-tokens 9000 --output-tokens 4000 \
    --cost 5.00 >/dev/null; then
    echo "(refused: research would pass its \$10 limit for 30 days; nothing was written)"
fi
echo "limits:"
"$BIN" budget status --dir "$LOG"

echo "== indexing"
"$BIN" index --dir "$LOG"

echo "== the three most recent calls"
"$BIN" logs --dir "$LOG" --limit 3

echo "== spend by project"
"$BIN" stats --dir "$LOG" --by project

echo "== spend by model"
"$BIN" stats --dir "$LOG" --by model

echo "== the last seven days, by day"
"$BIN" stats --dir "$LOG" --by day --since "$(date -u -d '6 days ago' +%Y-%m-%d)"

echo "== the report of the last seven days, one HTML file that opens in any browser without a network"
"$BIN" report --dir "$LOG" --since "$(date -u -d '6 days ago' +%Y-%m-%d)" --out "$(dirname "$LOG")/report.html" \
    --title "spendlog demo: the last seven days"
echo "report: $(dirname "$LOG")/report.html"
