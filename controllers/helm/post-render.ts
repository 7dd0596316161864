// spec.postRenderers, spec.commonMetadata and the helm.toolkit.fluxcd.io/name|namespace labels
// on every released object. Without spec.postRenderers (and a storage namespace of its own),
// helm's --post-renderer is post-render-client.js, which has this process set the labels and
// commonMetadata (post-render-server.ts, metadata-labeller.ts). Else it is post-render-run.js
// (by this process's node: the image has no shell), which runs the real kustomize for each
// spec.postRenderers[] and then sets the metadata (see there for the steps). Limits of the helm v3 CLI: hooks are never post-rendered (postRenderStrategy acts
// as `nohooks`). status.observedPostRenderersDigest / observedCommonMetadataDigest are Flux's
// digests (sha256 over Go's JSON encoding of the spec field), so a change of either upgrades.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { HelmGroup, type HelmRelease, type PostRenderer } from "../api/helm/v2/helm-release";
import type { CommonMetadata } from "../api/kustomize-common";
import type { HelmDeps } from "./deps";
import { HelmError } from "./helm-cli";
import type { PostRenderConfig } from "./post-render-run";
import { inProcessPostRenderer } from "./post-render-server";

export const OriginLabels = { name: `${HelmGroup}/name`, namespace: `${HelmGroup}/namespace` } as const;

/**
 * The `--post-renderer` for helm, and `done` to call after the action. Without
 * spec.postRenderers and `chain`, the labels and commonMetadata are set in this process
 * (post-render-server.ts; helm starts only a small client). Else the configuration is written
 * into `dir` (the action's temp dir) for post-render-run.js. `chain`: a post-renderer whose
 * output replaces helm's first (the storage-namespace one); helm takes only one.
 */
export async function postRendererFor(hr: HelmRelease, deps: HelmDeps, dir: string, chain?: { path: string; args: string[] }):
  Promise<{ path: string; args: string[]; done?: () => void }> {
  const steps: PostRenderConfig["steps"] = [];
  (hr.spec.postRenderers ?? []).forEach((r, index) => {
    if (r.kustomize) steps.push({ index, patches: r.kustomize.patches as PostRenderConfig["steps"][0]["patches"], images: r.kustomize.images });
  });
  const originLabels = { [OriginLabels.name]: hr.metadata.name!, [OriginLabels.namespace]: hr.metadata.namespace! };
  const common = hr.spec.commonMetadata;
  if (!chain && !steps.length) {
    const r = await inProcessPostRenderer({
      labels: { ...common?.labels, ...originLabels }, annotations: common?.annotations,
      what: common?.labels || common?.annotations ? "spec.commonMetadata" : "labelling the released objects",
    });
    if (r) return r;
  }
  const config: PostRenderConfig = {
    kustomize: deps.kustomize ?? "kustomize", chain, steps,
    commonLabels: common?.labels, commonAnnotations: common?.annotations, originLabels,
    workDir: path.join(dir, "post-render"),
  };
  const file = path.join(dir, "post-render.json");
  fs.writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
  return { path: process.execPath, args: [path.join(__dirname, "post-render-run.js"), file] };
}

/** helm's wrapping of a failed post-renderer, down to what post-render-run.js said. */
export function tidyPostRenderError(e: HelmError): HelmError {
  const m = /error while running post render on files: error while running command \S+\. error output:\n([\s\S]*?)(?:: exit status \d+)?$/.exec(e.message);
  return m ? new HelmError(`post-rendering failed: ${m[1].trim()}`, { cause: e }) : e;
}

// Go's encoding/json: struct fields in declaration order, `omitempty` drops "", nil and empty
// slices/maps, map keys sorted, <, > and & (and U+2028/9) escaped; Encoder adds a newline.
type Go = { [k: string]: unknown };
const omit = (o: Go): Go => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== "" && !(Array.isArray(v) && v.length === 0)));
const sorted = (m?: Record<string, string>) => (m && Object.keys(m).length ? Object.fromEntries(Object.keys(m).sort().map((k) => [k, m[k]])) : undefined);
const goJson = (v: unknown) => `${JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)}\n`;
const sha256 = (s: string) => `sha256:${createHash("sha256").update(s).digest("hex")}`;

function goPostRenderer(r: PostRenderer): Go {
  const k = r.kustomize;
  if (!k) return {};
  return {
    kustomize: omit({
      patches: k.patches?.map((p) => {
        const t = p.target;
        // Patch.patch has no omitempty; target is a pointer (kept when set, even empty).
        return { patch: p.patch, ...(t ? { target: omit({ group: t.group, version: t.version, kind: t.kind, namespace: t.namespace, name: t.name, annotationSelector: t.annotationSelector, labelSelector: t.labelSelector }) } : {}) };
      }),
      images: k.images?.map((i) => ({ name: i.name, ...omit({ newName: i.newName, newTag: i.newTag, digest: i.digest }) })),
    }),
  };
}

export const postRenderersDigest = (hr: HelmRelease): string => (hr.spec.postRenderers ? sha256(goJson(hr.spec.postRenderers.map(goPostRenderer))) : "");
export const commonMetadataDigest = (hr: HelmRelease): string => {
  const m: CommonMetadata | undefined = hr.spec.commonMetadata;
  return m ? sha256(goJson(omit({ annotations: sorted(m.annotations), labels: sorted(m.labels) }))) : "";
};

/** Whether the release was last made with the current postRenderers and commonMetadata. */
export function postRenderInSync(hr: HelmRelease): boolean {
  return (hr.status?.observedPostRenderersDigest ?? "") === postRenderersDigest(hr)
    && (hr.status?.observedCommonMetadataDigest ?? "") === commonMetadataDigest(hr);
}

/** After a successful release: what it was post-rendered with (unset when the spec has none). */
export function recordPostRenderDigests(hr: HelmRelease): void {
  const st = (hr.status ??= {});
  const p = postRenderersDigest(hr);
  const c = commonMetadataDigest(hr);
  if (p) st.observedPostRenderersDigest = p; else delete st.observedPostRenderersDigest;
  if (c) st.observedCommonMetadataDigest = c; else delete st.observedCommonMetadataDigest;
}
