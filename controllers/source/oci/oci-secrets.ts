// Credentials and TLS material from Secrets, for registries (OCIRepository, OCI HelmRepository)
// and Helm HTTP repositories: kubernetes.io/dockerconfigjson entries matched by registry host,
// plain username/password, and certSecretRef keys (ca.crt, tls.crt, tls.key).
import { ReconcileContext } from "../../runtime/controller";
import { KubeObject } from "../../runtime/keys";
import { OciCredentials } from "./oci-client";
import { TlsMaterial } from "./oci-http";

const secrets = { group: "", version: "v1", plural: "secrets", kind: "Secret" };
const serviceAccounts = { group: "", version: "v1", plural: "serviceaccounts", kind: "ServiceAccount" };

/** A Secret that is missing or lacks what the object needs; the message names it. */
export class SecretError extends Error {}

/** What secret look-ups need from a reconcile context. */
export type ClientContext = Pick<ReconcileContext, "client" | "signal">;

type SecretObject = KubeObject & { type?: string; data?: Record<string, string> };

/** The decoded data of a Secret; SecretError when it does not exist. */
export async function secretData(ctx: ClientContext, namespace: string, name: string): Promise<Record<string, string>> {
  const s = await ctx.client.get<SecretObject>(secrets, { namespace, name }, { signal: ctx.signal });
  if (!s) throw new SecretError(`failed to get secret '${namespace}/${name}': secrets "${name}" not found`);
  return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
}

/** Strips scheme and path from a docker config key: `https://host:5000/v1/` → `host:5000`. */
function registryKey(key: string): string {
  return key.replace(/^[a-z]+:\/\//, "").replace(/\/.*$/, "");
}

/** The credentials a docker config JSON holds for `registry` (host[:port]). */
export function credentialsFromDockerConfig(json: string, registry: string, secretName: string): OciCredentials | undefined {
  let cfg: { auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string; registrytoken?: string }> };
  try { cfg = JSON.parse(json); } catch {
    throw new SecretError(`invalid '.dockerconfigjson' in secret '${secretName}': not valid JSON`);
  }
  const hosts = registry === "docker.io" ? ["docker.io", "index.docker.io", "registry-1.docker.io"] : [registry];
  const entry = Object.entries(cfg.auths ?? {}).find(([k]) => hosts.includes(registryKey(k)))?.[1];
  if (!entry) return undefined;
  if (entry.registrytoken) return { registryToken: entry.registrytoken };
  if (entry.auth) {
    const plain = Buffer.from(entry.auth, "base64").toString("utf8");
    const i = plain.indexOf(":");
    if (i < 0) throw new SecretError(`invalid '.dockerconfigjson' in secret '${secretName}': 'auth' of ${registry} is not base64 of 'username:password'`);
    return { username: plain.slice(0, i), password: plain.slice(i + 1) };
  }
  if (entry.username) return { username: entry.username, password: entry.password ?? "" };
  if (entry.identitytoken) throw new SecretError(`secret '${secretName}': identity tokens (OAuth2 refresh tokens) are not supported yet; use username and password`);
  return undefined;
}

/**
 * Registry credentials for an object: its secretRef (dockerconfigjson, or username/password
 * where `allowBasic`), else the image pull secrets of its ServiceAccount; undefined: anonymous.
 */
export async function registryCredentials(ctx: ClientContext, namespace: string, registry: string,
  ref: { secretName?: string; serviceAccountName?: string; allowBasic?: boolean }): Promise<OciCredentials | undefined> {
  const names: string[] = [];
  if (ref.secretName) names.push(ref.secretName);
  else if (ref.serviceAccountName) {
    const sa = await ctx.client.get<KubeObject & { imagePullSecrets?: Array<{ name: string }> }>(serviceAccounts, { namespace, name: ref.serviceAccountName }, { signal: ctx.signal });
    if (!sa) throw new SecretError(`failed to get serviceaccount '${namespace}/${ref.serviceAccountName}': not found`);
    names.push(...(sa.imagePullSecrets ?? []).map((s) => s.name));
  }
  for (const name of names) {
    const data = await secretData(ctx, namespace, name);
    const qualified = `${namespace}/${name}`;
    if (data[".dockerconfigjson"] !== undefined) {
      const c = credentialsFromDockerConfig(data[".dockerconfigjson"], registry, qualified);
      if (c) return c;
      if (ref.secretName) throw new SecretError(`secret '${qualified}' has no credentials for registry '${registry}' in '.dockerconfigjson' (its 'auths' must have a '${registry}' entry)`);
      continue;
    }
    if (ref.allowBasic && (data.username !== undefined || data.password !== undefined)) {
      if (!data.username || !data.password) throw new SecretError(`invalid '${qualified}' secret data: basic auth needs both 'username' and 'password'`);
      return { username: data.username, password: data.password };
    }
    if (ref.secretName) {
      throw new SecretError(`secret '${qualified}' has no registry credentials: expected a kubernetes.io/dockerconfigjson Secret with '.dockerconfigjson'${ref.allowBasic ? " or 'username' and 'password'" : ""}`);
    }
  }
  return undefined;
}

/** TLS material from a certSecretRef Secret (`ca.crt`, `tls.crt` + `tls.key`), or legacy keys. */
export function tlsFromData(data: Record<string, string>, secretName: string, legacy = false): TlsMaterial | undefined {
  const ca = data["ca.crt"] ?? (legacy ? data.caFile : undefined);
  const cert = data["tls.crt"] ?? (legacy ? data.certFile : undefined);
  const key = data["tls.key"] ?? (legacy ? data.keyFile : undefined);
  if ((cert && !key) || (key && !cert)) throw new SecretError(`invalid '${secretName}' secret data: 'tls.crt' and 'tls.key' must be given together`);
  if (!ca && !cert) return undefined;
  if (ca && !ca.includes("-----BEGIN CERTIFICATE-----")) throw new SecretError(`invalid '${secretName}' secret data: 'ca.crt' is not a PEM certificate`);
  return { ca, cert, key };
}

export async function tlsFromSecret(ctx: ClientContext, namespace: string, name: string | undefined): Promise<TlsMaterial | undefined> {
  if (!name) return undefined;
  const data = await secretData(ctx, namespace, name);
  const tls = tlsFromData(data, `${namespace}/${name}`);
  if (!tls) throw new SecretError(`secret '${namespace}/${name}' of certSecretRef has none of 'ca.crt', 'tls.crt' and 'tls.key'`);
  return tls;
}
