/**
 * Kubeconfig → what an HTTPS request needs (server, CA, client certificate, token). The common
 * forms (inline or file certificates, bearer token, basic auth) are read here directly; anything
 * else (exec plugins, auth providers, several merged files, proxies) goes through
 * @kubernetes/client-node's KubeConfig, loaded only then: it costs about a second to load, which
 * every `pulumi up` would otherwise pay in the plugin.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";

export interface ClusterConnection {
  /** Kubeconfig YAML/JSON, or a path to one. KUBECONFIG / ~/.kube/config when unset. */
  kubeconfig?: string;
  /** Context to use instead of the current one. */
  context?: string;
}

export interface Endpoint {
  server: string;
  tls: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer; rejectUnauthorized?: boolean };
  /** Extra headers (Authorization). Refreshed per request for exec-based credentials. */
  headers(): Promise<Record<string, string>>;
}

export class KubeconfigError extends Error {}

function looksLikeKubeconfigText(s: string): boolean {
  return s.includes("\n") || s.trimStart().startsWith("{") || /^\s*apiVersion\s*:/.test(s);
}

interface Named<T> { name: string; [k: string]: unknown; cluster?: T; user?: T; context?: T }
interface KubeconfigDoc {
  "current-context"?: string;
  contexts?: Named<{ cluster: string; user: string }>[];
  clusters?: Named<Record<string, unknown>>[];
  users?: Named<Record<string, unknown>>[];
}

/** The kubeconfig text and the directory relative file references resolve against. */
function source(c: ClusterConnection): { text: string; dir: string } | "merge" {
  if (c.kubeconfig && c.kubeconfig.trim() !== "") {
    if (looksLikeKubeconfigText(c.kubeconfig)) return { text: c.kubeconfig, dir: process.cwd() };
    if (!fs.existsSync(c.kubeconfig)) throw new KubeconfigError(`'${c.kubeconfig}' is neither kubeconfig YAML nor an existing file`);
    return { text: fs.readFileSync(c.kubeconfig, "utf8"), dir: path.dirname(path.resolve(c.kubeconfig)) };
  }
  const env = process.env.KUBECONFIG;
  if (env && env.includes(path.delimiter)) return "merge";
  const file = env || path.join(os.homedir(), ".kube", "config");
  if (!fs.existsSync(file)) throw new KubeconfigError(`no kubeconfig input, and ${file} does not exist: set the kubeconfig input (or KUBECONFIG where pulumi runs)`);
  return { text: fs.readFileSync(file, "utf8"), dir: path.dirname(path.resolve(file)) };
}

function dataOrFile(entry: Record<string, unknown>, key: string, dir: string): Buffer | undefined {
  const data = entry[`${key}-data`];
  if (typeof data === "string" && data) return Buffer.from(data, "base64");
  const file = entry[key];
  if (typeof file === "string" && file) return fs.readFileSync(path.resolve(dir, file));
  return undefined;
}

/** The endpoint from the simple forms, or undefined when client-node must handle it. */
function simpleEndpoint(c: ClusterConnection): Endpoint | undefined {
  const src = source(c);
  if (src === "merge") return undefined;
  let doc: KubeconfigDoc;
  try {
    doc = parse(src.text) as KubeconfigDoc;
  } catch (e) {
    throw new KubeconfigError(`not valid YAML: ${(e as Error).message}`);
  }
  const ctxName = c.context ?? doc["current-context"];
  const ctx = doc.contexts?.find((x) => x.name === ctxName)?.context;
  if (!ctx) {
    if (c.context) throw new KubeconfigError(`context '${c.context}' is not in the kubeconfig (contexts: ${(doc.contexts ?? []).map((x) => x.name).join(", ") || "none"})`);
    throw new KubeconfigError("no current context: set the context input");
  }
  const cluster = doc.clusters?.find((x) => x.name === ctx.cluster)?.cluster;
  const user = doc.users?.find((x) => x.name === ctx.user)?.user ?? {};
  if (!cluster || typeof cluster.server !== "string") throw new KubeconfigError(`cluster '${ctx.cluster}' of context '${ctxName}' has no server`);
  const known = new Set(["client-certificate", "client-certificate-data", "client-key", "client-key-data", "token", "username", "password"]);
  if (Object.keys(user).some((k) => !known.has(k)) || cluster["proxy-url"] || cluster["tls-server-name"]) return undefined;
  const tls: Endpoint["tls"] = {
    ca: dataOrFile(cluster, "certificate-authority", src.dir),
    cert: dataOrFile(user, "client-certificate", src.dir),
    key: dataOrFile(user, "client-key", src.dir),
    rejectUnauthorized: cluster["insecure-skip-tls-verify"] !== true,
  };
  const headers: Record<string, string> = {};
  if (typeof user.token === "string") headers.Authorization = `Bearer ${user.token}`;
  else if (typeof user.username === "string") headers.Authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ""}`).toString("base64")}`;
  return { server: cluster.server.replace(/\/+$/, ""), tls, headers: async () => headers };
}

/** Everything else, through client-node (exec plugins refresh their tokens per request). */
async function clientNodeEndpoint(c: ClusterConnection): Promise<Endpoint> {
  const k8s = await import("@kubernetes/client-node");
  const kc = new k8s.KubeConfig();
  try {
    if (c.kubeconfig && c.kubeconfig.trim() !== "") {
      if (looksLikeKubeconfigText(c.kubeconfig)) kc.loadFromString(c.kubeconfig);
      else kc.loadFromFile(c.kubeconfig);
    } else kc.loadFromDefault();
  } catch (e) {
    throw new KubeconfigError((e as Error).message);
  }
  if (c.context) {
    if (!kc.getContextObject(c.context)) throw new KubeconfigError(`context '${c.context}' is not in the kubeconfig`);
    kc.setCurrentContext(c.context);
  }
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new KubeconfigError("no cluster configured; set the kubeconfig input (or KUBECONFIG where pulumi runs)");
  const probe: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer; rejectUnauthorized?: boolean; headers?: Record<string, string> } = { headers: {} };
  await kc.applyToHTTPSOptions(probe as never);
  return {
    server: server.replace(/\/+$/, ""),
    tls: { ca: probe.ca, cert: probe.cert, key: probe.key, rejectUnauthorized: probe.rejectUnauthorized },
    headers: async () => {
      const o: { headers: Record<string, string> } = { headers: {} };
      await kc.applyToHTTPSOptions(o as never);
      return Object.fromEntries(Object.entries(o.headers).filter(([k]) => k.toLowerCase() === "authorization"));
    },
  };
}

export async function resolveEndpoint(c: ClusterConnection): Promise<Endpoint> {
  try {
    return simpleEndpoint(c) ?? (await clientNodeEndpoint(c));
  } catch (e) {
    throw new KubeconfigError(`kubeconfig: ${(e as Error).message}`);
  }
}

/** Synchronous check that the kubeconfig names a cluster (for early, clear errors). */
export function kubeconfigServer(c: ClusterConnection): string | undefined {
  try {
    return simpleEndpoint(c)?.server;
  } catch {
    return undefined;
  }
}
