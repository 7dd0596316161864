#!/usr/bin/env bash
# Regenerates sdk/{nodejs,python,go} from the provider's schema:
#   1. `pulumi package get-schema provider/bin/pulumi-resource-gitops` (the real CLI, offline);
#   2. a small Go program (provider/codegen/main.go) calling Pulumi's codegen libraries
#      (pkg/v3 v3.259.0), built once into the tool cache (not the repository).
# `pulumi package gen-sdk` would need language hosts that cannot be built here (toolchain notes §0).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TOOLS=${GITOPS_TOOLS:-$HOME/.cache/gitops-tools}
PV=v3.259.0
W="$TOOLS/src/pulumi-codegen-$PV"
BIN="$W/gen-sdk"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-modcacherw -buildvcs=false"
source "$ROOT/scripts/env.sh"
if [ ! -x "$BIN" ] || ! cmp -s "$ROOT/provider/codegen/main.go" "$W/main.go"; then
  mkdir -p "$W"
  cp "$ROOT/provider/codegen/main.go" "$W/main.go"
  (
    cd "$W"
    [ -f go.mod ] || go mod init tools.local/gitops-gen-sdk >/dev/null 2>&1
    go mod edit -replace=github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e
    go get github.com/pulumi/pulumi/pkg/v3@$PV github.com/pulumi/pulumi/sdk/v3@$PV >/dev/null 2>&1
    go mod tidy >/dev/null 2>&1 || true
    go build -trimpath -ldflags "-s -w" -o gen-sdk.new . && mv gen-sdk.new gen-sdk
  )
fi
export PULUMI_HOME=${PULUMI_HOME:-$TOOLS/pulumi-home-sdkgen} PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
(cd "$ROOT" && npx tsc -p tsconfig.json >/dev/null) || echo "gen-sdk: tsc reported errors; using the emitted dist/ as is" >&2
"$TOOLS/bin/pulumi" package get-schema "$ROOT/provider/bin/pulumi-resource-gitops" > "$ROOT/sdk/schema.json"
# The Go SDK's go.mod/go.sum are ours (the module path users require), not generated: kept.
keep=$(mktemp -d)
cp "$ROOT/sdk/go/go.mod" "$ROOT/sdk/go/go.sum" "$keep/" 2>/dev/null || true
rm -rf "$ROOT/sdk/nodejs" "$ROOT/sdk/python" "$ROOT/sdk/go"
"$BIN" "$ROOT/sdk/schema.json" "$ROOT/sdk" "${1:-nodejs,python,go}"
mkdir -p "$ROOT/sdk/go" && cp "$keep"/go.* "$ROOT/sdk/go/" 2>/dev/null || true
rm -rf "$keep"
