/**
 * Loads Flux's own CRDs from the upstream controller modules in the Go module cache
 * (`go mod download`, never committed), for the schema oracle in crd-compat.test.ts.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";

/** The upstream module that defines each API group, at the versions the project targets. */
export const fluxModules: Record<string, string> = {
  "source.toolkit.fluxcd.io": "github.com/fluxcd/source-controller@v1.9.5",
  "kustomize.toolkit.fluxcd.io": "github.com/fluxcd/kustomize-controller@v1.9.5",
  "helm.toolkit.fluxcd.io": "github.com/fluxcd/helm-controller@v1.6.4",
};

const dirs = new Map<string, string>();

/** The module's directory in the Go module cache; downloads it if needed. Throws with a fix-it message. */
export function fluxModuleDir(module: string): string {
  const cached = dirs.get(module);
  if (cached) return cached;
  let stdout: string;
  try {
    stdout = execFileSync("go", ["mod", "download", "-json", module], {
      cwd: os.tmpdir(),
      encoding: "utf8",
      env: { ...process.env, GOFLAGS: "-modcacherw" },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 120_000,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    const detail =
      e.code === "ENOENT"
        ? "the `go` command is not on PATH"
        : (parseError(e.stdout) ?? e.stderr?.trim() ?? e.message);
    throw new Error(
      `cannot load Flux's CRDs from ${module}: ${detail}. ` +
        "The schema oracle needs Go and the Go module proxy (see scripts/fetch-flux-specs.sh).",
      { cause: err },
    );
  }
  const info = JSON.parse(stdout) as { Dir?: string; Error?: string };
  if (!info.Dir || info.Error) throw new Error(`cannot load Flux's CRDs from ${module}: ${info.Error ?? "no Dir"}`);
  dirs.set(module, info.Dir);
  return info.Dir;
}

function parseError(stdout: string | undefined): string | undefined {
  try {
    return stdout ? (JSON.parse(stdout) as { Error?: string }).Error : undefined;
  } catch {
    return undefined;
  }
}

/** Flux's CRD for `<group>_<plural>.yaml`, parsed. */
export function loadFluxCrd(group: string, fileName: string): Record<string, any> {
  const module = fluxModules[group];
  if (!module) throw new Error(`no upstream Flux module is known for API group ${group}`);
  const file = path.join(fluxModuleDir(module), "config", "crd", "bases", fileName);
  if (!fs.existsSync(file)) throw new Error(`${module} has no CRD ${fileName} (looked at ${file})`);
  return parse(fs.readFileSync(file, "utf8")) as Record<string, any>;
}

/** File names of every CRD the upstream module ships. */
export function fluxCrdFiles(group: string): string[] {
  const module = fluxModules[group];
  if (!module) throw new Error(`no upstream Flux module is known for API group ${group}`);
  const dir = path.join(fluxModuleDir(module), "config", "crd", "bases");
  return fs.readdirSync(dir).filter((f) => f.startsWith(`${group}_`) && f.endsWith(".yaml"));
}
