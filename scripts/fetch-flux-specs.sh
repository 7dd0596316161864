#!/usr/bin/env bash
# Downloads the upstream Flux controller modules (API specs in docs/spec/, CRDs in
# config/crd/bases/) into the Go module cache and prints one "name dir" line per module.
# Read them as the spec; nothing is copied into the repository. Fast and quiet when cached.
#
#   bash scripts/fetch-flux-specs.sh
#   source-controller /root/go/pkg/mod/github.com/fluxcd/source-controller@v1.9.5
#   ...
set -euo pipefail

modules=(
  github.com/fluxcd/source-controller@v1.9.5
  github.com/fluxcd/kustomize-controller@v1.9.5
  github.com/fluxcd/helm-controller@v1.6.4
)

if ! command -v go >/dev/null 2>&1; then
  echo "fetch-flux-specs: the 'go' command is needed (it downloads the modules through the Go module proxy)" >&2
  exit 1
fi

export GOFLAGS=-modcacherw
# Outside any Go module, so a go.mod nearby cannot change what is resolved.
cd "${TMPDIR:-/tmp}"

for module in "${modules[@]}"; do
  if ! json=$(go mod download -json "$module" 2>&1); then
    echo "fetch-flux-specs: go mod download $module failed:" >&2
    echo "$json" >&2
    exit 1
  fi
  dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")
  if [ -z "$dir" ] || [ ! -d "$dir" ]; then
    echo "fetch-flux-specs: no module directory for $module:" >&2
    echo "$json" >&2
    exit 1
  fi
  name=${module%@*}
  echo "${name##*/} $dir"
done
