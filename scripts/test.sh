#!/usr/bin/env bash
# The test command (npm test): makes sure the real components exist, builds, and runs every
# unit and integration test against them, in three stages: the main suite (kwok's simulated node),
# the fault suite (test/integration/faults: controllers killed, API server/etcd restarted, sources
# and storage failing; ~8 min, see docs/reliability.md), then the real-node suite (test/real-node:
# pods on a real kubelet + containerd node; needs root and the node's Debian packages, see
# docs/real-node.md). Ends with "N passed, N failed" over all; exits non-zero on any failure. Extra arguments are passed to mocha instead of the
# default specs (one stage; set GITOPS_TEST_REAL_NODE=1 for a real-node spec).
# GITOPS_TEST_STAGES=main|faults|real-node|all (default all) picks the stages; GITOPS_FAULTS_SCALE
# sizes the fault suite's kill test (test/integration/faults/support.ts).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
stages=${GITOPS_TEST_STAGES:-all}
need=(essential); case "$stages" in main|faults) ;; *) need+=(real-node) ;; esac
bash scripts/setup-tools.sh "${need[@]}"
source scripts/env.sh
# (a worktree sharing another checkout's node_modules through a symlink leaves it alone)
if [ ! -L node_modules ] && { [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; }; then
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi
npx tsc -p tsconfig.json
# The from-packages test installs a user project from the npm registry; warm npm's cache with its
# packages here, where a stalled registry fetch costs a retry and not a failed test.
if { [ "$stages" = all ] || [ "$stages" = main ]; } && { [ $# -eq 0 ] || [[ "$*" == *from-packages* ]]; }; then
  warm=$(mktemp -d)
  node -e 'const d=require(process.argv[1]); require("fs").writeFileSync(process.argv[2]+"/package.json", JSON.stringify({name:"warm",private:true,dependencies:{...d.dependencies,...d.devDependencies}}))' \
    "$ROOT/test/integration/provider/user-project-deps.json" "$warm"
  for attempt in 1 2 3; do
    if (cd "$warm" && timeout 300 npm install --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error --fetch-timeout=60000 >/dev/null); then break; fi
    echo "[test] warming npm's cache for the from-packages test: attempt $attempt failed"
  done
  rm -rf "$warm"
fi
if [ -f dist/controllers/api/gen-crds.js ]; then node dist/controllers/api/gen-crds.js --check; fi
mocha=(npx mocha --require dist/test/support/hooks.js --reporter dist/test/support/reporter.js --timeout 120000 --slow 5000)
if [ $# -gt 0 ]; then exec "${mocha[@]}" "$@"; fi

passed=0 failed=0 rc=0
stage() {  # stage <name> <mocha args...>: runs it, adds its closing line to the totals
  local name=$1 log; shift; log=$(mktemp)
  echo "[test] stage $name"
  set +e; "$@" 2>&1 | tee "$log"; local r=${PIPESTATUS[0]}; set -e
  local line; line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
  rm -f "$log"
  if [ -z "$line" ]; then echo "[test] stage $name ended without a result line (exit $r)"; failed=$((failed + 1)); rc=1; return; fi
  passed=$((passed + $(echo "$line" | cut -d' ' -f1))); failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
  [ "$r" -eq 0 ] || rc=1
}
if [ "$stages" = all ] || [ "$stages" = main ]; then
  # The full main stage also records which spec fields its passing tests set, for docs/compatibility.md.
  coverage=$(mktemp -d)
  stage main env GITOPS_FIELD_COVERAGE_DIR="$coverage" "${mocha[@]}" --ignore 'dist/test/real-node/**' --ignore 'dist/test/integration/faults/**' 'dist/test/**/*.test.js'
  if node dist/controllers/api/compat-table.js --coverage "$coverage" --out docs/compatibility.md; then
    git diff --quiet -- docs/compatibility.md 2>/dev/null || echo "[test] docs/compatibility.md was rewritten from this run: commit it"
  else
    echo "[test] docs/compatibility.md could not be generated"; failed=$((failed + 1)); rc=1
  fi
  rm -rf "$coverage"
fi
if [ "$stages" = all ] || [ "$stages" = faults ]; then
  stage faults "${mocha[@]}" --timeout 600000 'dist/test/integration/faults/**/*.test.js'
fi
if [ "$stages" = all ] || [ "$stages" = real-node ]; then
  stage real-node env GITOPS_TEST_REAL_NODE=1 "${mocha[@]}" --timeout 600000 'dist/test/real-node/**/*.test.js'
fi
echo
echo "$passed passed, $failed failed"
exit $rc
