#!/usr/bin/env bash
# Seed corpora for make soak-fuzz, from Fixtures/: one file per record line (the fixture logs and
# the hostile corpus's ingest lines) for the parser and the scanner, and the provider responses
# for the capture parsers. Usage: scripts/fuzz-seeds.sh <folder>
set -euo pipefail
out=${1:?usage: fuzz-seeds.sh <folder>}
root=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$out"
mkdir -p "$out/parser" "$out/scanner" "$out/capture"
n=0
emit() { # one line per seed file, in both record corpora
    while IFS= read -r line; do
        n=$((n + 1))
        printf '%s' "$line" > "$out/parser/line-$n"
        cp "$out/parser/line-$n" "$out/scanner/line-$n"
    done
}
for f in "$root"/Fixtures/logs/good/segments/*/*.jsonl; do emit < "$f"; done
for f in "$root"/Fixtures/logs/good/segments/*/*.jsonl.zst; do zstd -dc "$f" | emit; done
# The first line of each ingest case of the hostile corpus (inputs up to 4 KiB).
python3 - "$root/Fixtures/hostile/cases.jsonl" "$out" <<'PY'
import base64, json, sys
cases, out = sys.argv[1], sys.argv[2]
n = 0
for text in open(cases, encoding="utf-8"):
    case = json.loads(text)
    data = case.get("stdin", case.get("file"))
    data = data.encode() if data is not None else None
    for key in ("stdin_b64", "file_b64"):
        if key in case:
            data = base64.b64decode(case[key])
    if not data or case["argv"][0] != "ingest":
        continue
    for line in data.split(b"\n"):
        if line and len(line) <= 4096:
            n += 1
            for target in ("parser", "scanner"):
                open(f"{out}/{target}/hostile-{n}", "wb").write(line)
PY
cp "$root"/Fixtures/provider-responses/* "$out/capture/"
echo "seeds: $(ls "$out/parser" | wc -l) record lines, $(ls "$out/capture" | wc -l) responses"
