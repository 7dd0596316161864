// Clients a Kustomization applies with: the controller's own identity; an impersonated
// ServiceAccount (spec.serviceAccountName or --default-service-account), as the user
// `system:serviceaccount:<namespace>:<name>`; or a remote cluster from a kubeconfig Secret
// (spec.kubeConfig.secretRef), impersonating there too when an account is set. Clients and
// their REST mappers are cached per identity, so connections are reused across reconciles.
import * as k8s from "@kubernetes/client-node";
import { createHash } from "node:crypto";
import type { Kustomization } from "../api/kustomize/v1/kustomization";
import { KubeClient } from "../runtime/kube";
import { KubeObject } from "../runtime/keys";
import { ApplyMemo, RestMapper, apiMessage } from "../runtime/ssa";
import { impersonating } from "../runtime/impersonation";

const secrets = { group: "", version: "v1", plural: "secrets", kind: "Secret" };

export interface TargetCluster {
  client: KubeClient;
  mapper: RestMapper;
  /** The impersonated user, if any. */
  user?: string;
  /** What this identity's last dry-runs and applies established (skips unchanged dry-runs). */
  memo: ApplyMemo;
}

export interface ClientFactoryOptions {
  qps: number;
  burst: number;
  defaultServiceAccount?: string;
  userAgent?: string;
}

export class ClientConfigError extends Error {
  override readonly name = "ClientConfigError";
}

export class ClientFactory {
  readonly #kc: k8s.KubeConfig;
  readonly #opts: ClientFactoryOptions;
  readonly #cache = new Map<string, TargetCluster>();
  readonly #own: TargetCluster;

  constructor(kc: k8s.KubeConfig, opts: ClientFactoryOptions) {
    this.#kc = kc;
    this.#opts = opts;
    this.#own = this.#make(kc);
  }

  /** The controller's own identity on its own cluster. */
  get own(): TargetCluster { return this.#own; }

  /** The service account a Kustomization runs as, if any. */
  serviceAccountOf(obj: Kustomization): string | undefined {
    return obj.spec.serviceAccountName || this.#opts.defaultServiceAccount || undefined;
  }

  async forKustomization(obj: Kustomization, controller: KubeClient, signal?: AbortSignal): Promise<TargetCluster> {
    const ns = obj.metadata.namespace!;
    const sa = this.serviceAccountOf(obj);
    const user = sa ? `system:serviceaccount:${ns}:${sa}` : undefined;
    let base = this.#kc;
    let baseKey = "local";
    if (obj.spec.kubeConfig) {
      const text = await this.#remoteKubeConfig(obj, controller, signal);
      baseKey = createHash("sha256").update(text).digest("hex");
      base = new k8s.KubeConfig();
      try {
        base.loadFromString(text);
      } catch (e) {
        throw new ClientConfigError(`failed to load kubeconfig from secret: ${(e as Error).message}`, { cause: e });
      }
    }
    if (!user && baseKey === "local") return this.#own;
    const key = `${baseKey}|${user ?? ""}`;
    let target = this.#cache.get(key);
    if (!target) {
      target = this.#make(user ? impersonating(base, user) : base, user);
      this.#cache.set(key, target);
      if (this.#cache.size > 256) this.#cache.delete(this.#cache.keys().next().value as string);
    }
    return target;
  }

  #make(kc: k8s.KubeConfig, user?: string): TargetCluster {
    const client = KubeClient.fromKubeConfig(kc, { qps: this.#opts.qps, burst: this.#opts.burst, userAgent: this.#opts.userAgent ?? "kustomize-controller" });
    return { client, mapper: new RestMapper(client), user, memo: new ApplyMemo() };
  }

  async #remoteKubeConfig(obj: Kustomization, controller: KubeClient, signal?: AbortSignal): Promise<string> {
    const ref = obj.spec.kubeConfig!;
    const ns = obj.metadata.namespace!;
    if (!ref.secretRef) throw new ClientConfigError("spec.kubeConfig.configMapRef (workload identity) is not supported by this controller; use spec.kubeConfig.secretRef");
    const name = ref.secretRef.name;
    let secret: (KubeObject & { data?: Record<string, string> }) | undefined;
    try {
      secret = await controller.get(secrets, { namespace: ns, name }, { signal });
    } catch (e) {
      throw new ClientConfigError(`unable to read KubeConfig secret '${ns}/${name}': ${apiMessage(e)}`, { cause: e });
    }
    if (!secret) throw new ClientConfigError(`unable to read KubeConfig secret '${ns}/${name}': secrets "${name}" not found`);
    const keys = ref.secretRef.key ? [ref.secretRef.key] : ["value", "value.yaml"];
    const found = keys.find((k) => secret!.data?.[k]);
    if (!found) throw new ClientConfigError(`KubeConfig secret '${ns}/${name}' does not contain a '${keys.join("' or '")}' key with a kubeconfig`);
    return Buffer.from(secret.data![found], "base64").toString("utf8");
  }
}

