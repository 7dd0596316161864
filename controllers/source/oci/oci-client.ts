// A small client for the OCI distribution API (what `flux push artifact` writes to): resolve a
// tag to a manifest digest with HEAD, list tags, read a manifest by digest and download blobs,
// each checked against its digest. Registry auth follows the WWW-Authenticate challenge:
// Basic with the given credentials, or Bearer with a token from the realm (anonymous or basic).
import { createHash } from "node:crypto";
import { isIP } from "node:net";
import { HttpError, HttpOptions, HttpResponse, TlsMaterial, basicAuth, httpDownload, httpRequest } from "./oci-http";

export const MediaType = {
  OciManifest: "application/vnd.oci.image.manifest.v1+json",
  OciIndex: "application/vnd.oci.image.index.v1+json",
  DockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  DockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  FluxContent: "application/vnd.cncf.flux.content.v1.tar+gzip",
  HelmChartContent: "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
} as const;

const MANIFEST_ACCEPT = [MediaType.OciManifest, MediaType.DockerManifest, MediaType.OciIndex, MediaType.DockerManifestList].join(", ");

export interface Descriptor { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }
export interface Manifest { schemaVersion: number; mediaType?: string; config?: Descriptor; layers?: Descriptor[]; manifests?: Descriptor[]; annotations?: Record<string, string> }

export interface OciCredentials { username?: string; password?: string; registryToken?: string }

export interface OciClientOptions {
  insecure?: boolean;
  tls?: TlsMaterial;
  credentials?: OciCredentials;
  timeoutMs: number;
  signal?: AbortSignal;
}

export type OciErrorKind = "auth" | "notfound" | "network" | "protocol";

export class OciError extends Error {
  constructor(message: string, readonly kind: OciErrorKind, options?: ErrorOptions) { super(message, options); }
}

/** Registry host (with port) and repository path of an `oci://host/path` URL. */
export interface OciRepositoryRef { registry: string; repository: string }

export class OciUrlError extends Error {}

export function parseOciUrl(url: string): OciRepositoryRef {
  if (!url.startsWith("oci://")) throw new OciUrlError("URL must be in format 'oci://<domain>/<org>/<repo>'");
  const rest = url.slice("oci://".length).replace(/\/+$/, "");
  const slash = rest.indexOf("/");
  if (slash <= 0 || slash === rest.length - 1) throw new OciUrlError("URL must be in format 'oci://<domain>/<org>/<repo>'");
  const registry = rest.slice(0, slash);
  const repository = rest.slice(slash + 1);
  const tag = repository.split(":");
  if (tag.length > 1) throw new OciUrlError(`URL must not contain a tag; remove ':${tag[1]}'`);
  if (repository.includes("@")) throw new OciUrlError("URL must not contain a digest; use spec.ref.digest");
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(repository)) {
    throw new OciUrlError(`repository name '${repository}' is invalid: use lower-case letters, digits and . _ - separators`);
  }
  return { registry, repository };
}

export class OciClient {
  readonly #base: string;
  readonly #repo: OciRepositoryRef;
  readonly #o: OciClientOptions;
  #authorization?: string;

  constructor(repo: OciRepositoryRef, opts: OciClientOptions) {
    this.#repo = repo;
    this.#o = opts;
    // Docker Hub's API lives on another host than its image names.
    const host = repo.registry === "docker.io" ? "registry-1.docker.io" : repo.registry;
    this.#base = `${opts.insecure ? "http" : "https"}://${host}/v2/${repo.repository}`;
  }

  get reference(): string { return `${this.#repo.registry}/${this.#repo.repository}`; }

  /** The manifest digest a tag points at (HEAD; GET and hash when the registry sends no digest). */
  async resolveTag(tag: string): Promise<string> {
    const res = await this.#call("HEAD", `/manifests/${encodeURIComponent(tag)}`, { accept: MANIFEST_ACCEPT });
    if (res.status === 404) throw new OciError(`tag '${tag}' not found in ${this.reference} (MANIFEST_UNKNOWN): push it or fix spec.ref`, "notfound");
    this.#check(res, `resolving tag '${tag}'`);
    const digest = String(res.headers["docker-content-digest"] ?? "");
    if (/^sha256:[0-9a-f]{64}$/.test(digest)) return digest;
    const full = await this.#call("GET", `/manifests/${encodeURIComponent(tag)}`, { accept: MANIFEST_ACCEPT });
    this.#check(full, `resolving tag '${tag}'`);
    return `sha256:${createHash("sha256").update(full.body).digest("hex")}`;
  }

  /** The manifest with this digest, checked against it. */
  async manifest(digest: string): Promise<Manifest> {
    const res = await this.#call("GET", `/manifests/${digest}`, { accept: MANIFEST_ACCEPT });
    if (res.status === 404) throw new OciError(`manifest '${digest}' not found in ${this.reference} (MANIFEST_UNKNOWN)`, "notfound");
    this.#check(res, `getting manifest '${digest}'`);
    const got = `sha256:${createHash("sha256").update(res.body).digest("hex")}`;
    if (digest.startsWith("sha256:") && got !== digest) throw new OciError(`manifest digest mismatch: asked for ${digest}, got ${got}`, "protocol");
    try { return JSON.parse(res.body.toString("utf8")) as Manifest; } catch (e) {
      throw new OciError(`manifest '${digest}' of ${this.reference} is not valid JSON`, "protocol", { cause: e });
    }
  }

  /** All tags of the repository (follows `Link` pagination). */
  async tags(): Promise<string[]> {
    const out: string[] = [];
    let next: string | undefined = "/tags/list?n=1000";
    for (let page = 0; next && page < 100; page++) {
      const res = await this.#call("GET", next, {});
      if (res.status === 404) throw new OciError(`repository ${this.reference} not found (NAME_UNKNOWN): push an artifact or fix spec.url`, "notfound");
      this.#check(res, "listing tags");
      out.push(...((JSON.parse(res.body.toString("utf8")) as { tags?: string[] }).tags ?? []));
      const link = /<([^>]+)>;\s*rel="?next"?/.exec(String(res.headers.link ?? ""));
      next = link ? link[1].replace(/^\/v2\/[^?]*\/tags\/list/, "/tags/list") : undefined;
    }
    return out;
  }

  /** Downloads a blob to `dest`, checking digest and size. */
  async blob(desc: Descriptor, dest: string): Promise<void> {
    const url = `${this.#base}/blobs/${desc.digest}`;
    let res = await httpDownload(url, dest, this.#http({}));
    if (res.status === 401 && await this.#authenticate(res.headers["www-authenticate"])) res = await httpDownload(url, dest, this.#http({}));
    if (res.status >= 300) this.#check({ status: res.status, headers: res.headers, body: res.body ?? Buffer.alloc(0), url }, `downloading blob ${desc.digest}`);
    if (res.digest !== desc.digest) throw new OciError(`blob digest mismatch: expected ${desc.digest}, got ${res.digest}`, "protocol");
    if (desc.size !== undefined && res.size !== desc.size) throw new OciError(`blob size mismatch: expected ${desc.size} bytes, got ${res.size}`, "protocol");
  }

  #http(headers: Record<string, string>): HttpOptions {
    const h = { ...headers };
    if (this.#authorization) h.authorization = this.#authorization;
    return { headers: h, tls: this.#o.tls, timeoutMs: this.#o.timeoutMs, signal: this.#o.signal };
  }

  async #call(method: "GET" | "HEAD", path: string, headers: Record<string, string>): Promise<HttpResponse> {
    const url = `${this.#base}${path}`;
    const res = await request(method, url, this.#http(headers));
    if (res.status !== 401) return res;
    if (!(await this.#authenticate(res.headers["www-authenticate"]))) return res;
    return request(method, url, this.#http(headers));
  }

  /** Answers a 401 challenge; false when there is nothing more to try. */
  async #authenticate(challenge: string | undefined): Promise<boolean> {
    const c = parseChallenge(challenge ?? "");
    const creds = this.#o.credentials;
    if (c.scheme === "basic") {
      if (!creds?.username || this.#authorization?.startsWith("Basic ")) return false;
      this.#authorization = basicAuth(creds.username, creds.password ?? "");
      return true;
    }
    if (c.scheme !== "bearer" || !c.params.realm || this.#authorization?.startsWith("Bearer ")) return false;
    if (creds?.registryToken) { this.#authorization = `Bearer ${creds.registryToken}`; return true; }
    const realm = this.#realm(c.params.realm);
    if (c.params.service) realm.searchParams.set("service", c.params.service);
    realm.searchParams.set("scope", c.params.scope ?? `repository:${this.#repo.repository}:pull`);
    const headers: Record<string, string> = creds?.username ? { authorization: basicAuth(creds.username, creds.password ?? "") } : {};
    const res = await request("GET", realm.toString(), { headers, tls: this.#o.tls, timeoutMs: this.#o.timeoutMs, signal: this.#o.signal });
    if (res.status === 401 || res.status === 403) throw new OciError(`token request to ${realm.origin}${realm.pathname} was refused (${res.status}): check the credentials for ${this.#repo.registry}`, "auth");
    if (res.status >= 300) throw new OciError(`token request to ${realm.origin}${realm.pathname} failed with status ${res.status}`, "protocol");
    const body = JSON.parse(res.body.toString("utf8")) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new OciError(`token response from ${realm.origin}${realm.pathname} has no token`, "protocol");
    this.#authorization = `Bearer ${token}`;
    return true;
  }

  /**
   * The token realm, refused when it could leak credentials: http only for an insecure registry,
   * and no private or loopback IP literal unless it is the registry itself (SSRF guard).
   */
  #realm(text: string): URL {
    let realm: URL;
    try { realm = new URL(text); } catch { throw new OciError(`invalid realm '${text}' in the registry's WWW-Authenticate header`, "protocol"); }
    if (realm.protocol !== "https:" && !(realm.protocol === "http:" && this.#o.insecure)) {
      throw new OciError(`realm '${text}' not allowed: the token service of a secure registry must use https`, "protocol");
    }
    const host = realm.hostname.replace(/^\[|\]$/g, "");
    if (realm.host !== this.#repo.registry && isIP(host) && isPrivateIp(host)) {
      throw new OciError(`realm host '${host}' is a private or loopback address; refusing to send credentials there`, "protocol");
    }
    return realm;
  }

  #check(res: HttpResponse, what: string): void {
    if (res.status >= 200 && res.status < 300) return;
    const detail = registryErrors(res.body);
    if (res.status === 401 || res.status === 403) {
      const hint = this.#o.credentials ? `check the credentials for ${this.#repo.registry} in the Secret` : `the registry needs credentials: set spec.secretRef to a kubernetes.io/dockerconfigjson Secret`;
      throw new OciError(`${what} in ${this.reference}: ${res.status === 401 ? "UNAUTHORIZED: authentication required" : "DENIED: access to the resource is denied"}${detail ? ` (${detail})` : ""}; ${hint}`, "auth");
    }
    if (res.status === 404) throw new OciError(`${what} in ${this.reference}: not found${detail ? ` (${detail})` : ""}`, "notfound");
    throw new OciError(`${what} in ${this.reference}: unexpected status ${res.status}${detail ? ` (${detail})` : ""}`, "protocol");
  }
}

async function request(method: "GET" | "HEAD", url: string, opts: HttpOptions): Promise<HttpResponse> {
  try { return await httpRequest(method, url, opts); } catch (e) {
    if (e instanceof HttpError) throw new OciError(e.message, "network", { cause: e });
    throw e;
  }
}

/** `Bearer realm="…",service="…",scope="…"` → scheme and parameters. */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!m) return { scheme: "", params: {} };
  const params: Record<string, string> = {};
  for (const p of m[2].matchAll(/(\w+)="([^"]*)"/g)) params[p[1].toLowerCase()] = p[2];
  return { scheme: m[1].toLowerCase(), params };
}

/** The registry's own error list (`{"errors":[{"code","message"}]}`), as one line. */
function registryErrors(body: Buffer): string {
  try {
    const j = JSON.parse(body.toString("utf8")) as { errors?: Array<{ code?: string; message?: string }> };
    return (j.errors ?? []).map((e) => `${e.code ?? ""}: ${e.message ?? ""}`).join("; ");
  } catch { return ""; }
}

function isPrivateIp(ip: string): boolean {
  if (isIP(ip) === 6) return ip === "::1" || ip === "::" || /^f[cd]/i.test(ip) || /^fe[89ab]/i.test(ip) || /^::ffff:/i.test(ip);
  const [a, b] = ip.split(".").map(Number);
  return a === 10 || a === 127 || a === 0 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254);
}
