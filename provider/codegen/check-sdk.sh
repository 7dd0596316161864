#!/usr/bin/env bash
# Compiles the generated SDKs: nodejs with tsc (against the repo's @pulumi/pulumi), go with
# `go build` + `go vet` of a copy of its module (sdk/go/go.mod, pulumi sdk/v3 v3.259.0) in the tool cache, and
# python with py_compile (the Python Pulumi SDK is not installable here, so nothing runs it).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TOOLS=${GITOPS_TOOLS:-$HOME/.cache/gitops-tools}
source "$ROOT/scripts/env.sh"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-modcacherw -buildvcs=false"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
(cd "$ROOT/sdk/nodejs" && npx tsc -p tsconfig.json --outDir "$out/nodejs") && echo "nodejs SDK: compiles"
python3 -m py_compile "$ROOT"/sdk/python/pulumi_gitops/*.py && echo "python SDK: compiles (py_compile)"
W="$TOOLS/src/gitops-sdk-go-check"
rm -rf "$W" && mkdir -p "$W" && cp -r "$ROOT/sdk/go/." "$W/"
(
  cd "$W"
  go mod verify >/dev/null && go build ./... && go vet ./...
) && echo "go SDK: builds and vets"
