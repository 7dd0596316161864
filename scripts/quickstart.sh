#!/usr/bin/env bash
# npm run quickstart [-- up|destroy|status]
#
#   up (default)  start the embedded cluster, a local git server (seeded with
#                 examples/quickstart/repo) and our controllers; `pulumi up` the top-level
#                 Pulumi.yaml (Bootstrap + a typed Kustomization for the sample app); wait until
#                 the app is applied; print what was reconciled; run `pulumi up` again and check
#                 it is a no-op. Everything stays up so you can look around (KUBECONFIG printed).
#   destroy       `pulumi destroy`, then stop the controllers, the git server and the cluster.
#   status        what runs, and the stack's outputs.
#
# State lives in .gitops/quickstart/ (or $GITOPS_QUICKSTART_DIR: cluster data, git repos, Pulumi
# state with passphrase "quickstart", logs). The tools it needs are the `quickstart` entry of
# cli/tool-needs.json, built into the tool cache when missing; no network access is needed once
# they are built.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
Q=${GITOPS_QUICKSTART_DIR:-$ROOT/.gitops/quickstart}
T_START=$(date +%s.%N)
TOOLS=${GITOPS_TOOLS:-$HOME/.cache/gitops-tools}
CMD=${1:-up}
say() { printf '\033[1m[quickstart]\033[0m %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

export PULUMI_HOME="$Q/pulumi-home" PULUMI_BACKEND_URL="file://$Q/state" PULUMI_CONFIG_PASSPHRASE=quickstart
export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true PULUMI_DISABLE_REGISTRY_RESOLVE=true
STACK=dev
KUBECONFIG_FILE="$Q/cluster/kubeconfig"
GIT_USER=gitops GIT_PASSWORD=quickstart-password

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
stop_pid() {
  if alive "$1"; then
    local pid; pid=$(cat "$1")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
}

prepare() {
  local c
  for c in git openssl; do command -v "$c" >/dev/null || die "'$c' is missing: install it (Debian: apt-get install $c)"; done
  bash scripts/setup-tools.sh quickstart
  source scripts/env.sh
  export PATH="$TOOLS/bin:$PATH"
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  fi
  # Compile only when a source changed since the last build of this checkout
  # (GITOPS_QUICKSTART_SKIP_BUILD=1: the caller has just built dist/, as the test does).
  local stamp=dist/.quickstart-build
  if [ "${GITOPS_QUICKSTART_SKIP_BUILD:-}" = 1 ]; then
    [ -f dist/examples/quickstart/index.js ] || die "dist/ is not built (unset GITOPS_QUICKSTART_SKIP_BUILD)"
  elif [ ! -f "$stamp" ] || [ -n "$(find cli controllers provider examples test bench tsconfig.json -newer "$stamp" \( -name '*.ts' -o -name '*.json' \) -print -quit)" ]; then
    say "building (tsc)"
    npx tsc -p tsconfig.json
    npx tsc -p examples/tsconfig.json
    touch "$stamp"
  fi
  mkdir -p "$Q/logs"
}

start_cluster() {
  if node dist/cli/main.js dev-cluster status --dir "$Q/cluster" >/dev/null 2>&1; then
    say "cluster already running"
  else
    say "starting the embedded cluster (etcd, kube-apiserver, controller-manager, scheduler, kwok)"
    node dist/cli/main.js dev-cluster up --dir "$Q/cluster" >/dev/null
  fi
}

start_git() {
  if alive "$Q/git.pid"; then say "git server already running at $(cat "$Q/git.url")"; return; fi
  say "starting the local git server (seeding fleet.git from examples/quickstart/repo)"
  node dist/provider/dev/git-server.js --root "$Q/git" --username "$GIT_USER" --password "$GIT_PASSWORD" \
    --seed "fleet.git=examples/quickstart/repo" > "$Q/git.json" 2> "$Q/logs/git-server.log" &
  echo $! > "$Q/git.pid"
  for _ in $(seq 100); do [ -s "$Q/git.json" ] && break; sleep 0.1; done
  [ -s "$Q/git.json" ] || die "the git server did not start: $(cat "$Q/logs/git-server.log")"
  node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).url + "/fleet.git")' "$Q/git.json" > "$Q/git.url"
}

start_controllers() {
  if alive "$Q/controllers.pid"; then say "controllers already running"; return; fi
  # The controllers watch our CRDs; install those first, as a cluster install would.
  node dist/cli/main.js install --crds-only --kubeconfig "$KUBECONFIG_FILE" >/dev/null
  say "starting our controllers (source, kustomize) as local processes (kwok only simulates the pods)"
  mkdir -p "$Q/storage"
  RUNTIME_NAMESPACE=flux-system node dist/cli/main.js controllers run --kubeconfig "$KUBECONFIG_FILE" --only source,kustomize \
    --storage-path "$Q/storage" --storage-addr 127.0.0.1:0 --storage-adv-addr 127.0.0.1:0 > "$Q/logs/controllers.log" 2>&1 &
  echo $! > "$Q/controllers.pid"
  for _ in $(seq 300); do grep -q "controllers started" "$Q/logs/controllers.log" && return; alive "$Q/controllers.pid" || break; sleep 0.1; done
  grep -q "controllers started" "$Q/logs/controllers.log" || die "the controllers did not start: $(tail -5 "$Q/logs/controllers.log")"
}

stack_init() {
  mkdir -p "$Q/state" "$PULUMI_HOME"
  pulumi stack select "$STACK" >/dev/null 2>&1 || pulumi stack init "$STACK" >/dev/null
  pulumi config set gitUrl "$(cat "$Q/git.url")" >/dev/null
  pulumi config set gitUsername "$GIT_USER" >/dev/null
  pulumi config set --secret gitPassword "$GIT_PASSWORD" >/dev/null
  pulumi config set kubeconfig "$KUBECONFIG_FILE" >/dev/null
}

report() {
  local out; out=$(pulumi stack output --json)
  node -e '
    const o = JSON.parse(process.argv[1]);
    console.log("\nReconciled:");
    console.log(`  git ${o.repositoryRevision} holds ${o.bootstrapFiles.join(", ")}`);
    console.log(`  flux-system Kustomization applied ${o.appliedRevision}`);
    console.log(`  hello Kustomization applied ${o.helloRevision}:`);
    for (const id of o.helloInventory) { const [ns, name, group, kind] = id.split("_"); console.log(`    ${kind}${group ? "." + group : ""} ${ns ? ns + "/" : ""}${name}`); }
  ' "$out"
  echo
  echo "  export KUBECONFIG=$KUBECONFIG_FILE   # kubectl get deploy -A; the flux CLI works too"
  echo "  npm run quickstart -- destroy        # remove everything"
}

case "$CMD" in
  up)
    prepare
    start_cluster
    start_git
    start_controllers
    stack_init
    say "pulumi up (Bootstrap: commit + push, install, wait for the sync; then the hello Kustomization)"
    t0=$(date +%s.%N)
    pulumi up --yes --skip-preview --stack "$STACK"
    t1=$(date +%s.%N)
    say "checking that a second pulumi up is a no-op"
    pulumi preview --expect-no-changes --stack "$STACK" >/dev/null
    pulumi up --yes --skip-preview --stack "$STACK" >/dev/null
    t2=$(date +%s.%N)
    report
    node -e 'const [s,a,b,c]=process.argv.slice(1).map(Number); console.log(`  timings: first pulumi up ${(b-a).toFixed(1)} s, preview + no-op up ${(c-b).toFixed(1)} s; quickstart ${(c-s).toFixed(1)} s in all (tools, build, cluster, controllers and both ups)`)' "$T_START" "$t0" "$t1" "$t2"
    ;;
  destroy)
    source scripts/env.sh
    export PATH="$TOOLS/bin:$PATH"
    if [ -d "$Q/state" ] && pulumi stack select "$STACK" >/dev/null 2>&1; then
      say "pulumi destroy"
      pulumi destroy --yes --skip-preview --stack "$STACK" || say "destroy reported errors (continuing the teardown)"
      pulumi stack rm --yes --force "$STACK" >/dev/null 2>&1 || true
    fi
    say "stopping the controllers, the git server and the cluster"
    stop_pid "$Q/controllers.pid"
    stop_pid "$Q/git.pid"
    node dist/cli/main.js dev-cluster down --dir "$Q/cluster" >/dev/null 2>&1 || true
    rm -rf "$Q"
    say "done"
    ;;
  status)
    source scripts/env.sh
    export PATH="$TOOLS/bin:$PATH"
    node dist/cli/main.js dev-cluster status --dir "$Q/cluster" || true
    alive "$Q/git.pid" && echo "git server: $(cat "$Q/git.url")" || echo "git server: stopped"
    alive "$Q/controllers.pid" && echo "controllers: running" || echo "controllers: stopped"
    pulumi stack output --stack "$STACK" 2>/dev/null || true
    ;;
  *)
    die "unknown command '$CMD' (use up, destroy or status)"
    ;;
esac
