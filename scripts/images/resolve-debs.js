#!/usr/bin/env node
// Resolves the Debian packages of the image rootfs (Depends and Pre-Depends, recursively) with
// the machine's apt (`apt-cache show`), and prints them as lock lines `<group> <name> <version> <arch>`.
// No maintainer script ever runs in the image (files are unpacked with dpkg-deb -x), so the
// packages only needed to install or configure Debian (dpkg, debconf, perl, adduser, ...) are left
// out on purpose: EXCLUDE below. A group never repeats a package of an earlier group, so the
// layers stack: base first, then each controller's own packages.
//
// usage: resolve-debs.js <group>=<pkg>,<pkg> ...   (e.g. base=libc6,tini source=git,openssh-client)
"use strict";
const { execFileSync } = require("node:child_process");

const EXCLUDE = new Set([
  // installation machinery, never run in a distroless-style image
  "dpkg", "debconf", "debconf-2.0", "install-info", "debianutils", "adduser", "passwd", "init-system-helpers",
  // update-ca-certificates' tool: the CA bundle is concatenated at build time instead
  "openssl",
  // git's perl scripts (git svn, send-email, ...) and its man pages: clone/fetch/archive need neither
  "perl", "perl-base", "liberror-perl", "git-man",
]);

const cache = new Map();
function show(name) {
  if (!cache.has(name)) {
    let out = "";
    try { out = execFileSync("apt-cache", ["show", "--no-all-versions", name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }); } catch { /* virtual or unknown */ }
    const field = (f) => (new RegExp(`^${f}: (.*)$`, "m").exec(out) ?? [])[1];
    cache.set(name, out && field("Package") ? {
      name: field("Package"), version: field("Version"), arch: field("Architecture"),
      deps: [field("Pre-Depends"), field("Depends")].filter(Boolean).join(", "),
    } : undefined);
  }
  return cache.get(name);
}

const have = new Set();
const lines = [];
for (const arg of process.argv.slice(2)) {
  const [group, list] = arg.split("=");
  const queue = list.split(",").filter(Boolean);
  const picked = [];
  while (queue.length) {
    const name = queue.shift();
    if (have.has(name) || EXCLUDE.has(name)) continue;
    const p = show(name);
    if (!p) throw new Error(`apt-cache knows no package '${name}' (run apt-get update?)`);
    have.add(name);
    picked.push(p);
    for (const dep of p.deps.split(",").map((d) => d.trim()).filter(Boolean)) {
      // first alternative that is a real package (or already excluded / present)
      const alts = dep.split("|").map((a) => a.trim().split(/[\s(:]/)[0]);
      const alt = alts.find((a) => have.has(a) || EXCLUDE.has(a)) ?? alts.find((a) => show(a));
      if (!alt) throw new Error(`${name}: no installable alternative in '${dep}'`);
      queue.push(alt);
    }
  }
  for (const p of picked.sort((a, b) => (a.name < b.name ? -1 : 1))) lines.push(`${group} ${p.name} ${p.version} ${p.arch}`);
}
console.log(lines.join("\n"));
