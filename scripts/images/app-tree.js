#!/usr/bin/env node
// Writes the application part of the controller images into <out>: the compiled dist/cli and
// dist/controllers (no source maps, no tests, no provider), a package.json whose dependencies
// are only the packages that code requires, and node_modules with exactly their production
// closure, copied from the repository's node_modules (installed by `npm ci` from
// package-lock.json, so the same lock gives the same files; nothing is downloaded here).
//
// usage: app-tree.js <repo root> <out>
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { builtinModules } = require("node:module");

const [root, out] = process.argv.slice(2).map((p) => path.resolve(p));
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
const lock = JSON.parse(fs.readFileSync(path.join(root, "package-lock.json"), "utf8")).packages;

const walk = (dir) => fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))
  .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));

// 1. the compiled code the controllers run, and the bare module names it requires
const needed = new Set();
for (const part of ["cli", "controllers"]) {
  for (const file of walk(path.join(root, "dist", part))) {
    if (file.endsWith(".map")) continue;
    const rel = path.relative(root, file);
    fs.mkdirSync(path.dirname(path.join(out, rel)), { recursive: true });
    fs.copyFileSync(file, path.join(out, rel));
    if (!file.endsWith(".js")) continue;
    for (const m of fs.readFileSync(file, "utf8").matchAll(/require\("([^"./][^"]*)"\)/g)) {
      const spec = m[1].replace(/^node:/, "");
      if (builtinModules.includes(spec.split("/")[0]) || builtinModules.includes(spec)) continue;
      needed.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]);
    }
  }
}
const deps = {};
for (const name of [...needed].sort()) {
  const v = pkg.dependencies?.[name];
  if (!v) throw new Error(`dist requires '${name}', which is not a production dependency in package.json`);
  deps[name] = v;
}
fs.writeFileSync(path.join(out, "package.json"), JSON.stringify({
  name: pkg.name, version: pkg.version, description: pkg.description, license: pkg.license, private: true,
  type: pkg.type, engines: pkg.engines, dependencies: deps,
}, null, 2) + "\n");

// 2. their closure, resolved in the lock's tree as Node resolves it (nearest node_modules up)
const resolve = (from, name) => {
  for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf("/node_modules/")))) {
    const p = `${dir ? `${dir}/` : ""}node_modules/${name}`;
    if (lock[p]) return p;
    if (!dir) return undefined;
  }
};
const closure = new Set();
const visit = (from, name, optional) => {
  const p = resolve(from, name);
  if (!p) { if (optional) return; throw new Error(`package-lock.json has no '${name}' (needed from '${from || "."}')`); }
  if (closure.has(p)) return;
  if (lock[p].dev) throw new Error(`${p} is marked dev in package-lock.json but needed at run time`);
  closure.add(p);
  for (const d of Object.keys(lock[p].dependencies ?? {})) visit(p, d, false);
  for (const d of Object.keys(lock[p].optionalDependencies ?? {})) visit(p, d, true);
  for (const d of Object.keys(lock[p].peerDependencies ?? {})) visit(p, d, true);
};
for (const name of Object.keys(deps)) visit("", name, false);

// 3. copy each package without its nested node_modules (those are closure entries of their own)
let files = 0;
for (const p of [...closure].sort()) {
  const src = path.join(root, p);
  if (!fs.existsSync(src)) throw new Error(`${src} is missing: run npm ci`);
  for (const file of walk(src)) {
    const rel = path.relative(src, file);
    if (rel.split(path.sep).includes("node_modules")) continue;
    if (/\.(map|d\.[cm]?ts)$/.test(rel)) continue; // source maps and type declarations: never loaded at run time
    fs.mkdirSync(path.dirname(path.join(out, p, rel)), { recursive: true });
    fs.copyFileSync(file, path.join(out, p, rel));
    files++;
  }
}
console.log(`app: ${Object.keys(deps).join(", ")}; ${closure.size} packages, ${files} files`);
