// HTTP access to a Helm chart repository as its HelmRepository describes it: basic auth from
// secretRef, TLS from certSecretRef (or the deprecated TLS keys of secretRef), timeout; then
// fetching index.yaml and chart archives. Credentials only go to the repository's own host
// unless spec.passCredentials is set.
import { HelmRepository } from "../../api/source/v1/helm-repository";
import { parseDuration } from "../../runtime/duration";
import { HttpError, HttpOptions, TlsMaterial, basicAuth, httpDownload, httpRequest } from "../oci/oci-http";
import { ClientContext, SecretError, secretData, tlsFromData, tlsFromSecret } from "../oci/oci-secrets";

export const MAX_INDEX_SIZE = 50 * 1024 * 1024;
export const MAX_CHART_SIZE = 10 * 1024 * 1024;

export interface HelmGetter {
  /** Options for a request to `url` (credentials only where they may go). */
  options(url: string): HttpOptions;
  hasCredentials: boolean;
}

/** A fetch failure; `auth` when the server refused the credentials (or wants some). */
export class HelmFetchError extends Error {
  constructor(message: string, readonly auth = false, options?: ErrorOptions) { super(message, options); }
}

/** Reads the Secrets of a HelmRepository; SecretError when they are missing or malformed. */
export async function helmGetter(ctx: ClientContext, repo: HelmRepository): Promise<HelmGetter> {
  const ns = repo.metadata.namespace!;
  let auth: string | undefined;
  let tls: TlsMaterial | undefined;
  if (repo.spec.secretRef?.name) {
    const name = `${ns}/${repo.spec.secretRef.name}`;
    const data = await secretData(ctx, ns, repo.spec.secretRef.name);
    if (data.username !== undefined || data.password !== undefined) {
      if (!data.username || !data.password) throw new SecretError(`invalid '${name}' secret data: required fields 'username' and 'password'`);
      auth = basicAuth(data.username, data.password);
    }
    tls = tlsFromData(data, name, true);
  }
  // certSecretRef wins over TLS keys in secretRef, as in Flux.
  if (repo.spec.certSecretRef?.name) tls = await tlsFromSecret(ctx, ns, repo.spec.certSecretRef.name);
  const timeoutMs = parseDuration(repo.spec.timeout ?? "60s");
  const repoHost = new URL(repo.spec.url).host;
  return {
    hasCredentials: auth !== undefined,
    options: (url: string) => {
      const sameHost = new URL(url).host === repoHost;
      const headers: Record<string, string> = auth && (sameHost || repo.spec.passCredentials) ? { authorization: auth } : {};
      return { headers, tls, timeoutMs, signal: ctx.signal };
    },
  };
}

export function indexUrl(repoUrl: string): string {
  return `${repoUrl.replace(/\/+$/, "")}/index.yaml`;
}

function statusError(url: string, status: number, g: HelmGetter): HelmFetchError {
  const text = `${status} ${STATUS_TEXT[status] ?? ""}`.trim();
  if (status === 401 || status === 403) {
    const hint = g.hasCredentials ? "check 'username' and 'password' in the Secret of spec.secretRef" : "the repository needs credentials: set spec.secretRef to a Secret with 'username' and 'password'";
    return new HelmFetchError(`failed to fetch ${url} : ${text} (${hint})`, true);
  }
  return new HelmFetchError(`failed to fetch ${url} : ${text}`);
}

const STATUS_TEXT: Record<number, string> = { 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable" };

/** GET index.yaml; the raw bytes (the artifact is an exact copy). */
export async function fetchIndex(g: HelmGetter, repoUrl: string): Promise<Buffer> {
  const url = indexUrl(repoUrl);
  try {
    const res = await httpRequest("GET", url, { ...g.options(url), maxBytes: MAX_INDEX_SIZE });
    if (res.status !== 200) throw statusError(url, res.status, g);
    return res.body;
  } catch (e) {
    if (e instanceof HttpError) throw new HelmFetchError(e.kind === "too-large" ? `index exceeds the maximum index file size of ${MAX_INDEX_SIZE} bytes` : e.message, false, { cause: e });
    throw e;
  }
}

/** GET a chart archive to `dest`; returns its sha256 digest. */
export async function downloadChart(g: HelmGetter, url: string, dest: string): Promise<string> {
  try {
    const res = await httpDownload(url, dest, g.options(url));
    if (res.status !== 200) throw statusError(url, res.status, g);
    if (res.size > MAX_CHART_SIZE) throw new HelmFetchError(`chart ${url} exceeds the maximum chart size of ${MAX_CHART_SIZE} bytes`);
    return res.digest;
  } catch (e) {
    if (e instanceof HttpError) throw new HelmFetchError(e.message, false, { cause: e });
    throw e;
  }
}
