// A Provider turned into what is needed to send to it: the address (spec.address, or the
// Secret's `address`), headers (the Secret's `headers`, YAML), token, TLS material and timeout.
// Every configuration a user can get wrong ends in a ProviderConfigError whose message says
// what to fix, and never contains a secret value.
import { parse as parseYaml } from "yaml";
import { DefaultProviderTimeout, ProviderType, type Provider } from "../api/notification/v1beta3/provider";
import { parseDuration } from "../runtime/duration";
import type { KubeClient } from "../runtime/kube";

/** The Provider types this notification-controller can send to. */
export const SupportedProviderTypes: readonly string[] = [ProviderType.Generic, ProviderType.GenericHMAC, ProviderType.Slack];

export class ProviderConfigError extends Error {
  override readonly name = "ProviderConfigError";
}

export interface NotifierConfig {
  type: string;
  address: URL;
  headers: Record<string, string>;
  token?: string;
  username?: string;
  channel?: string;
  tls?: { ca?: string; cert?: string; key?: string };
  timeoutMs: number;
}

const secretsRes = { group: "", version: "v1", plural: "secrets", kind: "Secret" };
type Secret = { metadata: object; data?: Record<string, string> };

/** Reads a Secret's data as text; ProviderConfigError when it is missing. */
export async function secretData(client: KubeClient, namespace: string, name: string, signal?: AbortSignal): Promise<Record<string, string>> {
  const s = await client.get<Secret>(secretsRes, { namespace, name }, { signal });
  if (!s) throw new ProviderConfigError(`failed to get secret '${namespace}/${name}': secrets "${name}" not found`);
  return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
}

/** Checks what can be checked without reading Secrets: the type and unsupported fields. */
export function checkProviderSpec(provider: Provider): void {
  const spec = provider.spec;
  if (!SupportedProviderTypes.includes(spec.type)) {
    throw new ProviderConfigError(
      `provider type '${spec.type}' is not supported by this notification-controller (supported: ${SupportedProviderTypes.join(", ")})`);
  }
  if (spec.serviceAccountName) throw new ProviderConfigError("spec.serviceAccountName (workload identity) is not supported by this notification-controller");
  if (spec.proxy || spec.proxySecretRef) throw new ProviderConfigError("sending through a proxy (spec.proxy, spec.proxySecretRef) is not supported by this notification-controller");
  if (spec.timeout) parseDuration(spec.timeout);
  if (spec.address?.trim()) parseAddress(spec.address, "spec.address");
}

/** Everything needed to send to `provider`; ProviderConfigError on a configuration error. */
export async function notifierConfig(client: KubeClient, provider: Provider, signal?: AbortSignal): Promise<NotifierConfig> {
  checkProviderSpec(provider);
  const ns = provider.metadata.namespace!;
  const spec = provider.spec;
  let address = spec.address?.trim() ?? "";
  let where = "spec.address";
  const headers: Record<string, string> = {};
  let token: string | undefined;
  let username = spec.username || undefined;
  if (spec.secretRef) {
    const data = await secretData(client, ns, spec.secretRef.name, signal);
    if (data.address !== undefined) {
      if (data.address.length > 2048) throw new ProviderConfigError("invalid address in secret: address exceeds maximum length of 2048 bytes");
      address = data.address.trim();
      where = `the 'address' key of secret '${ns}/${spec.secretRef.name}'`;
    }
    if (data.proxy !== undefined) throw new ProviderConfigError(`the 'proxy' key of secret '${ns}/${spec.secretRef.name}' is not supported by this notification-controller`);
    if (data.headers !== undefined) Object.assign(headers, parseHeaders(data.headers));
    if (data.token !== undefined) token = data.token.trim();
    if (data.username !== undefined) username = data.username;
  }
  if (!address) throw new ProviderConfigError("provider has no address: set spec.address or the 'address' key of the secret in spec.secretRef");
  const url = parseAddress(address, where);
  if (spec.type === ProviderType.GenericHMAC && !token) {
    throw new ProviderConfigError("a generic-hmac provider needs a 'token' key in the secret referenced by spec.secretRef, to sign requests");
  }
  return {
    type: spec.type, address: url, headers, token, username, channel: spec.channel || undefined,
    tls: spec.certSecretRef ? await tlsMaterial(client, ns, spec.certSecretRef.name, signal) : undefined,
    timeoutMs: parseDuration(spec.timeout ?? DefaultProviderTimeout),
  };
}

/** An http(s) URL, or a ProviderConfigError saying where the bad value came from. */
function parseAddress(address: string, where: string): URL {
  let url: URL;
  try { url = new URL(address); } catch {
    throw new ProviderConfigError(`invalid address in ${where}: '${redact(address)}' is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ProviderConfigError(`invalid address in ${where}: unsupported scheme '${url.protocol.replace(/:$/, "")}' (want http or https)`);
  }
  return url;
}

/** Only the origin of an address: webhook paths (Slack's) are secrets. */
export function redact(address: string | URL): string {
  try {
    const u = typeof address === "string" ? new URL(address) : address;
    return `${u.protocol}//${u.host}${u.pathname !== "/" || u.search ? "/..." : "/"}`;
  } catch {
    return address.toString().length > 16 ? `${address.toString().slice(0, 16)}...` : address.toString();
  }
}

function parseHeaders(text: string): Record<string, string> {
  let v: unknown;
  try { v = parseYaml(text); } catch (e) { throw new ProviderConfigError(`failed to read headers from secret: ${(e as Error).message}`); }
  if (v === null || v === undefined) return {};
  if (typeof v !== "object" || Array.isArray(v)) throw new ProviderConfigError("failed to read headers from secret: expected a map of header names to values");
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)]));
}

/** ca.crt, tls.crt and tls.key (or the legacy caFile, certFile, keyFile). */
async function tlsMaterial(client: KubeClient, ns: string, name: string, signal?: AbortSignal): Promise<NotifierConfig["tls"]> {
  const d = await secretData(client, ns, name, signal);
  const tls = { ca: d["ca.crt"] ?? d.caFile, cert: d["tls.crt"] ?? d.certFile, key: d["tls.key"] ?? d.keyFile };
  if (!tls.ca && !tls.cert) throw new ProviderConfigError(`secret '${ns}/${name}' in spec.certSecretRef has no 'ca.crt' and no 'tls.crt' key`);
  if (!!tls.cert !== !!tls.key) throw new ProviderConfigError(`secret '${ns}/${name}' in spec.certSecretRef needs both 'tls.crt' and 'tls.key' for mutual TLS`);
  return tls;
}
