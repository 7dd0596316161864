// Runs the real `kustomize build` on the materialized files. Loading files outside the
// kustomization root is allowed as Flux allows it (the temp dir only holds the artifact's
// files); plugins and Helm stay disabled.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import type { KustomizationSpec } from "../api/kustomize/v1/kustomization";
import { FileTree } from "../runtime/tar-reader";
import { kustomizationFor } from "./kustomization-file";
import { materialize } from "./materialize";
import { timerMs } from "../runtime/clock";

export class BuildError extends Error {
  override readonly name = "BuildError";
}

export interface BuildOptions {
  /** Path of the kustomize binary. */
  kustomize: string;
  timeoutMs: number;
  /** Where temp dirs go; default os.tmpdir() (TMPDIR). */
  tmpRoot?: string;
  signal?: AbortSignal;
  /** --no-remote-bases: every resource, base and component must be a file of the artifact. */
  noRemoteBases?: boolean;
}

/** The multi-document YAML kustomize prints for `dir` of the artifact. */
export async function kustomizeBuild(files: FileTree, dir: string, spec: KustomizationSpec, opts: BuildOptions): Promise<string> {
  const kfile = kustomizationFor(files, dir, spec);
  const work = materialize(files, dir, kfile, opts.tmpRoot);
  try {
    if (opts.noRemoteBases) refuseRemoteBases(work);
    return await run(opts.kustomize, ["build", "--load-restrictor", "LoadRestrictionsNone", path.join(work, dir)], opts);
  } catch (e) {
    // Temp paths change every run; without them the message (and the condition) is stable.
    throw e instanceof BuildError ? new BuildError(e.message.split(`${work}/`).join("").split(work).join(".")) : e;
  } finally {
    fs.rm(work, { recursive: true, force: true }, () => undefined);
  }
}

const KUSTOMIZATION_FILES = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/** A kustomize reference to something outside the artifact: a URL, a git address or a host path. */
function isRemote(entry: string, base: string): boolean {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(entry) || /^git(@|::)/.test(entry)) return true;
  const first = entry.split("/")[0];
  return first.includes(".") && first !== "." && first !== ".." && entry.includes("/") && !fs.existsSync(path.resolve(base, entry));
}

/**
 * Walks every kustomization file of the build (they can only reach files of the artifact once
 * this holds) and refuses remote references before kustomize would clone or download them.
 */
function refuseRemoteBases(work: string): void {
  const walk = (dir: string): void => {
    for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, ent.name);
      if (ent.isDirectory()) { walk(full); continue; }
      if (!KUSTOMIZATION_FILES.includes(ent.name)) continue;
      let doc: Record<string, unknown> | undefined;
      try { doc = parse(fs.readFileSync(full, "utf8")) as Record<string, unknown>; } catch { continue; /* kustomize reports it */ }
      for (const field of ["resources", "bases", "components"]) {
        const list = doc?.[field];
        for (const entry of Array.isArray(list) ? list : []) {
          if (typeof entry === "string" && isRemote(entry, dir)) {
            throw new BuildError(`kustomize build failed: ${path.relative(work, full)}: ${field} entry '${entry}' is a remote base, ` +
              "which this controller refuses (--no-remote-bases): vendor it into the source repository or reference it through a Flux source");
          }
        }
      }
    }
  };
  walk(work);
}

function run(bin: string, args: string[], opts: BuildOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: opts.timeoutMs === undefined ? undefined : timerMs(opts.timeoutMs), maxBuffer: 512 * 1024 * 1024, signal: opts.signal, env: { PATH: process.env.PATH, HOME: process.env.HOME } },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const e = err as NodeJS.ErrnoException & { killed?: boolean };
        if (e.code === "ENOENT") return reject(new BuildError(`kustomize build failed: kustomize binary not found at ${bin}`));
        if (e.killed) return reject(new BuildError(`kustomize build failed: timed out after ${opts.timeoutMs} ms`));
        const msg = stderr.toString().trim().replace(/^Error:\s*/, "") || e.message;
        reject(new BuildError(`kustomize build failed: ${msg}`));
      });
  });
}
