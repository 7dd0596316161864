// Runs the real `kustomize build` on the materialized files. Loading files outside the
// kustomization root is allowed as Flux allows it (the temp dir only holds the artifact's
// files); plugins and Helm stay disabled.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { KustomizationSpec } from "../api/kustomize/v1/kustomization";
import { FileTree } from "../runtime/tar-reader";
import { kustomizationFor } from "./kustomization-file";
import { materialize } from "./materialize";

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
}

/** The multi-document YAML kustomize prints for `dir` of the artifact. */
export async function kustomizeBuild(files: FileTree, dir: string, spec: KustomizationSpec, opts: BuildOptions): Promise<string> {
  const kfile = kustomizationFor(files, dir, spec);
  const work = materialize(files, dir, kfile, opts.tmpRoot);
  try {
    return await run(opts.kustomize, ["build", "--load-restrictor", "LoadRestrictionsNone", path.join(work, dir)], opts);
  } catch (e) {
    // Temp paths change every run; without them the message (and the condition) is stable.
    throw e instanceof BuildError ? new BuildError(e.message.split(`${work}/`).join("").split(work).join(".")) : e;
  } finally {
    fs.rm(work, { recursive: true, force: true }, () => undefined);
  }
}

function run(bin: string, args: string[], opts: BuildOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: opts.timeoutMs, maxBuffer: 512 * 1024 * 1024, signal: opts.signal, env: { PATH: process.env.PATH, HOME: process.env.HOME } },
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
