// The helm post-renderer process: `node post-render-run.js <config.json>`, started by
// `helm upgrade --post-renderer`. helm writes the rendered manifests (hooks excluded) to stdin
// and releases what this prints on stdout; on stderr goes a message naming the failing part of
// the spec. Steps, as Flux's helm-controller orders them: the storage-namespace renderer when
// given (it replaces the input), each spec.postRenderers[i].kustomize as its own `kustomize
// build` (the real kustomize binary: quoting and YAML 1.1 scalars come out as Flux's do), then
// spec.commonMetadata and the helm.toolkit.fluxcd.io/name|namespace labels (last, so they win a
// key collision) set on every object's metadata in this process (metadata-labeller.ts).
// Without spec.postRenderers and a storage namespace of its own, post-render-client.js is used
// instead (no kustomize, no yaml library loaded per action).
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { labelManifests } from "./metadata-labeller";

/** What post-render.ts writes for one helm action. */
export interface PostRenderConfig {
  /** Path of the kustomize binary. */
  kustomize: string;
  /** A post-renderer to run first (its output replaces helm's). */
  chain?: { path: string; args: string[] };
  /** spec.postRenderers[index].kustomize, in order. */
  steps: Array<{ index: number; patches?: Array<{ patch: string; target?: Record<string, string> }>; images?: Array<Record<string, string>> }>;
  commonLabels?: Record<string, string>;
  commonAnnotations?: Record<string, string>;
  originLabels: Record<string, string>;
  /** Scratch space (removed by the controller after the action). */
  workDir: string;
}

class StepError extends Error {}

const kustomization = (extra: Record<string, unknown>) =>
  JSON.stringify({ apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization", resources: ["helm-output.yaml"], ...extra });

function build(c: PostRenderConfig, dir: string, input: Buffer, files: Record<string, string>, what: string): Buffer {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "helm-output.yaml"), input);
  for (const [name, body] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), body);
  try {
    return execFileSync(c.kustomize, ["build", "--load-restrictor", "LoadRestrictionsNone", dir],
      { maxBuffer: 512 * 1024 * 1024, stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH, HOME: process.env.HOME } });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === "ENOENT") throw new StepError(`${what}: kustomize binary not found at ${c.kustomize}`);
    // Without the temp paths, the message (and so the condition) is the same every attempt.
    const msg = (err.stderr?.toString().trim() || err.message).replace(/^Error:\s*/, "").split(`${dir}/`).join("").split(dir).join(".");
    throw new StepError(`${what}: ${msg}`);
  }
}

export function postRender(c: PostRenderConfig, input: Buffer): Buffer {
  let out = input;
  if (c.chain) {
    try {
      out = execFileSync(c.chain.path, c.chain.args, { input: out, maxBuffer: 512 * 1024 * 1024, stdio: ["pipe", "pipe", "pipe"] });
    } catch (e) {
      throw new StepError(`spec.storageNamespace renderer: ${(e as { stderr?: Buffer }).stderr?.toString().trim() || (e as Error).message}`);
    }
  }
  for (const s of c.steps) {
    const extra: Record<string, unknown> = {};
    if (s.patches?.length) extra.patches = s.patches;
    if (s.images?.length) extra.images = s.images;
    out = build(c, path.join(c.workDir, `step-${s.index}`), out, { "kustomization.yaml": kustomization(extra) }, `spec.postRenderers[${s.index}].kustomize`);
  }
  // As Flux's transformers: metadata only (not selectors or pod templates), creating the maps;
  // the origin labels last, so they win a key collision.
  const what = c.commonLabels || c.commonAnnotations ? "spec.commonMetadata" : "labelling the released objects";
  try {
    return Buffer.from(labelManifests(out.toString("utf8"), { ...c.commonLabels, ...c.originLabels }, c.commonAnnotations));
  } catch (e) {
    throw new StepError(`${what}: ${(e as Error).message}`);
  }
}

function main(): void {
  const c = JSON.parse(fs.readFileSync(process.argv[2], "utf8")) as PostRenderConfig;
  const chunks: Buffer[] = [];
  process.stdin.on("data", (d: Buffer) => chunks.push(d)).on("end", () => {
    try {
      process.stdout.write(postRender(c, Buffer.concat(chunks)));
    } catch (e) {
      process.stderr.write(`${(e as Error).message}\n`);
      process.exitCode = 1;
    }
  });
}

if (require.main === module) main();
