// spec.kubeConfig: the cluster a HelmRelease releases into, when not the controller's own. The
// kubeconfig is read from the Secret on every reconcile (tokens rotate), checked as Flux checks
// it (self-contained: no file references), written to a private temp file that helm gets as
// --kubeconfig and that is removed after the reconcile. Drift detection, namespace creation
// and health checks use a client for the same cluster (impersonating spec.serviceAccountName
// there, as helm's --kube-as-user does). Values references, sources and the HelmRelease itself
// stay on the controller's cluster.
import * as k8s from "@kubernetes/client-node";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import type { HelmRelease } from "../api/helm/v2/helm-release";
import { KubeClient } from "../runtime/kube";
import { KubeObject } from "../runtime/keys";
import { apiMessage } from "../runtime/ssa/errors";
import { impersonating } from "../runtime/impersonation";

const secrets = { group: "", version: "v1", plural: "secrets", kind: "Secret" };

/** Flux's reason for a kubeconfig that cannot be read or used. */
export const RESTClientErrorReason = "RESTClientError";

export class RemoteClusterError extends Error {
  override readonly name = "RemoteClusterError";
  /** The Secret does not exist (the finalizer then skips the uninstall, as Flux does). */
  readonly notFound: boolean;
  constructor(message: string, notFound = false) {
    super(message);
    this.notFound = notFound;
  }
}

/** The cluster of one reconcile: helm's kubeconfig file and a client, both for the remote cluster. */
export interface RemoteTarget {
  kubeconfigPath: string;
  client: KubeClient;
  /** Removes the kubeconfig file. */
  dispose(): void;
}

type KcDoc = {
  clusters?: Array<{ name?: string; cluster?: Record<string, unknown> }>;
  users?: Array<{ name?: string; user?: Record<string, unknown> }>;
};

/** Flux accepts only self-contained kubeconfigs: the controller's files are not the remote's credentials. */
function validate(doc: KcDoc): string | undefined {
  for (const c of doc.clusters ?? []) {
    if (c.cluster?.["certificate-authority"]) return `cluster '${c.name}' references a certificate-authority file, only certificate-authority-data is supported`;
  }
  for (const u of doc.users ?? []) {
    if (u.user?.tokenFile) return `user '${u.name}' references a tokenFile, only an inline token is supported`;
    if (u.user?.["client-certificate"]) return `user '${u.name}' references a client-certificate file, only client-certificate-data is supported`;
    if (u.user?.["client-key"]) return `user '${u.name}' references a client-key file, only client-key-data is supported`;
  }
  return undefined;
}

export class RemoteClusters {
  readonly #clients = new Map<string, KubeClient>();
  readonly #workDir: string;

  constructor(workDir: string) { this.#workDir = workDir; }

  /** The remote cluster of `hr`, or undefined without spec.kubeConfig. `asUser` is impersonated by the client. */
  async forRelease(hr: HelmRelease, controller: KubeClient, asUser?: string, signal?: AbortSignal): Promise<RemoteTarget | undefined> {
    const ref = hr.spec.kubeConfig;
    if (!ref) return undefined;
    if (ref.configMapRef && !ref.secretRef) {
      throw new RemoteClusterError("spec.kubeConfig.configMapRef (workload identity) is not supported by this controller; store a kubeconfig in a Secret and use spec.kubeConfig.secretRef");
    }
    if (!ref.secretRef || ref.configMapRef) throw new RemoteClusterError("exactly one of .spec.kubeConfig.configMapRef or spec.kubeConfig.secretRef must be set");
    const text = await this.#read(hr, ref.secretRef, controller, signal);
    const kc = new k8s.KubeConfig();
    const secretName = `${hr.metadata.namespace}/${ref.secretRef.name}`;
    try {
      const doc = parse(text) as KcDoc | null;
      if (!doc || typeof doc !== "object") throw new Error("not a kubeconfig document");
      const invalid = validate(doc);
      if (invalid) throw new Error(invalid);
      kc.loadFromString(text);
      if (!kc.getCurrentCluster()) throw new Error("the kubeconfig has no current context with a cluster");
    } catch (e) {
      throw new RemoteClusterError(`failed to load KubeConfig from secret '${secretName}': ${(e as Error).message}`);
    }
    const dir = fs.mkdtempSync(path.join(this.#workDir, "remote-"));
    const kubeconfigPath = path.join(dir, "kubeconfig");
    fs.writeFileSync(kubeconfigPath, text, { mode: 0o600 });
    const key = `${createHash("sha256").update(text).digest("hex")}|${asUser ?? ""}`;
    let client = this.#clients.get(key);
    if (!client) {
      client = KubeClient.fromKubeConfig(asUser ? impersonating(kc, asUser) : kc, { qps: 50, burst: 100, userAgent: "helm-controller" });
      this.#clients.set(key, client);
      if (this.#clients.size > 64) this.#clients.delete(this.#clients.keys().next().value as string);
    }
    return { kubeconfigPath, client, dispose: () => fs.rmSync(dir, { recursive: true, force: true }) };
  }

  async #read(hr: HelmRelease, ref: { name: string; key?: string }, controller: KubeClient, signal?: AbortSignal): Promise<string> {
    const secretName = `${hr.metadata.namespace}/${ref.name}`;
    let secret: (KubeObject & { data?: Record<string, string> }) | undefined;
    try {
      secret = await controller.get(secrets, { namespace: hr.metadata.namespace!, name: ref.name }, { signal });
    } catch (e) {
      throw new RemoteClusterError(`could not get KubeConfig secret '${secretName}': ${apiMessage(e)}`);
    }
    if (!secret) throw new RemoteClusterError(`could not get KubeConfig secret '${secretName}': secrets "${ref.name}" not found`, true);
    const data = secret.data ?? {};
    let value: string | undefined;
    if (ref.key) {
      value = data[ref.key];
      if (value === undefined) throw new RemoteClusterError(`KubeConfig secret '${secretName}' does not contain a '${ref.key}' key with data`);
    } else {
      value = data.value ?? data["value.yaml"];
      if (value === undefined) throw new RemoteClusterError(`KubeConfig secret '${secretName}' does not contain a 'value' or 'value.yaml' key with data`);
    }
    return Buffer.from(value, "base64").toString("utf8");
  }
}

