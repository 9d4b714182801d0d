#!/usr/bin/env bash
# A web process in bash: one page, served on $PORT with the stack's Python.
set -euo pipefail
site=$(mktemp -d)
echo "hello from a shell script on $DYNO" > "$site/index.html"
exec python3 -m http.server --bind 0.0.0.0 "$PORT" --directory "$site"
