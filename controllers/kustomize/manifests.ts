// From an artifact to the objects to apply: kustomize build of spec.path, then per object
// SOPS decryption (when configured) and post-build substitution, with Flux's messages.
import type { Kustomization } from "../api/kustomize/v1/kustomization";
import { SubstituteStrategy } from "../api/kustomize/v1/kustomization";
import { KubeClient } from "../runtime/kube";
import { Unstructured } from "../runtime/ssa";
import { FileTree } from "../runtime/tar-reader";
import { BuildOptions, kustomizeBuild } from "./kustomize-build";
import { plainBuild } from "./plain-build";
import { loadVariables, substitute, substitutionEnabled } from "./post-build";
import { DecryptionKeys, decryptObject, decryptionDisabled, isEncrypted, loadKeys } from "./sops";
import { parseDoc, splitDocs, toYaml } from "./yaml-docs";

export class ManifestError extends Error {
  override readonly name = "ManifestError";
}

export interface ManifestOptions extends BuildOptions {
  /** The controller's own client: reads substituteFrom and decryption Secrets. */
  client: KubeClient;
  sops: string;
  /** StrictPostBuildSubstitutions feature gate. */
  strictSubstitutions: boolean;
  /** Build plain directories without kustomize when the result is the same (plain-build.ts). */
  plainBuildInProcess?: boolean;
}

export async function buildManifests(obj: Kustomization, files: FileTree, dir: string, opts: ManifestOptions): Promise<Unstructured[]> {
  const ns = obj.metadata.namespace!;
  const plain = opts.plainBuildInProcess ? plainBuild(files, dir, obj.spec) : undefined;
  if (plain) return plain.map((d) => d.obj as Unstructured);
  const text = await kustomizeBuild(files, dir, obj.spec, opts);
  const postBuild = obj.spec.postBuild;
  const vars = postBuild ? await loadVariables(opts.client, ns, postBuild, opts.signal) : undefined;
  const always = postBuild?.substituteStrategy === SubstituteStrategy.Always;
  const keys: DecryptionKeys | undefined = obj.spec.decryption ? await loadKeys(opts.client, ns, obj.spec.decryption, opts.signal) : undefined;
  const out: Unstructured[] = [];
  for (let doc of splitDocs(text)) {
    let o = parseDoc(doc) as Record<string, unknown> | null;
    if (!o) continue;
    const res = o as Unstructured;
    if (!res.apiVersion || !res.kind || !res.metadata?.name) {
      throw new ManifestError(`failed to decode Kubernetes apiVersion, kind and name from: ${doc.trim()}`);
    }
    if (keys && isEncrypted(o) && !decryptionDisabled(res)) {
      try {
        o = await decryptObject(opts.sops, o, keys, opts.timeoutMs);
      } catch (e) {
        throw new ManifestError(`decryption failed for '${gvk(res)}/${res.metadata.name}': failed to decrypt and format '${res.metadata.namespace ?? ""}/${res.metadata.name}' ${res.kind} data: ${(e as Error).message}`, { cause: e });
      }
      doc = toYaml(o);
    }
    if (vars && (Object.keys(vars).length > 0 || always) && substitutionEnabled(o as Unstructured)) {
      try {
        o = parseDoc(substitute(doc, vars, opts.strictSubstitutions)) as Record<string, unknown>;
      } catch (e) {
        throw new ManifestError(`post build failed for '${gvk(res)}/${res.metadata.name}': ${(e as Error).message}`, { cause: e });
      }
    }
    out.push(o as Unstructured);
  }
  return out;
}

/** kustomize's GVK notation, e.g. `ConfigMap.v1.[noGrp]`, `Deployment.v1.apps`. */
function gvk(o: Unstructured): string {
  const [group, version] = o.apiVersion.includes("/") ? o.apiVersion.split("/") : ["", o.apiVersion];
  return `${o.kind}.${version}.${group || "[noGrp]"}`;
}
