// AWS Signature Version 4 (header form) on node:crypto, as S3 and every S3-compatible store
// expect it: canonical request -> string to sign -> HMAC chain over date, region, service.
// Pure: the caller passes the clock, so the AWS documented examples are exact unit tests.
import { createHash, createHmac } from "node:crypto";

export interface AwsCredentials { accessKeyId: string; secretAccessKey: string; sessionToken?: string }

export interface SigningInput {
  method: string;
  url: URL;
  /** Headers to sign besides host (x-amz-date is added); names in any case. */
  headers: Record<string, string>;
  /** Hex sha256 of the body, or `UNSIGNED-PAYLOAD`. */
  payloadHash: string;
  credentials: AwsCredentials;
  region: string;
  service: string;
  date: Date;
  /** S3 signs the path as sent; other services encode it once more (default: true for s3). */
  singleEncodePath?: boolean;
}

export interface Signed {
  /** The headers to send: the input ones plus x-amz-date (+ token) and authorization. */
  headers: Record<string, string>;
  canonicalRequest: string;
  stringToSign: string;
  signature: string;
}

export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const ALGORITHM = "AWS4-HMAC-SHA256";

export const sha256Hex = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex");
const hmac = (key: Buffer | string, data: string): Buffer => createHmac("sha256", key).update(data, "utf8").digest();

/** RFC 3986 percent-encoding of everything but unreserved characters (and '/' when kept). */
export function uriEncode(s: string, keepSlash = false): string {
  let out = "";
  for (const byte of Buffer.from(s, "utf8")) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c) || (keepSlash && c === "/")) out += c;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** `20130524T000000Z` */
export function amzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

function canonicalQuery(url: URL): string {
  const pairs = [...url.searchParams.entries()].map(([k, v]) => [uriEncode(k), uriEncode(v)]);
  pairs.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

function canonicalPath(url: URL, singleEncode: boolean): string {
  // url.pathname is already percent-encoded the way the request sends it.
  const p = url.pathname || "/";
  if (singleEncode) return p;
  return p.split("/").map((seg) => uriEncode(decodeURIComponent(seg))).join("/");
}

/** The signing key for a day, region and service. */
export function signingKey(secret: string, day: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), service), "aws4_request");
}

export function signRequest(input: SigningInput): Signed {
  const stamp = amzDate(input.date);
  const day = stamp.slice(0, 8);
  const headers: Record<string, string> = { ...input.headers, "x-amz-date": stamp };
  if (input.credentials.sessionToken) headers["x-amz-security-token"] = input.credentials.sessionToken;
  const toSign = new Map<string, string>();
  toSign.set("host", input.url.host);
  for (const [k, v] of Object.entries(headers)) toSign.set(k.toLowerCase(), String(v).trim().replace(/\s+/g, " "));
  const names = [...toSign.keys()].sort();
  const signedHeaders = names.join(";");
  const canonicalRequest = [
    input.method.toUpperCase(),
    canonicalPath(input.url, input.singleEncodePath ?? input.service === "s3"),
    canonicalQuery(input.url),
    names.map((n) => `${n}:${toSign.get(n)}\n`).join(""),
    signedHeaders,
    input.payloadHash,
  ].join("\n");
  const scope = `${day}/${input.region}/${input.service}/aws4_request`;
  const stringToSign = [ALGORITHM, stamp, scope, sha256Hex(canonicalRequest)].join("\n");
  const signature = createHmac("sha256", signingKey(input.credentials.secretAccessKey, day, input.region, input.service))
    .update(stringToSign, "utf8").digest("hex");
  headers.authorization = `${ALGORITHM} Credential=${input.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return { headers, canonicalRequest, stringToSign, signature };
}
