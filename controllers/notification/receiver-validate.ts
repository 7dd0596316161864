// Is a webhook request really from the Receiver's sender? One check per receiver type, as
// Flux's receiver server does: HMAC signatures (generic-hmac, github, bitbucket, nexus), token
// headers (gitlab, harbor), or a payload that decodes (dockerhub, quay, acr) (bearer ID tokens,
// generic-oidc and gcr, in receiver-oidc.ts and receiver-gcr.ts); then, for types
// that name their event (github, gitlab, bitbucket), the event must be in `spec.events`.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { ReceiverType, type Receiver } from "../api/notification/v1/receiver";

/** The Receiver types this notification-controller can validate. */
export const SupportedReceiverTypes: readonly string[] = [
  ReceiverType.Generic, ReceiverType.GenericHMAC, ReceiverType.GitHub, ReceiverType.GitLab, ReceiverType.Bitbucket,
  ReceiverType.Harbor, ReceiverType.DockerHub, ReceiverType.Quay, ReceiverType.Nexus, ReceiverType.ACR, ReceiverType.CDEvents,
  ReceiverType.GenericOIDC, ReceiverType.GCR,
];

/** The request does not prove it comes from the sender: answered 401. */
export class ReceiverAuthError extends Error {
  override readonly name = "ReceiverAuthError";
}

/** The request is authentic but cannot be acted on (payload, event type): answered 400. */
export class ReceiverRequestError extends Error {
  override readonly name = "ReceiverRequestError";
}

export interface WebhookRequest { headers: IncomingHttpHeaders; body: Buffer }

const header = (h: IncomingHttpHeaders, name: string): string => {
  const v = h[name.toLowerCase()];
  return (Array.isArray(v) ? v[0] : v) ?? "";
};

/** Throws ReceiverAuthError or ReceiverRequestError; returns the event type it accepted, if any. */
export function validateWebhook(receiver: Receiver, token: string, req: WebhookRequest): string | undefined {
  const h = req.headers;
  switch (receiver.spec.type) {
    case ReceiverType.Generic:
      return undefined;
    case ReceiverType.GenericHMAC:
      verifySignature(header(h, "X-Signature"), req.body, token, "X-Signature");
      return undefined;
    case ReceiverType.GitHub: {
      const sig256 = header(h, "X-Hub-Signature-256");
      verifySignature(sig256 || header(h, "X-Hub-Signature"), req.body, token, sig256 ? "X-Hub-Signature-256" : "X-Hub-Signature");
      return allowEvent(receiver, header(h, "X-GitHub-Event"), "GitHub");
    }
    case ReceiverType.Bitbucket:
      verifySignature(header(h, "X-Hub-Signature"), req.body, token, "X-Hub-Signature");
      return allowEvent(receiver, header(h, "X-Event-Key"), "Bitbucket server");
    case ReceiverType.GitLab:
      if (!sameText(header(h, "X-Gitlab-Token"), token)) throw new ReceiverAuthError("the X-Gitlab-Token header value does not match the receiver token");
      return allowEvent(receiver, header(h, "X-Gitlab-Event"), "GitLab");
    case ReceiverType.Harbor:
      if (!sameText(header(h, "Authorization"), token)) throw new ReceiverAuthError("the Harbor Authorization header value does not match the receiver token");
      return undefined;
    case ReceiverType.Nexus: {
      const sig = header(h, "X-Nexus-Webhook-Signature");
      if (!sig) throw new ReceiverAuthError("the Nexus signature is missing from header");
      if (!sameText(sig, createHmac("sha1", token).update(req.body).digest("hex"))) throw new ReceiverAuthError("invalid Nexus signature");
      decodeJson(req.body, "Nexus");
      return undefined;
    }
    case ReceiverType.DockerHub:
      decodeJson(req.body, "DockerHub");
      return undefined;
    case ReceiverType.Quay:
      decodeJson(req.body, "Quay");
      return undefined;
    case ReceiverType.ACR:
      decodeJson(req.body, "ACR");
      return undefined;
    case ReceiverType.CDEvents:
      return allowEvent(receiver, validateCDEvent(h, req.body), "CDEvent");
    case ReceiverType.GCR:
    case ReceiverType.GenericOIDC:
      // Bearer ID tokens, verified against key sets: receiver-gcr.ts, receiver-oidc.ts.
      throw new ReceiverRequestError(`receiver type '${receiver.spec.type}' is verified by the receiver server, not here`);
    default:
      throw new ReceiverRequestError(`receiver type '${receiver.spec.type}' is not supported by this notification-controller`);
  }
}

const hashes: Record<string, number> = { sha1: 20, sha256: 32, sha512: 64 };

/** `<sha1|sha256|sha512>=<hex HMAC of the body keyed by the token>`, compared in constant time. */
function verifySignature(signature: string, body: Buffer, token: string, headerName: string): void {
  if (!signature) throw new ReceiverAuthError(`missing signature: no ${headerName} header`);
  const [algo, hex, ...rest] = signature.split("=");
  if (rest.length || !hex || !(algo in hashes)) throw new ReceiverAuthError(`unable to validate HMAC signature: invalid ${headerName} value (want sha1=, sha256= or sha512=<hex>)`);
  const got = Buffer.from(hex, "hex");
  const want = createHmac(algo, token).update(body).digest();
  if (got.length !== want.length || !timingSafeEqual(got, want)) {
    throw new ReceiverAuthError(`unable to validate HMAC signature: payload signature check failed (${headerName})`);
  }
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function allowEvent(receiver: Receiver, event: string, sender: string): string {
  const events = receiver.spec.events ?? [];
  if (events.length && !events.some((e) => e.toLowerCase() === event.toLowerCase())) {
    throw new ReceiverRequestError(`the ${sender} event '${event}' is not authorised`);
  }
  return event;
}

function decodeJson(body: Buffer, sender: string): void {
  try { JSON.parse(body.toString("utf8")); } catch (e) {
    throw new ReceiverRequestError(`cannot decode ${sender} webhook payload: ${(e as Error).message}`);
  }
}

/**
 * A CDEvent in a CloudEvents HTTP request (binary mode: `ce-type`, `ce-id`, `ce-source`,
 * `ce-specversion` headers; or structured mode, `application/cloudevents+json`), whose body is a
 * CDEvent: `context` {version, id, source, type (`dev.cdevents.<subject>.<predicate>.<version>`),
 * timestamp} and `subject`. Returns the event type without its version, for `spec.events`.
 */
function validateCDEvent(h: IncomingHttpHeaders, body: Buffer): string {
  let doc: Record<string, any>;
  try { doc = JSON.parse(body.toString("utf8")); } catch (e) { throw new ReceiverRequestError(`cannot decode CDEvent payload: ${(e as Error).message}`); }
  const structured = header(h, "Content-Type").startsWith("application/cloudevents+json");
  const cdevent = structured ? doc.data : doc;
  const ceType = structured ? String(doc.type ?? "") : header(h, "Ce-Type");
  if (!ceType) throw new ReceiverRequestError("not a CloudEvent: the Ce-Type header is missing");
  for (const k of structured ? ["id", "source", "specversion"] : ["Ce-Id", "Ce-Source", "Ce-Specversion"]) {
    if (!(structured ? doc[k] : header(h, k))) throw new ReceiverRequestError(`not a CloudEvent: ${k} is missing`);
  }
  const ctx = cdevent?.context;
  if (!ctx || typeof ctx !== "object") throw new ReceiverRequestError("invalid CDEvent: no context");
  for (const k of ["version", "id", "source", "type", "timestamp"]) if (!ctx[k]) throw new ReceiverRequestError(`invalid CDEvent: context.${k} is missing`);
  if (!/^dev\.cdevents\.[a-z]+\.[a-z]+\.\d+\.\d+\.\d+(-.+)?$/.test(ctx.type)) throw new ReceiverRequestError(`invalid CDEvent: context.type '${ctx.type}' is not dev.cdevents.<subject>.<predicate>.<version>`);
  if (!cdevent.subject || typeof cdevent.subject !== "object") throw new ReceiverRequestError("invalid CDEvent: no subject");
  if (ctx.type !== ceType) throw new ReceiverRequestError(`the CloudEvent type '${ceType}' does not match the CDEvent context.type '${ctx.type}'`);
  return ceType.replace(/\.\d+\.\d+\.\d+(-.+)?$/, "");
}
