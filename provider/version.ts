/** The provider's package name and version, read once from the package.json it ships in. */
import * as fs from "node:fs";
import * as path from "node:path";

/** The directory holding the package.json this file ships with (the repository root here). */
export function packageRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = parent;
  }
  return dir;
}

const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot(), "package.json"), "utf8")) as { version: string };

/** Pulumi package name: resource tokens are `gitops:index:<Name>`. */
export const PackageName = "gitops";
/** Semver of the provider plugin and its schema (no leading v). */
export const ProviderVersion: string = pkg.version;
/** Version of the controllers the install manifests deploy by default (image tag, leading v). */
export const DefaultControllersVersion = `v${pkg.version}`;
/** Image registry prefix of our controller images. */
export const DefaultRegistry = "ghcr.io/gitops-toolkit";
/** Field manager of every object the provider applies with server-side apply. */
export const FieldManager = "gitops-provider";

export const token = (name: string): string => `${PackageName}:index:${name}`;
