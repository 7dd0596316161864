# Sourced by every script: puts Node 22+ first on PATH and points at the tool cache.
export GITOPS_TOOLS=${GITOPS_TOOLS:-$HOME/.cache/gitops-tools}
_node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$_node_major" -lt 22 ]; then
  if [ -x "$GITOPS_TOOLS/bin/node" ]; then
    export PATH="$(dirname "$(readlink -f "$GITOPS_TOOLS/bin/node")"):$PATH"
  else
    echo "Node 22+ is needed (found $(node --version 2>/dev/null || echo none)); run 'bash scripts/setup-tools.sh node'" >&2
    return 1 2>/dev/null || exit 1
  fi
fi
unset _node_major
