#!/usr/bin/env bash
# Renames the Go module of a fresh copy of this template, for when gonew is not at hand:
#   scripts/rename-module.sh example.com/acme/orders-api
set -euo pipefail
new="${1:?usage: scripts/rename-module.sh NEW/MODULE/PATH}"
cd "$(dirname "$0")/.."
old=$(go list -m)
[ "$old" != "$new" ] || { echo "module is already $new"; exit 0; }
go mod edit -module "$new"
# Rewrite import paths in Go files only: "old/internal/x" -> "new/internal/x".
find . -name '*.go' -not -path './vendor/*' -print0 | xargs -0 sed -i "s#\"$old/#\"$new/#g"
echo "renamed $old -> $new"
