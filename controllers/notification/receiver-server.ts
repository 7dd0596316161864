// The webhook endpoint (`--receiver-addr`): a request to a Receiver's `status.webhookPath` is
// validated for the Receiver's type, then every listed resource is annotated with
// `reconcile.fluxcd.io/requestedAt`, which makes its controller reconcile now. 404: no such
// path; 503: Receiver suspended or not Ready; 401: not authentic; 400: unusable payload;
// 500: a resource could not be annotated; 200: done.
import type * as http from "node:http";
import { Annotation } from "../api/meta";
import type { Receiver, ReceiverResource } from "../api/notification/v1/receiver";
import { ReceiverType, ReceiverWebhookPath } from "../api/notification/v1/receiver";
import { isReady } from "../runtime/conditions";
import type { KubeClient } from "../runtime/kube";
import type { Logger } from "../runtime/logger";
import { CelError, compileBool } from "../runtime/cel";
import { defaultReceiverApiVersions, fluxResource } from "./flux-kinds";
import { BodyTooLargeError, Listener, readBody, reply } from "./http-util";
import { receiverSecret, receiversRes } from "./receiver-reconciler";
import { ReceiverAuthError, validateWebhook } from "./receiver-validate";
import { OidcKeyCache, filterVariables, verifyOidcRequest } from "./receiver-oidc";
import { DefaultGoogleJwksUrl, verifyGcrRequest } from "./receiver-gcr";

/** Flux's limit on webhook payloads. */
const maxRequestBytes = 3 * 1024 * 1024;

export interface ReceiverServerOptions {
  client: KubeClient;
  logger: Logger;
  /** The Receivers (watch cache). */
  receivers: () => readonly Receiver[];
  /** Restricts the fallback list when the cache has no match (--watch-label-selector). */
  labelSelector?: string;
  noCrossNamespaceRefs?: boolean;
  /** Where Google's ID-token keys are fetched for gcr Receivers (--gcr-oidc-jwks-url); Google's by default. */
  gcrJwksUrl?: string;
}

/** A `requestedAt` value that differs on every call (Go's time.Time.String() layout). */
export function requestedAtNow(): string {
  const iso = new Date().toISOString(); // 2026-01-02T03:04:05.678Z
  const sub = (process.hrtime.bigint() % 1_000_000n).toString().padStart(6, "0");
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}${sub} +0000 UTC`;
}

export class ReceiverServer {
  readonly #o: ReceiverServerOptions;
  readonly #log: Logger;
  readonly #oidcKeys = new OidcKeyCache();
  readonly #listener = new Listener((req, res) => { void this.#handle(req, res); });

  constructor(opts: ReceiverServerOptions) {
    this.#o = opts;
    this.#log = opts.logger.child({ server: "receiver-server" });
  }

  async listen(addr: string): Promise<void> { await this.#listener.listen(addr); }
  get port(): number { return this.#listener.port; }
  get url(): string { return this.#listener.url; }
  close(): Promise<void> { return this.#listener.close(); }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const path = (req.url ?? "/").split("?")[0];
      if (!path.startsWith(ReceiverWebhookPath)) return reply(res, 404);
      const receiver = await this.#find(path);
      if (!receiver) return reply(res, 404);
      const log = this.#log.child({ receiver: { name: receiver.metadata.name, namespace: receiver.metadata.namespace } });
      if (receiver.spec.suspend || !isReady(receiver)) {
        log.error(receiver.spec.suspend ? "receiver is suspended" : "receiver is not ready");
        return reply(res, 503, "unable to process request");
      }
      let body: Buffer;
      try { body = await readBody(req, maxRequestBytes); } catch (e) {
        if (e instanceof BodyTooLargeError) return reply(res, 400, e.message);
        throw e;
      }
      let claims: Record<string, unknown> | undefined;
      // What the resource filters see as `req`: the body's JSON (for gcr, the registry notification it carries).
      let reqJson: unknown;
      try {
        const { token, data } = await receiverSecret({ client: this.#o.client }, receiver);
        let event: string | undefined;
        if (receiver.spec.type === ReceiverType.GenericOIDC) claims = await verifyOidcRequest(receiver, req.headers, this.#oidcKeys);
        else if (receiver.spec.type === ReceiverType.GCR) {
          const jwksUrl = this.#o.gcrJwksUrl || DefaultGoogleJwksUrl;
          const n = await verifyGcrRequest({ headers: req.headers, body, email: data.email, audience: data.audience,
            keys: (refresh) => this.#oidcKeys.keySet(jwksUrl, refresh, "Google's key set") });
          log.info(`handling GCR event from ${n.digest} for tag ${n.tag}`);
          reqJson = n;
        } else event = validateWebhook(receiver, token, { headers: req.headers, body });
        log.info({ event }, `handling ${receiver.spec.type} request`);
      } catch (e) {
        const code = e instanceof ReceiverAuthError ? 401 : 400;
        log.error({ error: (e as Error).message }, "unable to validate payload");
        return reply(res, code, (e as Error).message);
      }
      if (reqJson === undefined) {
        try { reqJson = JSON.parse(body.toString("utf8")); } catch { reqJson = null; }
      }
      let failed = false;
      for (const r of receiver.spec.resources ?? []) {
        try { await this.#requestReconciliation(r, receiver, log, reqJson, claims); } catch (e) {
          if (e instanceof CelError) {
            log.error({ error: e.message }, "unable to evaluate the resource filter");
            return reply(res, 400, `unable to evaluate the resource filter: ${e.message}`);
          }
          log.error({ error: (e as Error).message, resource: r }, "unable to request reconciliation");
          failed = true;
        }
      }
      reply(res, failed ? 500 : 200);
    } catch (e) {
      this.#log.error({ error: e }, "handling the webhook failed");
      reply(res, 500, "internal error");
    }
  }

  /** The Receiver serving `path`: from the cache, else (it may lag a fresh status) from the API. */
  async #find(path: string): Promise<Receiver | undefined> {
    const cached = this.#o.receivers().find((r) => r.status?.webhookPath === path);
    if (cached) return cached;
    const list = await this.#o.client.list<Receiver>(receiversRes, { labelSelector: this.#o.labelSelector });
    return list.items.find((r) => r.status?.webhookPath === path);
  }

  async #requestReconciliation(r: ReceiverResource, receiver: Receiver, log: Logger, req: unknown, claims?: Record<string, unknown>): Promise<void> {
    const receiverNs = receiver.metadata.namespace!;
    let namespace = receiverNs;
    if (r.namespace) {
      if (this.#o.noCrossNamespaceRefs && r.namespace !== receiverNs) throw new Error("cross-namespace references are not allowed");
      namespace = r.namespace;
    }
    const apiVersion = r.apiVersion || defaultReceiverApiVersions[r.kind];
    if (!apiVersion) throw new Error(`apiVersion must be specified for kind '${r.kind}'`);
    const res = fluxResource(r.kind, apiVersion);
    let names: string[];
    const filters = [receiver.spec.resourceFilter, r.filter].filter((x): x is string => !!x).map((x) => compileBool(x, filterVariables(receiver)));
    let metas: Record<string, unknown>[] | undefined;
    if (r.name === "*") {
      if (!r.matchLabels) throw new Error("matchLabels field not set when using wildcard '*' as name");
      const selector = Object.entries(r.matchLabels).map(([k, v]) => `${k}=${v}`).join(",");
      const list = await this.#o.client.list(res, { namespace, labelSelector: selector });
      names = list.items.map((o) => o.metadata!.name!);
      metas = list.items.map((o) => o.metadata as Record<string, unknown>);
      if (!names.length) log.error(`no '${r.kind}' resources found with matching labels '${selector}' in '${namespace}' namespace`);
    } else {
      names = [r.name];
    }
    if (filters.length) {
      // CEL filters see the object's metadata as `res.metadata` and the request body as `req`.
      metas ??= [((await this.#o.client.get(res, { namespace, name: r.name }))?.metadata ?? { name: r.name, namespace }) as Record<string, unknown>];
      const keep = metas.map((m) => filters.every((f) => f({ res: { metadata: m }, req, ...(claims ? { claims } : {}) })));
      names = names.filter((n, i) => {
        if (!keep[i]) log.info(`resource '${r.kind}/${n}.${namespace}' skipped due to filter`);
        return keep[i];
      });
    }
    for (const name of names) {
      const patch = { metadata: { annotations: { [Annotation.ReconcileRequestedAt]: requestedAtNow() } } };
      try { await this.#o.client.patch(res, { namespace, name }, patch); } catch (e) {
        throw new Error(`unable to annotate ${r.kind} '${namespace}/${name}' error: ${(e as Error).message}`, { cause: e });
      }
      log.info(`resource '${r.kind}/${name}.${namespace}' annotated`);
    }
  }
}
