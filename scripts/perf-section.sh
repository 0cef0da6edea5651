#!/usr/bin/env bash
# Replaces (or appends) one section of docs/PERFORMANCE.md: the text between
# "<!-- NAME:start -->" and "<!-- NAME:end -->" becomes the contents of FILE.
#   scripts/perf-section.sh NAME FILE
set -euo pipefail
name=$1
body=$2
doc=docs/PERFORMANCE.md
[ -f "$doc" ] || printf '# Performance\n\nEvery figure here is written by `make bench`; each section names the command and the machine.\n' > "$doc"
python3 - "$doc" "$name" "$body" <<'PY'
import sys
doc, name, body = sys.argv[1], sys.argv[2], open(sys.argv[3]).read().rstrip("\n")
text = open(doc).read()
start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
block = f"{start}\n{body}\n{end}"
if start in text and end in text:
    text = text[: text.index(start)] + block + text[text.index(end) + len(end):]
else:
    text = text.rstrip("\n") + "\n\n" + block + "\n"
open(doc, "w").write(text)
PY
