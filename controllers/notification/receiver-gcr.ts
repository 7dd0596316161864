// The gcr Receiver (Google Container Registry / Artifact Registry notifications), as Flux's
// receivers.md specifies it: the registry publishes to a Pub/Sub topic whose push subscription,
// with authentication enabled, POSTs each message to the webhook with
// `Authorization: Bearer <Google-signed OIDC ID token>` for the subscription's service account.
// The Receiver's Secret holds `token` (salts the path, as for every type), `email` (that service
// account) and `audience` (the token's expected `aud`, by default the push endpoint URL).
// The token is checked as Google's ID-token validator does it: `aud` equals the audience, `exp`
// not past (no skew), an RS256 signature with the key of Google's JWKS
// (https://www.googleapis.com/oauth2/v3/certs, or `--gcr-oidc-jwks-url`) whose `kid` is the
// header's; then as Flux adds: `iss` is `accounts.google.com` or `https://accounts.google.com`,
// `email` is the Secret's and `email_verified` is true.
// The body is a Pub/Sub push message, `{"message": {"data": base64(JSON), "messageId",
// "publishTime", ...}, "subscription"}`, whose data is the registry's notification
// (`{"action": "INSERT", "digest": ..., "tag": ...}`); any action is accepted, as Flux does
// (DELETE too). The resource filters see that notification as `req`, as in Flux.
import type { IncomingHttpHeaders } from "node:http";
import type { JsonWebKey } from "node:crypto";
import { ReceiverAuthError, ReceiverRequestError } from "./receiver-validate";
import { checkJwtSignature, goTime, parseBearerJwt, seconds } from "./receiver-oidc";

/** Google's public keys for the ID tokens it signs (service accounts, Pub/Sub push). */
export const DefaultGoogleJwksUrl = "https://www.googleapis.com/oauth2/v3/certs";
/** The `iss` of Google ID tokens (both forms occur). */
export const GoogleIssuers: readonly string[] = ["accounts.google.com", "https://accounts.google.com"];

/** What a gcr Receiver's Secret lacks beside `token`, in Flux's words plus what each is. */
export function gcrSecretProblem(namespace: string, name: string, data: Record<string, string>): string | undefined {
  const missing = ["email", "audience"].filter((k) => !data[k]);
  if (!missing.length) return undefined;
  const what: Record<string, string> = {
    email: "'email': the IAM service account set on the Pub/Sub push subscription for OIDC authentication",
    audience: "'audience': the 'aud' of its tokens, by default the push endpoint URL (https://<host>/hook/...)",
  };
  return `invalid '${namespace}/${name}' secret data: required field${missing.length > 1 ? "s" : ""} ${missing.map((k) => `'${k}'`).join(", ")} for a gcr Receiver (${missing.map((k) => what[k]).join("; ")})`;
}

/** The registry notification carried by the Pub/Sub message, as Flux hands it to the filters. */
export interface GcrNotification { action: string; digest: string; tag: string }

export interface GcrRequest {
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The Secret's `email` and `audience`. */
  email: string;
  audience: string;
  /** Google's JWKS (refresh: refetch, the cached set lacked the token's `kid`). */
  keys: (refresh: boolean) => Promise<JsonWebKey[]>;
  now?: number;
}

/** ReceiverAuthError (401) for a token that is not Google's for this subscription; ReceiverRequestError (400) for a payload that is not a registry notification. */
export async function verifyGcrRequest(r: GcrRequest): Promise<GcrNotification> {
  await authenticate(r);
  return decodeNotification(r.body);
}

async function authenticate(r: GcrRequest): Promise<void> {
  const fail = (m: string) => new ReceiverAuthError(`cannot authenticate GCR request: ${m}`);
  let jwt: ReturnType<typeof parseBearerJwt>;
  try { jwt = parseBearerJwt(r.headers); } catch (e) { throw fail((e as Error).message); }
  const { header, claims } = jwt;
  const aud = typeof claims.aud === "string" ? claims.aud : JSON.stringify(claims.aud ?? "<none>");
  if (claims.aud !== r.audience) throw fail(`invalid ID token: audience is '${aud}', want '${r.audience}'`);
  const exp = seconds(claims.exp);
  if (exp === undefined) throw fail("invalid ID token: it has no expiry (exp)");
  const now = r.now ?? Date.now();
  if (Math.floor(now / 1000) > exp) throw fail(`invalid ID token: token expired at ${goTime(exp)} (now ${new Date(now).toISOString()})`);
  const alg = String(header.alg ?? "");
  // Google's validator takes ES256 only from IAP's keys, whose tokens are not issued by accounts.google.com.
  if (alg !== "RS256") throw fail(`invalid ID token: expected a JWT signed with RS256 (Google's service account keys), found '${alg}'`);
  let signature: Awaited<ReturnType<typeof checkJwtSignature>>;
  try { signature = await checkJwtSignature(jwt, alg, r.keys); } catch (e) { throw fail(`cannot fetch Google's public keys: ${(e as Error).message}`); }
  if (signature === "no-key") throw fail(`invalid ID token: no key in Google's key set has the token's key id '${String(header.kid ?? "")}'`);
  if (signature === "bad") throw fail("invalid ID token: the signature does not verify with Google's key");
  const iss = typeof claims.iss === "string" ? claims.iss : "";
  if (!GoogleIssuers.includes(iss)) throw fail(`token issuer is '${iss}', want 'accounts.google.com' or 'https://accounts.google.com'`);
  const email = typeof claims.email === "string" ? claims.email : "";
  if (email !== r.email) throw fail(`token email is '${email}', want '${r.email}' (the Secret's 'email')`);
  if (claims.email_verified !== true) throw fail(`token email '${email}' is not verified`);
}

function decodeNotification(body: Buffer): GcrNotification {
  let push: unknown;
  try { push = JSON.parse(body.toString("utf8")); } catch (e) { throw new ReceiverRequestError(`cannot decode GCR webhook payload: ${(e as Error).message}`); }
  if (!isObject(push)) throw new ReceiverRequestError("cannot decode GCR webhook payload: not a Pub/Sub push message (a JSON object with 'message')");
  const message = push.message ?? {};
  if (!isObject(message)) throw new ReceiverRequestError("cannot decode GCR webhook payload: 'message' is not an object");
  for (const k of ["data", "messageId", "message_id", "publishTime", "subscription"]) {
    if (message[k] !== undefined && typeof message[k] !== "string") throw new ReceiverRequestError(`cannot decode GCR webhook payload: message.${k} is not a string`);
  }
  if (typeof message.publishTime === "string" && Number.isNaN(Date.parse(message.publishTime))) {
    throw new ReceiverRequestError(`cannot decode GCR webhook payload: message.publishTime '${message.publishTime}' is not an RFC 3339 time`);
  }
  const data = typeof message.data === "string" ? message.data : "";
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(data)) {
    throw new ReceiverRequestError("cannot decode GCR webhook body: message.data is not standard base64");
  }
  let n: unknown;
  try { n = JSON.parse(Buffer.from(data, "base64").toString("utf8")); } catch (e) {
    throw new ReceiverRequestError(`cannot decode GCR webhook body: message.data is not base64 of a JSON registry notification: ${(e as Error).message}`);
  }
  if (!isObject(n)) throw new ReceiverRequestError("cannot decode GCR webhook body: message.data is not a JSON object");
  for (const k of ["action", "digest", "tag"]) {
    if (n[k] !== undefined && typeof n[k] !== "string") throw new ReceiverRequestError(`cannot decode GCR webhook body: '${k}' is not a string`);
  }
  return { action: String(n.action ?? ""), digest: String(n.digest ?? ""), tag: String(n.tag ?? "") };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
