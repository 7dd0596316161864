// The generic-oidc Receiver: a request carries `Authorization: Bearer <JWT>`; the provider in
// spec.oidcProviders whose issuerURL equals the token's `iss` verifies it, as Flux does with
// go-oidc: OIDC discovery (<issuer>/.well-known/openid-configuration, whose `issuer` must be
// the same), then `iss`, `aud` (the provider's audience, `notification-controller` by default),
// `exp` and `nbf` (5 minutes of skew), then the signature with a key of the issuer's JWKS
// (RS/PS/ES 256-512 and EdDSA, through node:crypto; `alg` must be one the discovery document
// lists, RS256 when it lists none). Then the provider's CEL `variables` (`vars.<name>`, in
// order) and `validations` over `claims`; every failing validation's message is returned.
// Discovery and JWKS are cached per issuer for a few minutes; an unknown `kid` refetches the
// key set once. The bearer parsing, key-set cache and signature check serve `gcr` too (receiver-gcr.ts).
import { createPublicKey, verify as cryptoVerify, constants, type JsonWebKey, type KeyObject } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { OIDCProvider, Receiver } from "../api/notification/v1/receiver";
import { ReceiverType } from "../api/notification/v1/receiver";
import { Reason } from "../api/meta";
import { NotificationReason } from "../api/notification/group-version";
import { CelError, compileBool, compileValue } from "../runtime/cel";
import { ReceiverAuthError } from "./receiver-validate";

export const DefaultOidcAudience = "notification-controller";
const allowedClockSkewMs = 5 * 60_000;
const cacheTtlMs = 5 * 60_000;
const fetchTimeoutMs = 10_000;

/** Variables of the resource filters: `claims` only for generic-oidc receivers, as in Flux. */
export const filterVariables = (r: Receiver): string[] => (r.spec.type === ReceiverType.GenericOIDC ? ["res", "req", "claims"] : ["res", "req"]);

type Claims = Record<string, unknown>;
interface Compiled { variables: Array<{ name: string; f: (v: Claims) => unknown }>; validations: Array<{ f: (v: Claims) => boolean; message: string }> }

function compileProvider(p: OIDCProvider): Compiled {
  const names = ["claims", "vars"];
  const out: Compiled = { variables: [], validations: [] };
  for (const v of p.variables ?? []) {
    try { out.variables.push({ name: v.name, f: compileValue(v.expression, names) }); } catch (e) {
      throw new CelError(`invalid expression for variable "${v.name}": ${(e as Error).message}`);
    }
  }
  for (const v of p.validations ?? []) {
    try { out.validations.push({ f: compileBool(v.expression, names), message: v.message }); } catch (e) {
      throw new CelError(`invalid expression for validation "${v.message}": ${(e as Error).message}`);
    }
  }
  return out;
}

/**
 * What in a Receiver's OIDC configuration cannot be served (Flux's checks, for API servers that
 * skipped the CRD's): ValidationFailed for the spec, InvalidCELExpression for an expression.
 */
export function oidcSpecProblem(r: Receiver): { reason: string; message: string } | undefined {
  const oidc = r.spec.type === ReceiverType.GenericOIDC;
  const providers = r.spec.oidcProviders ?? [];
  const invalid = (message: string) => ({ reason: NotificationReason.ValidationFailed, message });
  if (oidc && providers.length === 0) return invalid("generic-oidc receiver requires at least one oidcProvider");
  if (!oidc && providers.length > 0) return invalid("oidcProviders can only be set when type is generic-oidc");
  if (oidc && r.spec.secretRef) return invalid("secretRef cannot be set when type is generic-oidc");
  const seen = new Set<string>();
  for (const [i, p] of providers.entries()) {
    const at = `oidcProviders[${i}] (issuerURL="${p.issuerURL}")`;
    if (!p.issuerURL) return invalid(`oidcProviders[${i}]: issuerURL is required`);
    if (!/^https?:\/\//.test(p.issuerURL)) return invalid(`oidcProviders[${i}]: issuerURL "${p.issuerURL}" must start with http:// or https://`);
    if (seen.has(p.issuerURL)) return invalid(`oidcProviders[${i}]: duplicate issuerURL "${p.issuerURL}"`);
    seen.add(p.issuerURL);
    if (!p.validations?.length) {
      return invalid(`${at}: at least one validation is required; without validations any caller able to obtain a token from this issuer can trigger the Receiver`);
    }
    for (const [j, v] of (p.variables ?? []).entries()) {
      if (!v.name) return invalid(`${at}: variables[${j}]: name is required`);
      if (!v.expression) return invalid(`${at}: variables[${j}] (name="${v.name}"): expression is required`);
    }
    for (const [j, v] of p.validations.entries()) {
      if (!v.expression) return invalid(`${at}: validations[${j}]: expression is required`);
      if (!v.message) return invalid(`${at}: validations[${j}]: message is required`);
    }
    try { compileProvider(p); } catch (e) { return { reason: Reason.InvalidCELExpression, message: `${at}: ${(e as Error).message}` }; }
  }
  return undefined;
}

const b64json = (s: string, what: string): Record<string, unknown> => {
  try {
    const v = JSON.parse(Buffer.from(s, "base64url").toString("utf8"));
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not a JSON object");
    return v as Record<string, unknown>;
  } catch (e) {
    throw new ReceiverAuthError(`failed to parse bearer token: failed to decode token ${what}: ${(e as Error).message}`);
  }
};

interface Issuer { algorithms: string[]; jwksUri: string; fetchedAt: number }
interface KeySet { keys: JsonWebKey[]; fetchedAt: number }

async function getJson(url: string, what: string): Promise<Record<string, unknown>> {
  let res: Response;
  try { res = await fetch(url, { signal: AbortSignal.timeout(fetchTimeoutMs), headers: { accept: "application/json" } }); } catch (e) {
    throw new Error(`${what}: GET ${url}: ${(e as Error).cause ? String(((e as Error).cause as Error).message ?? (e as Error).cause) : (e as Error).message}`);
  }
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: GET ${url}: ${res.status} ${res.statusText}: ${text.slice(0, 200)}`);
  try { return JSON.parse(text) as Record<string, unknown>; } catch (e) { throw new Error(`${what}: GET ${url}: not JSON: ${(e as Error).message}`); }
}

const supportedAlgs = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];

/** Discovery documents per issuer URL, and key sets (JWKS) per URL. */
export class OidcKeyCache {
  readonly #issuers = new Map<string, Issuer>();
  readonly #keySets = new Map<string, KeySet>();

  async issuer(url: string, refresh = false): Promise<Issuer> {
    const cached = this.#issuers.get(url);
    if (cached && !refresh && Date.now() - cached.fetchedAt < cacheTtlMs) return cached;
    const discovery = await getJson(`${url.replace(/\/$/, "")}/.well-known/openid-configuration`, "OIDC discovery");
    if (discovery.issuer !== url) throw new Error(`oidc: issuer did not match the issuer returned by provider, expected "${url}" got "${String(discovery.issuer)}"`);
    if (typeof discovery.jwks_uri !== "string") throw new Error(`OIDC discovery of "${url}" has no jwks_uri`);
    const listed = Array.isArray(discovery.id_token_signing_alg_values_supported) ? discovery.id_token_signing_alg_values_supported.map(String) : [];
    const algorithms = listed.filter((a) => supportedAlgs.includes(a));
    const entry = { algorithms: algorithms.length ? algorithms : ["RS256"], jwksUri: discovery.jwks_uri, fetchedAt: Date.now() };
    this.#issuers.set(url, entry);
    return entry;
  }

  /** The keys of the JWKS at `url` (`{"keys": [...]}`), cached a few minutes. */
  async keySet(url: string, refresh = false, what = "OIDC key set"): Promise<JsonWebKey[]> {
    const cached = this.#keySets.get(url);
    if (cached && !refresh && Date.now() - cached.fetchedAt < cacheTtlMs) return cached.keys;
    const jwks = await getJson(url, what);
    if (!Array.isArray(jwks.keys)) throw new Error(`${what}: GET ${url}: not a JWKS (no "keys" array)`);
    const entry = { keys: jwks.keys as JsonWebKey[], fetchedAt: Date.now() };
    this.#keySets.set(url, entry);
    return entry.keys;
  }
}

function verifySignature(alg: string, key: KeyObject, data: Buffer, sig: Buffer): boolean {
  const hash = alg === "EdDSA" ? null : `sha${alg.slice(2)}`;
  if (alg.startsWith("RS")) return cryptoVerify(hash, data, key, sig);
  if (alg.startsWith("PS")) return cryptoVerify(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, sig);
  if (alg.startsWith("ES")) return cryptoVerify(hash, data, { key, dsaEncoding: "ieee-p1363" }, sig);
  return cryptoVerify(null, data, key, sig);
}

const keyType: Record<string, string> = { RS: "RSA", PS: "RSA", ES: "EC", Ed: "OKP" };

function matchingKeys(keys: JsonWebKey[], alg: string, kid: unknown): JsonWebKey[] {
  return keys.filter((k) => (kid === undefined || k.kid === kid) && k.kty === keyType[alg.slice(0, 2)] && (k.use === undefined || k.use === "sig")
    && (k.alg === undefined || k.alg === alg));
}

export const seconds = (v: unknown) => (typeof v === "number" ? v : undefined);
export const goTime = (s: number) => new Date(s * 1000).toISOString();

/** A bearer JWT, decoded but not verified. */
export interface BearerJwt { parts: [string, string, string]; header: Record<string, unknown>; claims: Claims }

/** The `Authorization: Bearer <JWT>` of a request, decoded; ReceiverAuthError when there is none or it is not a JWT. */
export function parseBearerJwt(headers: IncomingHttpHeaders): BearerJwt {
  const auth = String(headers.authorization ?? "");
  if (!auth.startsWith("Bearer ")) throw new ReceiverAuthError("the Authorization header is missing or malformed");
  const raw = auth.slice("Bearer ".length).trim();
  if (!raw) throw new ReceiverAuthError("the Authorization header is missing a bearer token");
  const parts = raw.split(".");
  if (parts.length !== 3) throw new ReceiverAuthError("failed to parse bearer token: token is not a JWT");
  return { parts: parts as [string, string, string], header: b64json(parts[0], "header"), claims: b64json(parts[1], "payload") };
}

/**
 * Checks the JWT's signature (algorithm `alg`, already allowed by the caller) with a key of
 * `keys(refresh)` whose `kid` is the header's: "no-key" when none fits even after one refetch
 * (the issuer may have rotated its keys since they were cached), "bad" when none verifies.
 */
export async function checkJwtSignature(jwt: BearerJwt, alg: string, keys: (refresh: boolean) => Promise<JsonWebKey[]>): Promise<"ok" | "no-key" | "bad"> {
  let candidates = matchingKeys(await keys(false), alg, jwt.header.kid);
  if (!candidates.length) candidates = matchingKeys(await keys(true), alg, jwt.header.kid);
  if (!candidates.length) return "no-key";
  const data = Buffer.from(`${jwt.parts[0]}.${jwt.parts[1]}`);
  const sig = Buffer.from(jwt.parts[2], "base64url");
  const ok = candidates.some((jwk) => {
    try { return verifySignature(alg, createPublicKey({ key: jwk, format: "jwk" }), data, sig); } catch { return false; }
  });
  return ok ? "ok" : "bad";
}

/**
 * Verifies the request's bearer token for a generic-oidc Receiver; returns the claims (for the
 * resource filters). ReceiverAuthError (401) when the request is not authenticated.
 */
export async function verifyOidcRequest(receiver: Receiver, headers: IncomingHttpHeaders, cache: OidcKeyCache, now = Date.now()): Promise<Claims> {
  const providers = receiver.spec.oidcProviders ?? [];
  if (!providers.length) throw new ReceiverAuthError("generic-oidc receiver has no oidcProviders configured");
  const jwt = parseBearerJwt(headers);
  const { header, claims } = jwt;
  const iss = claims.iss;
  if (typeof iss !== "string" || !iss) throw new ReceiverAuthError("failed to parse bearer token: token is missing the 'iss' claim");
  const provider = providers.find((p) => p.issuerURL === iss);
  if (!provider) throw new ReceiverAuthError(`no oidcProvider configured for issuer "${iss}"`);
  const initFailed = (e: unknown) => new ReceiverAuthError(`failed to initialize OIDC provider for issuer "${provider.issuerURL}": ${(e as Error).message}`);
  let issuer: Issuer;
  try { issuer = await cache.issuer(provider.issuerURL); } catch (e) { throw initFailed(e); }
  const fail = (m: string) => new ReceiverAuthError(`failed to verify OIDC token: oidc: ${m}`);
  const audience = provider.audience || DefaultOidcAudience;
  const aud = Array.isArray(claims.aud) ? claims.aud.map(String) : typeof claims.aud === "string" ? [claims.aud] : [];
  if (!aud.includes(audience)) throw fail(`expected audience "${audience}" got ${JSON.stringify(aud)}`);
  const exp = seconds(claims.exp);
  if (exp === undefined) throw fail("token has no expiry (exp)");
  if (now > exp * 1000) throw fail(`token is expired (Token Expiry: ${goTime(exp)})`);
  const nbf = seconds(claims.nbf);
  if (nbf !== undefined && now + allowedClockSkewMs < nbf * 1000) throw fail(`current time ${new Date(now).toISOString()} before the nbf (not before) time: ${goTime(nbf)}`);

  const alg = String(header.alg ?? "");
  if (!issuer.algorithms.includes(alg)) throw fail(`id token signed with unsupported algorithm, expected ${JSON.stringify(issuer.algorithms)} got "${alg}"`);
  let signature: Awaited<ReturnType<typeof checkJwtSignature>>;
  try { signature = await checkJwtSignature(jwt, alg, (refresh) => cache.keySet(issuer.jwksUri, refresh)); } catch (e) { throw initFailed(e); }
  if (signature !== "ok") throw fail("failed to verify signature: failed to verify id token signature");

  const compiled = compileProvider(provider);
  const vars: Claims = {};
  const env = { claims, vars };
  for (const v of compiled.variables) {
    try { vars[v.name] = v.f(env); } catch (e) { throw new ReceiverAuthError(`failed to evaluate variable "${v.name}": ${(e as Error).message}`); }
  }
  const failures: string[] = [];
  for (const v of compiled.validations) {
    let passed: boolean;
    try { passed = v.f(env); } catch (e) { throw new ReceiverAuthError(`failed to evaluate validation: ${(e as Error).message}`); }
    if (!passed) failures.push(v.message);
  }
  if (failures.length) throw new ReceiverAuthError(`token validation failed: ${failures.join("; ")}`);
  return claims;
}
