// A thin typed client for any resource (custom or built-in) addressed by group/version/plural:
// get, list, create, replace, patch (merge, JSON, strategic, apply), /status, delete, watch.
import type { KubeConfig } from "@kubernetes/client-node";
import { isNotFound } from "./kube-errors";
import { KubeTransport, KubeTransportOptions, QueryValue } from "./kube-transport";
import { KubeObject, ObjectKey, keyOf } from "./keys";

/** Where a resource lives in the API: `group` is "" for the core group. */
export interface ResourceRef {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  /** The kind, e.g. "GitRepository" (used for apiVersion/kind of applied objects and in logs). */
  readonly kind?: string;
  /** Default true. */
  readonly namespaced?: boolean;
}

export interface KubeList<T> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

export interface ListOptions {
  /** Omit (or "") for all namespaces. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  signal?: AbortSignal;
}

export interface WatchOptions extends Omit<ListOptions, "limit" | "continue"> {
  allowWatchBookmarks?: boolean;
  /** Server-side timeout: the server ends the stream after this long. */
  timeoutSeconds?: number;
  /** Client-side: fail when nothing arrives for this long. */
  idleTimeoutMs?: number;
}

/** One decoded watch line. `object` is a Status for ERROR events. */
export interface RawWatchEvent<T = KubeObject> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: T;
}

export const PatchType = {
  Merge: "application/merge-patch+json",
  Json: "application/json-patch+json",
  Strategic: "application/strategic-merge-patch+json",
  Apply: "application/apply-patch+yaml",
} as const;
export type PatchType = (typeof PatchType)[keyof typeof PatchType];

export interface WriteOptions {
  fieldManager?: string;
  dryRun?: boolean;
  signal?: AbortSignal;
}

export interface PatchOptions extends WriteOptions {
  /** Default: merge patch. */
  type?: PatchType;
  /** Only for apply patches: take ownership of conflicting fields. */
  force?: boolean;
  /** e.g. "status". */
  subresource?: string;
}

export interface ApplyOptions extends Omit<PatchOptions, "type" | "fieldManager"> {
  fieldManager: string;
}

export interface DeleteOptions {
  propagationPolicy?: "Foreground" | "Background" | "Orphan";
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
  signal?: AbortSignal;
}

export class KubeClient {
  readonly transport: KubeTransport;
  /** Object path → resourceVersion of our last write, for the kinds given to `trackWrites`. */
  readonly #written = new Map<string, string>();
  readonly #tracked = new Set<string>();

  constructor(transport: KubeTransport) { this.transport = transport; }

  static fromKubeConfig(kc: KubeConfig, opts?: KubeTransportOptions): KubeClient {
    return new KubeClient(new KubeTransport(kc, opts));
  }

  /** The URL path of a collection (no name) or an object, optionally of its subresource. */
  path(res: ResourceRef, namespace?: string, name?: string, subresource?: string): string {
    let p = res.group ? `/apis/${res.group}/${res.version}` : `/api/${res.version}`;
    if (namespace && res.namespaced !== false) p += `/namespaces/${encodeURIComponent(namespace)}`;
    p += `/${res.plural}`;
    if (name) p += `/${encodeURIComponent(name)}`;
    if (subresource) p += `/${subresource}`;
    return p;
  }

  /** The object, or undefined when it does not exist. */
  async get<T extends KubeObject>(res: ResourceRef, key: ObjectKey, opts: { signal?: AbortSignal } = {}): Promise<T | undefined> {
    try {
      return await this.transport.request<T>({ method: "GET", path: this.path(res, key.namespace, key.name), signal: opts.signal });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  list<T extends KubeObject>(res: ResourceRef, opts: ListOptions = {}): Promise<KubeList<T>> {
    return this.transport.request<KubeList<T>>({
      method: "GET", path: this.path(res, opts.namespace), signal: opts.signal,
      query: {
        labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, limit: opts.limit,
        continue: opts.continue, resourceVersion: opts.resourceVersion,
      },
    });
  }

  create<T extends KubeObject>(res: ResourceRef, obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.transport.request<T>({
      method: "POST", path: this.path(res, obj.metadata?.namespace), body: obj, signal: opts.signal,
      query: writeQuery(opts),
    });
  }

  /** PUT: fails with 409 Conflict when metadata.resourceVersion is stale. */
  replace<T extends KubeObject>(res: ResourceRef, obj: T, opts: WriteOptions & { subresource?: string } = {}): Promise<T> {
    const key = keyOf(obj);
    return this.#record(res, key, opts, this.transport.request<T>({
      method: "PUT", path: this.path(res, key.namespace, key.name, opts.subresource), body: obj, signal: opts.signal,
      query: writeQuery(opts),
    }));
  }

  patch<T extends KubeObject>(res: ResourceRef, key: ObjectKey, patch: unknown, opts: PatchOptions = {}): Promise<T> {
    const type = opts.type ?? PatchType.Merge;
    return this.#record(res, key, opts, this.transport.request<T>({
      method: "PATCH", path: this.path(res, key.namespace, key.name, opts.subresource), body: patch,
      contentType: type, signal: opts.signal,
      query: { ...writeQuery(opts), force: type === PatchType.Apply && opts.force ? true : undefined },
    }));
  }

  /**
   * Remembers, for objects of `res`, the resourceVersion each write through this client left
   * (see `lastWrittenVersion`): a controller reads its primary objects from its watch cache
   * only once the cache has caught up with its own last write.
   */
  trackWrites(res: ResourceRef): void { this.#tracked.add(`${res.group}/${res.plural}`); }

  /** The resourceVersion our last write of the object left, when its kind is tracked. */
  lastWrittenVersion(res: ResourceRef, key: ObjectKey): string | undefined {
    return this.#written.get(this.path(res, key.namespace, key.name));
  }

  /** Drops the record of an object found gone. */
  forgetWrites(res: ResourceRef, key: ObjectKey): void { this.#written.delete(this.path(res, key.namespace, key.name)); }

  async #record<T extends KubeObject>(res: ResourceRef, key: ObjectKey, opts: { dryRun?: boolean }, write: Promise<T>): Promise<T> {
    const obj = await write;
    const rv = obj?.metadata?.resourceVersion;
    if (rv && !opts.dryRun && this.#tracked.has(`${res.group}/${res.plural}`)) this.#written.set(this.path(res, key.namespace, key.name), rv);
    return obj;
  }

  /** A patch of the status subresource (merge patch unless told otherwise). */
  patchStatus<T extends KubeObject>(res: ResourceRef, key: ObjectKey, patch: unknown, opts: Omit<PatchOptions, "subresource"> = {}): Promise<T> {
    return this.patch<T>(res, key, patch, { ...opts, subresource: "status" });
  }

  /**
   * Server-side apply of `obj` (apiVersion and kind are filled from `res` when missing) as
   * `fieldManager`; with `dryRun` the server computes the result without persisting it.
   */
  apply<T extends KubeObject>(res: ResourceRef, obj: T, opts: ApplyOptions): Promise<T> {
    const body = {
      ...obj,
      apiVersion: obj.apiVersion ?? (res.group ? `${res.group}/${res.version}` : res.version),
      kind: obj.kind ?? res.kind,
    };
    if (!body.kind) throw new Error(`apply ${res.plural}: the object has no kind`);
    return this.patch<T>(res, keyOf(obj), body, { ...opts, type: PatchType.Apply });
  }

  /** Deletes the object; false when it was already gone. */
  async delete(res: ResourceRef, key: ObjectKey, opts: DeleteOptions = {}): Promise<boolean> {
    try {
      await this.transport.request({
        method: "DELETE", path: this.path(res, key.namespace, key.name), signal: opts.signal,
        query: { dryRun: opts.dryRun ? "All" : undefined },
        body: { apiVersion: "v1", kind: "DeleteOptions", propagationPolicy: opts.propagationPolicy, preconditions: opts.preconditions },
      });
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    } finally {
      this.#written.delete(this.path(res, key.namespace, key.name));
    }
  }

  /** A raw watch stream (see watch.ts for the list-then-watch cache built on it). */
  async *watch<T extends KubeObject>(res: ResourceRef, opts: WatchOptions = {}): AsyncGenerator<RawWatchEvent<T>> {
    const query: Record<string, QueryValue> = {
      watch: true, labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector,
      resourceVersion: opts.resourceVersion, allowWatchBookmarks: opts.allowWatchBookmarks ? true : undefined,
      timeoutSeconds: opts.timeoutSeconds,
    };
    for await (const line of this.transport.stream({ path: this.path(res, opts.namespace), query, signal: opts.signal, timeoutMs: opts.idleTimeoutMs })) {
      yield line as RawWatchEvent<T>;
    }
  }
}

function writeQuery(opts: WriteOptions): Record<string, QueryValue> {
  return { fieldManager: opts.fieldManager, dryRun: opts.dryRun ? "All" : undefined };
}
