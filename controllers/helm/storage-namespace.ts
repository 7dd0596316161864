// spec.storageNamespace different from the release (target) namespace. The helm CLI keeps
// the release records in its `--namespace`, which is also where objects without a namespace
// go and what `.Release.Namespace` renders as; Flux (on the Go SDK) separates the two. Here
// helm runs with `--namespace <storage>` and a post-renderer that replaces the rendered
// manifests with `helm template --namespace <target>` (same chart, values and release name),
// every object without a namespace placed in the target namespace. Limits: hooks are not
// post-rendered by helm, so they render and run with the storage namespace; the template
// renders without the cluster (helm's default capabilities, `lookup` finds nothing).
import * as fs from "node:fs";
import * as path from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { KubeClient } from "../runtime/kube";
import { isAlreadyExists } from "../runtime/kube-errors";
import { HelmRun, template } from "./helm-cli";

export class StorageNamespaceError extends Error {
  override readonly name = "StorageNamespaceError";
}

type Doc = { kind?: string; metadata?: { namespace?: string; annotations?: Record<string, string> } };

/** The rendered manifests for the target namespace, without hooks, namespaced into `namespace`. */
export function placeManifests(rendered: string, namespace: string): string {
  const out: string[] = [];
  for (const d of parseAllDocuments(rendered)) {
    if (d.errors.length) throw new StorageNamespaceError(`rendered manifests are not valid YAML: ${d.errors[0].message}`);
    const obj = d.toJS() as Doc | null;
    if (!obj || typeof obj !== "object" || !obj.kind) continue;
    if (obj.metadata?.annotations?.["helm.sh/hook"]) continue;
    obj.metadata ??= {};
    // On a cluster-scoped object the namespace is ignored (helm addresses it without one and
    // the API server drops it).
    if (!obj.metadata.namespace) obj.metadata.namespace = namespace;
    out.push(stringify(obj));
  }
  return out.map((d) => `---\n${d}`).join("");
}

/**
 * Writes the post-renderer (a shell script printing the prepared manifests) into `dir`;
 * returns what to pass to `helm upgrade --post-renderer`.
 */
export async function targetPostRenderer(h: HelmRun, a: { release: string; namespace: string; chartPath: string; valuesFile: string; isUpgrade: boolean },
  dir: string): Promise<{ path: string; args: string[] }> {
  const manifests = placeManifests(await template(h, a), a.namespace);
  const file = path.join(dir, "manifests.yaml");
  fs.writeFileSync(file, manifests, { mode: 0o600 });
  const script = path.join(dir, "post-render.js");
  // helm writes its own rendering to stdin: read and discard it, print ours. Run by this process's
  // node, not /bin/sh: the helm-controller image has no shell.
  fs.writeFileSync(script, `#!${process.execPath}\nprocess.stdin.on("data", () => undefined).on("end", () => process.stdout.write(require("fs").readFileSync(process.argv[2])));\n`, { mode: 0o700 });
  return { path: script, args: [file] };
}

const namespaces = { group: "", version: "v1", plural: "namespaces", kind: "Namespace" };

/** install.createNamespace when helm's --namespace is the storage one: create the target namespace. */
export async function ensureNamespace(client: KubeClient, name: string, signal?: AbortSignal): Promise<void> {
  if (await client.get(namespaces, { namespace: "", name }, { signal })) return;
  try {
    await client.create(namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name } } as never, { signal });
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
}
