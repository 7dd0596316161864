#!/usr/bin/env bash
# npm run package [-- <out-dir>] [--no-build]: the installable packages, into dist/packages/:
#   gitops-toolkit-pulumi-<v>.tgz                        the Node.js SDK (npm install <file>)
#   pulumi-resource-gitops-v<v>-linux-amd64.tar.gz       the provider plugin
#       (pulumi plugin install resource gitops <v> --file <file>): the compiled provider, the
#       API definitions its install manifests are generated from, and its production node_modules;
#       runs with the node on PATH (22+) or the one scripts/setup-tools.sh installed
#   pulumi_gitops-<v>.tar.gz                             the Python SDK (pip install <file>)
#   gitops-sdk-go-<v>.tar.gz                             the Go SDK module (go.mod + package)
# Archives are reproducible: sorted entries, owner 0, mtime of the last commit.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/env.sh
BUILD=1 OUT_ARG=dist/packages
for a in "$@"; do case "$a" in --no-build) BUILD=0 ;; *) OUT_ARG=$a ;; esac; done
OUT=$(mkdir -p "$OUT_ARG" && cd "$OUT_ARG" && pwd)
VERSION=$(node -p 'require("./package.json").version')
EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
say() { echo "[package] $*" >&2; }
# tgz <archive> <dir> [entry]: the directory's contents (or one entry of it), reproducibly.
tgz() {
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$EPOCH" --format=gnu -C "$2" -cf - "${3:-.}" | gzip -9n > "$1"
}

[ -d node_modules ] || npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
if [ "$BUILD" = 1 ]; then say "building (tsc)"; npx tsc -p tsconfig.json; fi
[ -f dist/provider/main.js ] || { say "ERROR: dist/ is not built (run without --no-build)"; exit 1; }

# ---- Node.js SDK ----
sdk="$STAGE/sdk-nodejs"
npx tsc -p sdk/nodejs/tsconfig.json --outDir "$sdk" --declarationMap false --sourceMap false
node -e '
  const [src, dst] = process.argv.slice(1);
  const p = require(src);
  delete p.scripts; delete p.devDependencies;
  Object.assign(p, { main: "index.js", types: "index.d.ts", files: ["**/*.js", "**/*.d.ts", "README.md"] });
  require("fs").writeFileSync(dst, JSON.stringify(p, null, 2) + "\n");
' "$ROOT/sdk/nodejs/package.json" "$sdk/package.json"
cp sdk/nodejs/README.md "$sdk/"
(cd "$sdk" && npm pack --silent --pack-destination "$OUT" >/dev/null)
say "$OUT/$(node -p 'require(process.argv[1]).name.replace("@","").replace("/","-")' "$sdk/package.json")-$VERSION.tgz"

# ---- provider plugin ----
plug="$STAGE/plugin"
mkdir -p "$plug/dist"
# What the plugin runs: the provider and the API definitions (CRDs, schemas) it imports.
for d in provider controllers/api; do
  mkdir -p "$plug/dist/$d"
  tar -C "dist/$d" --exclude='*.map' --exclude=./dev -cf - . | tar -C "$plug/dist/$d" -xf -
done
# Its dependencies: the bare modules its files require, at the versions of the repository's lock.
node -e '
  const fs = require("fs"), path = require("path");
  const [root, plug] = process.argv.slice(1);
  const pkg = require(path.join(root, "package.json"));
  const deps = {};
  const walk = (d) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const f = path.join(d, e.name);
    if (e.isDirectory()) walk(f);
    else if (f.endsWith(".js")) for (const m of fs.readFileSync(f, "utf8").matchAll(/require\("([^".][^"]*)"\)|import\("([^".][^"]*)"\)/g)) {
      const spec = m[1] ?? m[2]; if (spec.startsWith("node:")) continue;
      const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
      if (!pkg.dependencies[name]) throw new Error(`${f} requires ${name}, which is not a dependency in package.json`);
      deps[name] = pkg.dependencies[name];
    }
  } };
  walk(path.join(plug, "dist"));
  fs.writeFileSync(path.join(plug, "package.json"), JSON.stringify({
    name: "pulumi-resource-gitops", version: pkg.version, private: true, license: pkg.license,
    description: "The gitops Pulumi provider plugin (executable plugin: pulumi-resource-gitops)",
    engines: pkg.engines, dependencies: Object.fromEntries(Object.entries(deps).sort()),
  }, null, 2) + "\n");
' "$ROOT" "$plug"
cp package-lock.json "$plug/"
# The plugin's PulumiPlugin.yaml makes `pulumi plugin install` run the nodejs language host's
# `npm install` in the plugin's directory; with the lock and this .npmrc that finds the bundled
# node_modules complete and changes nothing, without the registry.
cat > "$plug/.npmrc" <<'NPMRC'
omit=dev
omit=peer
ignore-scripts=true
offline=true
audit=false
fund=false
update-notifier=false
NPMRC
(cd "$plug" && npm install --offline=false --prefer-offline --loglevel=error >/dev/null)
printf 'runtime: nodejs\n' > "$plug/PulumiPlugin.yaml"
# Type declarations and source maps are never loaded at run time (the packages' package.json
# stay, so npm still sees the tree complete).
find "$plug/node_modules" \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) -delete
cat > "$plug/pulumi-resource-gitops" <<'SH'
#!/bin/sh
# The gitops provider plugin: the Pulumi engine starts this executable. It needs Node.js 22+:
# $GITOPS_NODE, else the node on PATH, else the one scripts/setup-tools.sh installs.
here=$(dirname "$(readlink -f "$0")")
major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
for n in "${GITOPS_NODE:-}" "$(command -v node 2>/dev/null)" "${GITOPS_TOOLS:-$HOME/.cache/gitops-tools}/bin/node"; do
  if [ -n "$n" ] && [ -x "$n" ] && [ "$(major "$n")" -ge 22 ]; then exec "$n" "$here/dist/provider/main.js" "$@"; fi
done
echo "pulumi-resource-gitops: Node.js 22 or newer is needed (found $(node --version 2>/dev/null || echo none) on PATH); put it first on PATH or set GITOPS_NODE to its node binary" >&2
exit 1
SH
chmod 0755 "$plug/pulumi-resource-gitops"
plugin="$OUT/pulumi-resource-gitops-v$VERSION-linux-amd64.tar.gz"
tgz "$plugin" "$plug"
say "$plugin"

# ---- Python SDK: sdist and wheel (a python3 with setuptools and wheel: Debian's python3-wheel) ----
PY=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null && "$p" -c 'import setuptools, wheel' 2>/dev/null; then PY=$(command -v "$p"); break; fi
done
if [ -n "$PY" ]; then
  cp -r sdk/python "$STAGE/python"
  (cd "$STAGE/python" && SOURCE_DATE_EPOCH=$EPOCH "$PY" setup.py -q sdist --formats=tar -d "$STAGE/sdist" bdist_wheel -d "$STAGE/wheel" >/dev/null 2>&1)
  # The sdist repacked, as the others, so the same sources give the same archive.
  mkdir -p "$STAGE/sdist/x" && tar -C "$STAGE/sdist/x" -xf "$STAGE/sdist/pulumi_gitops-$VERSION.tar"
  tgz "$OUT/pulumi_gitops-$VERSION.tar.gz" "$STAGE/sdist/x" "pulumi_gitops-$VERSION"
  cp "$STAGE"/wheel/pulumi_gitops-$VERSION-*.whl "$OUT/"
  say "$OUT/pulumi_gitops-$VERSION.tar.gz"
  say "$OUT/$(basename "$STAGE"/wheel/*.whl)"
else
  say "ERROR: the Python SDK needs python3 with setuptools and wheel (apt-get install python3-wheel)"; exit 1
fi

# ---- Go SDK (a module: go.mod at sdk/go) ----
tgz "$OUT/gitops-sdk-go-$VERSION.tar.gz" sdk/go
say "$OUT/gitops-sdk-go-$VERSION.tar.gz"
ls -l "$OUT" | awk 'NR>1 {printf "[package] %8.1f KiB  %s\n", $5/1024, $9}' >&2
