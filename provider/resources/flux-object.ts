/**
 * The typed resources (GitRepository, Kustomization, HelmRelease, ...): one generic
 * implementation over the kind's schema. Create/update apply with server-side apply and wait for
 * Ready at the applied generation (the error carries the controller's message); read refreshes
 * status and notices deletion; delete waits until the controller has run its finalizer.
 */
import type * as pulumi from "@pulumi/pulumi";
import { T } from "../../controllers/api/schema";
import { Cluster, ClusterError } from "../cluster/client";
import { deadlineAfter, parseDuration, sleep } from "../cluster/time";
import { readyCondition, revisionOf, waitReady, type FluxObject } from "../cluster/wait";
import { validate, type Failure } from "../schema/validate";
import { FieldManager } from "../version";
import type { ResourceHandler } from "./handler";
import { typedResourceProps, type TypedKind } from "./kinds";
import { compact, containsUnknown, PartialError, same, urnName, type Props } from "./props";

interface Inputs {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  kubeconfig?: string;
  context?: string;
  waitForReady?: boolean;
  adopt?: boolean;
  timeout?: string;
}

const DefaultTimeout = "2m";

/**
 * The `revision` output: what the object has reached. Sources, Kustomizations and HelmReleases
 * as the bootstrap reads them; the image and source-watcher kinds name theirs in other fields.
 */
export function typedRevision(o: FluxObject | undefined): string {
  const s = o?.status as Record<string, any> | undefined;
  switch (o?.kind) {
    case "ImageRepository":
      return s?.lastScanResult?.revision ?? "";
    case "ImagePolicy": {
      const r = s?.latestRef as { name?: string; tag?: string; digest?: string } | undefined;
      return r?.name && r.tag ? `${r.name}:${r.tag}${r.digest ? `@${r.digest}` : ""}` : "";
    }
    case "ImageUpdateAutomation":
      return s?.lastPushCommit ?? "";
    case "ArtifactGenerator":
      return s?.observedSourcesDigest ?? "";
    default:
      return revisionOf(o) ?? "";
  }
}

/** `value` without the fields equal to their schema default (what the API server filled in). */
function stripDefaults(value: unknown, schema: { default?: unknown; properties?: Record<string, unknown>; items?: unknown }): unknown {
  if (Array.isArray(value)) return value.map((v) => stripDefaults(v, (schema.items ?? {}) as typeof schema));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const sub = (schema.properties?.[k] ?? {}) as typeof schema;
      if (sub.default !== undefined && same(sub.default, v)) continue;
      out[k] = stripDefaults(v, sub);
    }
    return out;
  }
  return value;
}

export class FluxObjectHandler implements ResourceHandler {
  readonly secretKeys = ["kubeconfig"];
  private readonly argsSchema;

  constructor(readonly kind: TypedKind) {
    this.argsSchema = T.Object({ ...typedResourceProps, spec: { ...(kind.spec as ReturnType<typeof T.Unstructured>) } });
  }

  async check(urn: string, olds: Props, news: Props): Promise<{ inputs: Props; failures: Failure[] }> {
    const n = news as Inputs;
    const failures = validate(n, this.argsSchema, "");
    const oldMeta = (olds as Inputs).metadata;
    const metadata = { ...(n.metadata ?? {}) };
    metadata.name ??= oldMeta?.name ?? urnName(urn);
    metadata.namespace ??= oldMeta?.namespace ?? "default";
    if (n.timeout && !containsUnknown(n.timeout)) {
      try {
        parseDuration(n.timeout, "timeout");
      } catch (e) {
        failures.push({ property: "timeout", reason: (e as Error).message });
      }
    }
    return { inputs: { ...news, metadata }, failures };
  }

  async diff(_id: string, _urn: string, olds: Props, news: Props): Promise<pulumi.provider.DiffResult> {
    const o = olds as Inputs;
    const n = news as Inputs;
    const replaces: string[] = [];
    if (o.metadata?.name !== n.metadata?.name) replaces.push("metadata.name");
    if (o.metadata?.namespace !== n.metadata?.namespace) replaces.push("metadata.namespace");
    const keys = ["metadata", "spec", "kubeconfig", "context", "waitForReady", "timeout", "adopt"] as const;
    const changed = keys.some((k) => !same(o[k], n[k]));
    // A refresh that found the object gone (or not Ready) leaves `ready: false`: apply again.
    // (Only when waiting is asked for: without it, not Ready is an accepted state.)
    const repair = (olds as { ready?: boolean }).ready === false && n.waitForReady !== false && this.kind.reconciled;
    return { changes: changed || repair || replaces.length > 0, replaces, deleteBeforeReplace: replaces.length > 0 };
  }

  private manifest(i: Inputs) {
    return {
      apiVersion: this.kind.apiVersion,
      kind: this.kind.kind,
      metadata: compact({ name: i.metadata!.name!, namespace: i.metadata!.namespace, labels: i.metadata?.labels, annotations: i.metadata?.annotations }),
      spec: i.spec ?? {},
    };
  }

  private async applyAndWait(inputs: Inputs, creating: boolean): Promise<{ id: string; outs: Props }> {
    const cluster = new Cluster(inputs);
    const m = this.manifest(inputs);
    const id = `${m.metadata.namespace}/${m.metadata.name}`;
    if (creating && !inputs.adopt) {
      const live = await cluster.get<{ metadata: { managedFields?: { manager?: string }[] } }>(m.apiVersion, m.kind, m.metadata.name, m.metadata.namespace);
      if (live && !(live.metadata.managedFields ?? []).some((f) => f.manager === FieldManager)) {
        throw new ClusterError(`${m.kind} ${id} already exists and was not created by this program: set adopt: true to take it over, or delete it`);
      }
    }
    const applied = await cluster.apply(m);
    const base = { ...inputs } as Props;
    if (inputs.waitForReady === false || !this.kind.reconciled) {
      const o = applied as unknown as FluxObject;
      const ready = this.kind.reconciled ? readyCondition(o)?.status === "True" : true;
      return { id, outs: { ...base, status: o.status ?? {}, ready, revision: typedRevision(o) } };
    }
    const timeoutMs = parseDuration(inputs.timeout ?? DefaultTimeout, "timeout");
    try {
      const o = await waitReady(cluster, { apiVersion: m.apiVersion, kind: m.kind, name: m.metadata.name, namespace: m.metadata.namespace }, { deadline: deadlineAfter(timeoutMs) });
      return { id, outs: { ...base, status: o.status ?? {}, ready: true, revision: typedRevision(o) } };
    } catch (e) {
      const o = (e as { object?: FluxObject }).object;
      throw new PartialError((e as Error).message, id, { ...base, status: o?.status ?? {}, ready: false, revision: typedRevision(o) });
    }
  }

  async create(_urn: string, inputs: Props): Promise<{ id: string; outs: Props }> {
    return this.applyAndWait(inputs as Inputs, true);
  }

  async update(_id: string, _urn: string, _olds: Props, news: Props): Promise<{ outs: Props }> {
    return { outs: (await this.applyAndWait(news as Inputs, false)).outs };
  }

  async read(id: string, _urn: string, props: Props): Promise<{ id?: string; props?: Props; inputs?: Props }> {
    const p = props as Inputs & { status?: unknown };
    const [namespace, name] = id.includes("/") ? id.split("/", 2) : ["default", id];
    const cluster = new Cluster(p);
    const live = await cluster.get<FluxObject & { spec?: Record<string, unknown>; metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } }>(this.kind.apiVersion, this.kind.kind, name!, namespace);
    const importing = p.spec === undefined;
    // An import is a read without state (no properties at all); a refresh of a deleted object is not.
    if (!live && Object.keys(props).length === 0) {
      throw new ClusterError(`cannot import ${this.kind.kind} ${namespace}/${name}: it does not exist in the cluster (read with KUBECONFIG or ~/.kube/config, as an import has no kubeconfig input yet); the id is <namespace>/<name>`);
    }
    if (!live) return { id: "" };
    const ready = this.kind.reconciled ? readyCondition(live)?.status === "True" : true;
    if (importing) {
      const inputs = compact({
        metadata: compact({ name, namespace }),
        spec: stripDefaults(live.spec ?? {}, this.kind.spec as never) as Record<string, unknown>,
      });
      return { id, inputs, props: { ...inputs, status: live.status ?? {}, ready, revision: typedRevision(live) } };
    }
    return { id, props: { ...props, status: live.status ?? {}, ready, revision: typedRevision(live) } };
  }

  async delete(id: string, _urn: string, props: Props): Promise<void> {
    const p = props as Inputs;
    const [namespace, name] = id.split("/", 2) as [string, string];
    const cluster = new Cluster(p);
    const existed = await cluster.delete(this.kind.apiVersion, this.kind.kind, name, namespace);
    if (!existed) return;
    const deadline = deadlineAfter(parseDuration(p.timeout ?? DefaultTimeout, "timeout"));
    for (;;) {
      const live = await cluster.get<{ metadata: { finalizers?: string[] } }>(this.kind.apiVersion, this.kind.kind, name, namespace);
      if (!live) return;
      if (Date.now() > deadline) {
        throw new ClusterError(`${this.kind.kind} ${id} is still terminating with finalizers [${(live.metadata.finalizers ?? []).join(", ")}]: is its controller running? It removes the finalizer after cleaning up.`);
      }
      await sleep(250);
    }
  }
}
