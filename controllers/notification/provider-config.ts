// A Provider turned into what is needed to send to it: the address (spec.address, or the
// Secret's `address`), headers (the Secret's `headers`, YAML), token, username/password, TLS
// material (spec.certSecretRef), proxy (spec.proxySecretRef, the Secret's `proxy`, spec.proxy)
// and timeout. Every configuration a user can get wrong ends in a ProviderConfigError whose
// message says what to fix, and never contains a secret value.
import { parse as parseYaml } from "yaml";
import { DefaultProviderTimeout, ProviderType, type Provider } from "../api/notification/v1beta3/provider";
import { parseDuration } from "../runtime/duration";
import type { KubeClient } from "../runtime/kube";
import { CelError, compileString } from "../runtime/cel";
import { userFromSeed } from "./nkeys";

const T = ProviderType;

/** Commit status providers: they post a status for the event's revision, nothing else. */
export const CommitStatusProviderTypes: readonly string[] = [T.GitHub, T.GitLab, T.Gitea, T.Bitbucket, T.BitbucketServer, T.AzureDevOps];

/** The Provider types this notification-controller can send to. */
export const SupportedProviderTypes: readonly string[] = [
  T.Generic, T.GenericHMAC, T.Slack, T.Discord, T.Rocket, T.MSTeams, T.GoogleChat, T.Webex, T.Telegram, T.Matrix, T.Lark,
  T.Zulip, T.Opsgenie, T.PagerDuty, T.DataDog, T.Sentry, T.AlertManager, T.Grafana, T.GitHubDispatch, T.AzureEventHub,
  T.GooglePubSub, T.NATS, T.OTEL, ...CommitStatusProviderTypes,
  T.GitHubPullRequestComment, T.GitLabMergeRequestComment, T.GiteaPullRequestComment,
];

/** Types whose address is not an http(s) URL: a NATS server, a GCP project, an Event Hub name or connection string. */
const nonHttpAddress: readonly string[] = [T.NATS, T.GooglePubSub, T.AzureEventHub];

/** Types that need no address because the service has one well-known endpoint. */
const defaultAddress: Partial<Record<string, string>> = {
  [T.Telegram]: "https://api.telegram.org",
  [T.PagerDuty]: "https://events.pagerduty.com",
  [T.Bitbucket]: "https://bitbucket.org",
};

export class ProviderConfigError extends Error {
  override readonly name = "ProviderConfigError";
}

export interface RetryPolicy {
  /** Retries after the first attempt (Flux: 4). */
  retries: number;
  /** First delay, doubling, at most 30 s (Flux: 1 s). */
  baseMs: number;
}

export const DefaultRetryPolicy: RetryPolicy = { retries: 4, baseMs: 1000 };

export interface NotifierConfig {
  type: string;
  /** The http(s) address; for nats/googlepubsub/azureeventhub see `rawAddress`. */
  address: URL;
  rawAddress: string;
  headers: Record<string, string>;
  token?: string;
  username?: string;
  password?: string;
  channel?: string;
  tls?: { ca?: string; cert?: string; key?: string };
  /** Proxy URL, with credentials in its userinfo. */
  proxy?: URL;
  timeoutMs: number;
  retry: RetryPolicy;
  /** The Provider itself (commit status IDs use its UID). */
  provider: { name: string; namespace: string; uid: string };
  /** The whole Provider object (the `provider` variable of spec.commitStatusExpr). */
  providerObject?: Provider;
  /** spec.commitStatusExpr, compiled: the commit status ID from event, provider and alert. */
  commitStatusExpr?: (vars: Record<string, unknown>) => string;
  /** NATS: the user seed from the Secret's `nkey` key. */
  nkeySeed?: string;
  /** Where the Secret values came from, for messages. */
  secretName?: string;
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
  if (spec.serviceAccountName) throw new ProviderConfigError("spec.serviceAccountName (workload identity) is not supported by this notification-controller: use a token in spec.secretRef");
  if (spec.commitStatusExpr) compileCommitStatusExpr(spec.commitStatusExpr);
  if (spec.timeout) parseDuration(spec.timeout);
  if (spec.proxy) parseUrl(spec.proxy, "spec.proxy");
  if (spec.address?.trim() && !nonHttpAddress.includes(spec.type)) parseUrl(spec.address, "spec.address");
}

/** Variables of spec.commitStatusExpr, as in Flux. */
export const CommitStatusExprVars = ["event", "provider", "alert"] as const;

/** Compiles spec.commitStatusExpr; ProviderConfigError saying what is wrong. */
export function compileCommitStatusExpr(src: string): (vars: Record<string, unknown>) => string {
  try { return compileString(src, CommitStatusExprVars); } catch (e) {
    if (e instanceof CelError) {
      throw new ProviderConfigError(`invalid spec.commitStatusExpr '${src}': ${e.message} (a CEL expression over event, provider and alert that evaluates to a string; `
        + "supported: field access, +, ?:, size, split, first/last().value(), lowerAscii, upperAscii, trim, join, ...; no macros)");
    }
    throw e;
  }
}

/** Everything needed to send to `provider`; ProviderConfigError on a configuration error. */
export async function notifierConfig(client: KubeClient, provider: Provider, signal?: AbortSignal, retry: RetryPolicy = DefaultRetryPolicy): Promise<NotifierConfig> {
  checkProviderSpec(provider);
  const ns = provider.metadata.namespace!;
  const spec = provider.spec;
  let address = spec.address?.trim() ?? "";
  let where = "spec.address";
  const headers: Record<string, string> = {};
  let token: string | undefined;
  let nkeySeed: string | undefined;
  let password: string | undefined;
  let username = spec.username || undefined;
  let proxy = spec.proxy ? { text: spec.proxy, where: "spec.proxy" } : undefined;
  const secretName = spec.secretRef ? `${ns}/${spec.secretRef.name}` : undefined;
  if (spec.secretRef) {
    const data = await secretData(client, ns, spec.secretRef.name, signal);
    if (data.address !== undefined) {
      if (data.address.length > 2048) throw new ProviderConfigError("invalid address in secret: address exceeds maximum length of 2048 bytes");
      address = data.address.trim();
      where = `the 'address' key of secret '${secretName}'`;
    }
    if (data.proxy !== undefined) proxy = { text: data.proxy.trim(), where: `the 'proxy' key of secret '${secretName}'` };
    if (data.headers !== undefined) Object.assign(headers, parseHeaders(data.headers));
    if (data.token !== undefined) token = data.token.trim();
    if (data.username !== undefined) username = data.username.trim();
    if (data.password !== undefined) password = data.password.trim();
    if (spec.type === T.NATS && data.creds !== undefined) {
      throw new ProviderConfigError(`the 'creds' key (NATS JWT credentials) in secret '${secretName}' is not supported by this notification-controller: use an 'nkey' key with the user seed (SU...), or 'username' and 'password'`);
    }
    if (spec.type === T.NATS && data.nkey !== undefined) {
      nkeySeed = data.nkey.trim();
      try { userFromSeed(nkeySeed); } catch (e) { throw new ProviderConfigError(`invalid 'nkey' key in secret '${secretName}': ${(e as Error).message}`); }
    }
  }
  let proxyUrl: URL | undefined;
  if (spec.proxySecretRef) {
    const name = `${ns}/${spec.proxySecretRef.name}`;
    const d = await secretData(client, ns, spec.proxySecretRef.name, signal);
    if (!d.address?.trim()) throw new ProviderConfigError(`secret '${name}' in spec.proxySecretRef has no 'address' key: set it to the proxy's http(s) URL`);
    proxyUrl = parseUrl(d.address.trim(), `the 'address' key of secret '${name}'`);
    if (d.username !== undefined) proxyUrl.username = encodeURIComponent(d.username);
    if (d.password !== undefined) proxyUrl.password = encodeURIComponent(d.password);
  } else if (proxy) {
    proxyUrl = parseUrl(proxy.text, proxy.where);
  }
  if (!address) address = defaultAddress[spec.type] ?? "";
  if (!address) throw new ProviderConfigError("provider has no address: set spec.address or the 'address' key of the secret in spec.secretRef");
  const url = nonHttpAddress.includes(spec.type) ? new URL("http://non-http.invalid/") : parseUrl(address, where);
  const cfg: NotifierConfig = {
    type: spec.type, address: url, rawAddress: address, headers, token, username, password, channel: spec.channel?.trim() || undefined,
    tls: spec.certSecretRef ? await tlsMaterial(client, ns, spec.certSecretRef.name, signal) : undefined,
    proxy: proxyUrl,
    timeoutMs: parseDuration(spec.timeout ?? DefaultProviderTimeout),
    retry,
    provider: { name: provider.metadata.name!, namespace: ns, uid: provider.metadata.uid ?? "" },
    providerObject: provider,
    nkeySeed,
    commitStatusExpr: spec.commitStatusExpr ? compileCommitStatusExpr(spec.commitStatusExpr) : undefined,
    secretName,
  };
  checkRequiredKeys(cfg);
  return cfg;
}

/** The keys and fields each type cannot work without, with what to set. */
function checkRequiredKeys(c: NotifierConfig): void {
  const secret = c.secretName ? `the secret '${c.secretName}' in spec.secretRef` : "a secret referenced by spec.secretRef";
  const needToken = (what: string) => {
    if (!c.token) throw new ProviderConfigError(`a ${c.type} provider needs a 'token' key in ${secret}: ${what}`);
  };
  const needChannel = (what: string) => {
    if (!c.channel) throw new ProviderConfigError(`a ${c.type} provider needs spec.channel: ${what}`);
  };
  switch (c.type) {
    case T.GenericHMAC: return needToken("the key that signs requests");
    case T.Telegram: needToken("the bot token from the BotFather"); return needChannel("the chat ID or @channel name");
    case T.Matrix: needToken("the access token of the Matrix user"); return needChannel("the room ID (!id:server)");
    case T.Webex: needToken("the bot's access token"); return needChannel("the room ID");
    case T.Opsgenie: return needToken("the Opsgenie API key");
    case T.DataDog: return needToken("a DataDog API key");
    case T.PagerDuty: return needChannel("the integration (routing) key");
    case T.GitHubDispatch: case T.GitHub: case T.GitLab: case T.Gitea: case T.AzureDevOps:
      return needToken("an access token allowed to write to the repository");
    case T.GitHubPullRequestComment: case T.GitLabMergeRequestComment: case T.GiteaPullRequestComment:
      return needToken("an access token allowed to read the user and write pull/merge request comments");
    case T.Bitbucket:
      needToken("'<username>:<app-password>'");
      if (!c.token!.includes(":")) throw new ProviderConfigError(`invalid 'token' key in ${secret}: a bitbucket token has the form '<username>:<app-password>'`);
      return;
    case T.BitbucketServer:
      if (!c.token && !(c.username && c.password)) {
        throw new ProviderConfigError(`a bitbucketserver provider needs a 'token' key (HTTP access token), or 'username' (or spec.username) and 'password' keys, in ${secret}`);
      }
      return;
    case T.Zulip:
      needChannel("'<channel>/<topic>'");
      if (!/^[^/]+\/.+$/.test(c.channel!)) throw new ProviderConfigError(`invalid spec.channel '${c.channel}' for a zulip provider: want '<channel>/<topic>'`);
      if (!c.username || !c.password) throw new ProviderConfigError(`a zulip provider needs 'username' (the bot's email) and 'password' (its API key) keys in ${secret}`);
      return;
    case T.NATS: {
      needChannel("the subject to publish on");
      let u: URL;
      try { u = new URL(c.rawAddress); } catch { throw new ProviderConfigError(`invalid address '${redact(c.rawAddress)}' for a nats provider: want nats://host:port`); }
      if (!["nats:", "tls:"].includes(u.protocol)) throw new ProviderConfigError(`invalid address for a nats provider: unsupported scheme '${u.protocol.replace(/:$/, "")}' (want nats or tls)`);
      return;
    }
    case T.GooglePubSub:
      return needChannel("the Pub/Sub topic ID (spec.address is the GCP project ID)");
    case T.AzureEventHub:
      if (!c.rawAddress.startsWith("Endpoint=")) {
        needToken("a JWT for Event Hubs, or put a SAS connection string ('Endpoint=sb://...') in the 'address' key");
        needChannel("the Event Hubs namespace (spec.address is the Event Hub name)");
      }
      return;
    default:
      return;
  }
}

/** An http(s) URL, or a ProviderConfigError saying where the bad value came from. */
function parseUrl(address: string, where: string): URL {
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
