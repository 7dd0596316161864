#!/usr/bin/env bash
# The test command (npm test): makes sure the real components exist, builds, and runs every
# unit and integration test against them, in two stages: the main suite (kwok's simulated node),
# then the real-node suite (test/real-node: pods on a real kubelet + containerd node; needs root
# and the node's Debian packages, see docs/real-node.md). Ends with "N passed, N failed" over
# both; exits non-zero on any failure. Extra arguments are passed to mocha instead of the
# default specs (one stage; set GITOPS_TEST_REAL_NODE=1 for a real-node spec).
# GITOPS_TEST_STAGES=main|real-node|all (default all) picks the stages.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
stages=${GITOPS_TEST_STAGES:-all}
need=(essential); [ "$stages" = main ] || need+=(real-node)
bash scripts/setup-tools.sh "${need[@]}"
source scripts/env.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi
npx tsc -p tsconfig.json
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
if [ "$stages" != real-node ]; then
  stage main "${mocha[@]}" --ignore 'dist/test/real-node/**' 'dist/test/**/*.test.js'
fi
if [ "$stages" != main ]; then
  stage real-node env GITOPS_TEST_REAL_NODE=1 "${mocha[@]}" --timeout 600000 'dist/test/real-node/**/*.test.js'
fi
echo
echo "$passed passed, $failed failed"
exit $rc
