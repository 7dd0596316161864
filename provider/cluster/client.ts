/**
 * The provider's connection to a cluster: a kubeconfig given as an input (contents or a path),
 * resolved at deploy time only, so a cluster created earlier in the same program works.
 *
 * Requests are plain JSON over HTTPS with the kubeconfig's credentials (kubeconfig.ts): client-
 * node's typed object API re-serialises bodies through its models, which drops keys such as
 * `x-kubernetes-preserve-unknown-fields` from CRDs. Errors are rewritten into one line that says
 * what failed, where, and the API server's own message.
 */
import * as https from "node:https";
import * as http from "node:http";
import { FieldManager } from "../version";
import type { KubeManifest } from "../manifests/objects";
import { kubeconfigServer, resolveEndpoint, type ClusterConnection, type Endpoint } from "./kubeconfig";

export type { ClusterConnection } from "./kubeconfig";

export class ClusterError extends Error {
  constructor(message: string, readonly status?: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "ClusterError";
  }
}

/** HTTP status of an error, if the API server answered. */
export function statusOf(e: unknown): number | undefined {
  return e instanceof ClusterError ? e.status : undefined;
}

export const isNotFound = (e: unknown): boolean => statusOf(e) === 404;

export function kubeMessage(e: unknown): string {
  const err = e as { message?: string; code?: string; cause?: { message?: string; code?: string } };
  return [err.message, err.code, err.cause?.message].filter(Boolean).join(": ");
}

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A client for any kind; every call names the object and the cluster in its error. */
export class Cluster {
  /** API server URL (for messages); `?` until the kubeconfig is read. */
  server: string;
  private readonly discovery = new Map<string, Promise<ApiResource[] | undefined>>();
  private agent?: https.Agent;
  private endpoint?: Promise<Endpoint>;

  constructor(private readonly conn: ClusterConnection) {
    this.server = kubeconfigServer(conn) ?? "?";
  }

  private resolve(): Promise<Endpoint> {
    this.endpoint ??= resolveEndpoint(this.conn).then((e) => {
      this.server = e.server;
      return e;
    }, (e: Error) => {
      this.endpoint = undefined;
      throw new ClusterError(e.message);
    });
    return this.endpoint;
  }

  /** One HTTP request; JSON in and out. Retries 429/503 (e.g. a CRD's storage still initialising). */
  async request<T = unknown>(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once<T>(method, path, body, contentType);
      } catch (e) {
        const s = statusOf(e);
        if ((s !== 429 && s !== 503) || attempt >= 20) throw e;
        await sleep(Math.min(1000, 50 * 2 ** attempt));
      }
    }
  }

  private async once<T>(method: string, path: string, body: unknown, contentType: string): Promise<T> {
    const ep = await this.resolve();
    const url = new URL(ep.server + path);
    const opts: https.RequestOptions = { method, headers: { Accept: "application/json", ...(await ep.headers()) } };
    const isHttps = url.protocol === "https:";
    if (isHttps) {
      this.agent ??= new https.Agent({ keepAlive: true, ...ep.tls, maxSockets: 16 });
      opts.agent = this.agent;
    }
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) {
      // An explicit length: a chunked DELETE body leaves the keep-alive connection unusable for Go's server.
      Object.assign(opts.headers as Record<string, string>, { "Content-Type": contentType, "Content-Length": String(Buffer.byteLength(payload)) });
    }
    return new Promise<T>((resolve, reject) => {
      const req = (isHttps ? https : http).request(url, { ...opts, timeout: 60_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            try {
              resolve((text ? JSON.parse(text) : undefined) as T);
            } catch (e) {
              reject(new ClusterError(`${method} ${path}: invalid JSON answer: ${(e as Error).message}`, status));
            }
            return;
          }
          let message = text;
          try {
            message = (JSON.parse(text) as { message?: string }).message ?? text;
          } catch {
            /* not a Status */
          }
          reject(new ClusterError(`${status}: ${message.trim()}`, status));
        });
      });
      req.on("timeout", () => req.destroy(new Error("request timed out after 60s")));
      req.on("error", (e) => reject(new ClusterError(`cannot reach the cluster at ${this.server}: ${kubeMessage(e)}`, undefined, { cause: e })));
      req.end(payload);
    });
  }

  /** The resource of a kind (plural, scope) from discovery; undefined when the API does not serve it. */
  async resourceOf(apiVersion: string, kind: string): Promise<ApiResource | undefined> {
    const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const find = async (fresh: boolean) => {
      if (fresh) this.discovery.delete(base);
      if (!this.discovery.has(base)) {
        this.discovery.set(base, this.request<{ resources: ApiResource[] }>("GET", base).then((l) => l.resources, (e) => {
          if (isNotFound(e)) return undefined;
          this.discovery.delete(base);
          throw e;
        }));
      }
      return (await this.discovery.get(base))?.find((r) => r.kind === kind && !r.name.includes("/"));
    };
    return (await find(false)) ?? (await find(true));
  }

  /** URL path of an object (or of the collection when name is undefined). */
  async pathOf(apiVersion: string, kind: string, namespace: string | undefined, name?: string): Promise<string | undefined> {
    const r = await this.resourceOf(apiVersion, kind);
    if (!r) return undefined;
    const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const ns = r.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
    return `${base}${ns}/${r.name}${name ? `/${encodeURIComponent(name)}` : ""}`;
  }

  private what(e: unknown, verb: string, kind: string, name: string, namespace?: string): ClusterError {
    const m = (e as Error).message;
    return new ClusterError(`${verb} ${kind} ${namespace ? namespace + "/" : ""}${name} on ${this.server}: ${m}`, statusOf(e), { cause: e });
  }

  /** Server-side apply with the provider's field manager, forcing ownership. */
  async apply<T extends KubeManifest>(obj: T, opts: { dryRun?: boolean; fieldManager?: string } = {}): Promise<T> {
    const { kind, metadata } = obj;
    try {
      const path = await this.pathOf(obj.apiVersion, kind, metadata.namespace ?? "default", metadata.name);
      if (!path) throw new ClusterError(`the cluster does not serve ${obj.apiVersion} ${kind} (is its CRD installed?)`, 404);
      const body = { ...obj } as Record<string, unknown>;
      delete body.status;
      const q = `?fieldManager=${encodeURIComponent(opts.fieldManager ?? FieldManager)}&force=true${opts.dryRun ? "&dryRun=All" : ""}`;
      return await this.request<T>("PATCH", path + q, body, "application/apply-patch+yaml");
    } catch (e) {
      throw this.what(e, "apply", kind, metadata.name, metadata.namespace);
    }
  }

  /** The object, or undefined when it (or its kind, or its namespace) does not exist. */
  async get<T = KubeManifest>(apiVersion: string, kind: string, name: string, namespace?: string): Promise<T | undefined> {
    try {
      const path = await this.pathOf(apiVersion, kind, namespace ?? "default", name);
      if (!path) return undefined;
      return await this.request<T>("GET", path);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw this.what(e, "get", kind, name, namespace);
    }
  }

  /** All objects of a kind (in a namespace, or everywhere); none when the kind is not served. */
  async list<T = KubeManifest>(apiVersion: string, kind: string, opts: { namespace?: string; labelSelector?: string } = {}): Promise<T[]> {
    try {
      const path = await this.pathOf(apiVersion, kind, opts.namespace);
      if (!path) return [];
      const q = opts.labelSelector ? `?labelSelector=${encodeURIComponent(opts.labelSelector)}` : "";
      const l = await this.request<{ items: T[] }>("GET", path + q);
      return l.items.map((it) => ({ apiVersion, kind, ...it }));
    } catch (e) {
      if (isNotFound(e)) return [];
      throw this.what(e, "list", kind, "", opts.namespace);
    }
  }

  /** Deletes; true when it was there. */
  async delete(apiVersion: string, kind: string, name: string, namespace?: string, propagationPolicy = "Background"): Promise<boolean> {
    try {
      const path = await this.pathOf(apiVersion, kind, namespace ?? "default", name);
      if (!path) return false;
      await this.request("DELETE", path, { propagationPolicy });
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw this.what(e, "delete", kind, name, namespace);
    }
  }

  /** JSON merge patch (finalizers, annotations); a missing object is fine. */
  async mergePatch(apiVersion: string, kind: string, name: string, namespace: string | undefined, patch: Record<string, unknown>): Promise<void> {
    try {
      const path = await this.pathOf(apiVersion, kind, namespace ?? "default", name);
      if (!path) return;
      await this.request("PATCH", path, patch, "application/merge-patch+json");
    } catch (e) {
      if (isNotFound(e)) return;
      throw this.what(e, "patch", kind, name, namespace);
    }
  }

  /** Cheap reachability and authentication check: GET /version. */
  async ping(): Promise<void> {
    try {
      await this.request("GET", "/version");
    } catch (e) {
      const s = statusOf(e);
      const why = s === 401 || s === 403 ? `the credentials were rejected (${(e as Error).message})` : (e as Error).message;
      throw new ClusterError(`cannot use the cluster at ${this.server}: ${why}. Check the kubeconfig input and that the API server is up.`, s, { cause: e });
    }
  }

  close(): void {
    this.agent?.destroy();
  }
}

/** Runs `fn` over `items` with at most `n` in flight; rejects with the first error after all settle. */
export async function mapLimit<T, R>(items: readonly T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  let firstError: unknown;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!);
      } catch (e) {
        firstError ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  if (firstError) throw firstError;
  return out;
}
