#!/usr/bin/env python3
"""Lists the public symbols of a module that have no documentation comment.

    scripts/doc-coverage.py SYMBOLGRAPH.json [MORE.json ...]

Each argument is a symbol graph (`swift package dump-symbol-graph`, or the ones the DocC plugin
extracts: `SpendLog.symbols.json` and its extension graphs such as `SpendLog@Swift.symbols.json`),
or a folder of them. A symbol counts when it is public or open and is declared in this package's
sources (its `location` is a file under Sources/). Symbols without a location are left out: the
compiler synthesized them or they come from a protocol's default implementation (`hashValue`,
`hash(into:)`, Codable and Equatable witnesses).

Prints one line per undocumented symbol, `Sources/…/File.swift:LINE  Type.member`, sorted by file
and line, then a count. Exits 1 if there is any, 0 otherwise, 2 when no graph could be read.
"""

import json
import os
import sys
import urllib.parse


def graph_files(arguments):
    for argument in arguments:
        if os.path.isdir(argument):
            for name in sorted(os.listdir(argument)):
                if name.endswith(".symbols.json"):
                    yield os.path.join(argument, name)
        else:
            yield argument


def source_path(uri):
    """The path of a `file://` location relative to the package (from `Sources/` on), or None."""
    path = urllib.parse.unquote(urllib.parse.urlparse(uri).path)
    marker = "/Sources/"
    at = path.rfind(marker)
    return path[at + 1 :] if at >= 0 else None


def main(arguments):
    if not arguments:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    missing = set()
    public = set()
    read = 0
    for file in graph_files(arguments):
        try:
            with open(file, encoding="utf-8") as handle:
                graph = json.load(handle)
        except (OSError, ValueError) as error:
            print(f"doc-coverage: cannot read {file}: {error}", file=sys.stderr)
            return 2
        read += 1
        for symbol in graph.get("symbols", []):
            if symbol.get("accessLevel") not in ("public", "open"):
                continue
            location = symbol.get("location")
            if not location:
                continue
            path = source_path(location.get("uri", ""))
            if path is None:
                continue
            line = location.get("position", {}).get("line", 0) + 1
            key = (path, line, ".".join(symbol.get("pathComponents", [])))
            public.add(key)
            lines = (symbol.get("docComment") or {}).get("lines") or []
            if not any(entry.get("text", "").strip() for entry in lines):
                missing.add(key)
    if read == 0:
        print("doc-coverage: no symbol graph found", file=sys.stderr)
        return 2
    for path, line, name in sorted(missing):
        print(f"{path}:{line}  {name}")
    print(f"{len(missing)} of {len(public)} public symbols undocumented")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
