#!/usr/bin/env bash
# Writes Sources/spendlog-serve/OpenAPIDocument.swift from docs/openapi.json: the server serves the
# checked-in document's bytes (a test holds the two equal). Run after changing docs/openapi.json.
set -euo pipefail
cd "$(dirname "$0")/.."
doc=docs/openapi.json
out=Sources/spendlog-serve/OpenAPIDocument.swift
if grep -q '"##' "$doc"; then echo "docs/openapi.json holds \"##, which ends the Swift raw string" >&2; exit 1; fi
{
    echo '// Generated from docs/openapi.json by scripts/gen-openapi-swift.sh: do not edit.'
    echo 'enum OpenAPIDocument {'
    echo '    static let text = ##"""'
    cat "$doc"
    echo '"""## + "\n"'
    echo '}'
} > "$out"
