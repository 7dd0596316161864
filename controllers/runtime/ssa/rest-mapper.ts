// apiVersion + kind -> where the resource lives (plural, namespaced), from API discovery of
// one group-version at a time, cached. A miss is looked up again (a CRD applied a moment ago
// becomes known), at most once per `refreshMs` per group-version.
import { KubeClient, ResourceRef } from "../kube";
import { isNotFound } from "../kube-errors";
import { groupOf, versionOf } from "./object-id";

export interface ResourceMapping extends ResourceRef {
  readonly kind: string;
  readonly namespaced: boolean;
}

interface APIResource { name: string; kind: string; namespaced: boolean }
interface Entry { at: number; byKind: Map<string, ResourceMapping> }

/** The kind is not served by the API server (unknown group, version or kind). */
export class NoKindMatchError extends Error {
  override readonly name = "NoKindMatchError";
  constructor(readonly apiVersion: string, readonly kind: string) {
    super(`no matches for kind "${kind}" in version "${apiVersion}"`);
  }
}

export class RestMapper {
  readonly #client: KubeClient;
  readonly #refreshMs: number;
  readonly #cache = new Map<string, Entry>();
  readonly #inflight = new Map<string, Promise<Entry>>();

  constructor(client: KubeClient, opts: { refreshMs?: number } = {}) {
    this.#client = client;
    this.#refreshMs = opts.refreshMs ?? 1000;
  }

  /** The mapping, or throws NoKindMatchError. */
  async mapping(apiVersion: string, kind: string, signal?: AbortSignal): Promise<ResourceMapping> {
    let entry = this.#cache.get(apiVersion);
    let m = entry?.byKind.get(kind);
    if (m) return m;
    if (!entry || Date.now() - entry.at >= this.#refreshMs) {
      entry = await this.#discover(apiVersion, signal);
      m = entry.byKind.get(kind);
      if (m) return m;
    }
    throw new NoKindMatchError(apiVersion, kind);
  }

  /** Like `mapping`, but undefined for unknown kinds. */
  async tryMapping(apiVersion: string, kind: string, signal?: AbortSignal): Promise<ResourceMapping | undefined> {
    try {
      return await this.mapping(apiVersion, kind, signal);
    } catch (e) {
      if (e instanceof NoKindMatchError) return undefined;
      throw e;
    }
  }

  /** Forgets a group-version (e.g. after applying a CRD for it). */
  invalidate(apiVersion?: string): void {
    if (apiVersion === undefined) this.#cache.clear();
    else this.#cache.delete(apiVersion);
  }

  #discover(apiVersion: string, signal?: AbortSignal): Promise<Entry> {
    const running = this.#inflight.get(apiVersion);
    if (running) return running;
    const p = this.#fetch(apiVersion, signal).finally(() => this.#inflight.delete(apiVersion));
    this.#inflight.set(apiVersion, p);
    return p;
  }

  async #fetch(apiVersion: string, signal?: AbortSignal): Promise<Entry> {
    const group = groupOf(apiVersion);
    const version = versionOf(apiVersion);
    const path = group ? `/apis/${group}/${version}` : `/api/${version}`;
    let resources: APIResource[] = [];
    try {
      const list = await this.#client.transport.request<{ resources?: APIResource[] }>({ method: "GET", path, signal });
      resources = list?.resources ?? [];
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    const byKind = new Map<string, ResourceMapping>();
    for (const r of resources) {
      if (r.name.includes("/")) continue;
      byKind.set(r.kind, { group, version, plural: r.name, kind: r.kind, namespaced: r.namespaced });
    }
    const entry = { at: Date.now(), byKind };
    this.#cache.set(apiVersion, entry);
    return entry;
  }
}
