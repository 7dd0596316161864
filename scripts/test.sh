#!/usr/bin/env bash
# The test command (npm test): makes sure the real components exist, builds, and runs every
# unit and integration test against them. Ends with "N passed, N failed"; exits non-zero on
# any failure. Extra arguments are passed to mocha (e.g. a file glob or --grep).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
bash scripts/setup-tools.sh essential
source scripts/env.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi
npx tsc -p tsconfig.json
if [ -f dist/controllers/api/gen-crds.js ]; then node dist/controllers/api/gen-crds.js --check; fi
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=("dist/test/**/*.test.js")
exec npx mocha --require dist/test/support/hooks.js --reporter dist/test/support/reporter.js \
  --timeout 120000 --slow 5000 "${specs[@]}"
