// Sending an event to a Provider. `generic`: the event JSON as it is, with the emitting
// controller in a `gotk-component` header and the Secret's headers; `generic-hmac`: the same
// plus `X-Signature: sha256=<hex HMAC of the body, keyed by the token>`; `slack`: an incoming
// webhook message (or chat.postMessage with a bearer token).
import { createHmac } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import { ProviderType } from "../api/notification/v1beta3/provider";
import type { FluxEvent } from "./event";
import { NotifierConfig, redact } from "./provider-config";

/** Flux's header naming the controller an event came from. */
export const ComponentHeader = "gotk-component";
export const SignatureHeader = "X-Signature";

export class NotifierError extends Error {
  override readonly name = "NotifierError";
}

/** `sha256=<hex>`: the HMAC Flux's generic-hmac provider sends. */
export function hmacSignature(body: string | Buffer, key: string): string {
  return `sha256=${createHmac("sha256", key).update(body).digest("hex")}`;
}

/** Posts `ev` to the Provider; resolves on a 2xx answer, NotifierError otherwise. */
export async function sendEvent(cfg: NotifierConfig, ev: FluxEvent): Promise<void> {
  switch (cfg.type) {
    case ProviderType.Generic:
    case ProviderType.GenericHMAC: {
      const body = JSON.stringify(ev);
      const headers: Record<string, string> = { [ComponentHeader]: ev.reportingController, ...cfg.headers };
      if (cfg.type === ProviderType.GenericHMAC) headers[SignatureHeader] = hmacSignature(body, cfg.token!);
      return post(cfg, body, headers);
    }
    case ProviderType.Slack:
      return post(cfg, JSON.stringify(slackMessage(cfg, ev)), cfg.token ? { Authorization: `Bearer ${cfg.token}` } : {});
    default:
      throw new NotifierError(`provider type '${cfg.type}' is not supported`);
  }
}

function slackMessage(cfg: NotifierConfig, ev: FluxEvent): Record<string, unknown> {
  const io = ev.involvedObject;
  const fields = Object.entries(ev.metadata ?? {}).sort(([a], [b]) => a.localeCompare(b))
    .map(([title, value]) => ({ title, value, short: false }));
  return {
    ...(cfg.channel ? { channel: cfg.channel } : {}),
    ...(cfg.username ? { username: cfg.username } : {}),
    attachments: [{
      color: ev.severity === "error" ? "danger" : "good",
      author_name: `${io.kind}/${io.name}.${io.namespace}`,
      text: ev.message,
      mrkdwn_in: ["text"],
      ...(fields.length ? { fields } : {}),
    }],
  };
}

/** One JSON POST with the Provider's TLS material and timeout; the error names only the origin. */
function post(cfg: NotifierConfig, body: string, extra: Record<string, string>): Promise<void> {
  const url = cfg.address;
  const lib = url.protocol === "https:" ? https : http;
  const headers = { "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(body)), ...extra };
  return new Promise((resolve, reject) => {
    const req = lib.request(url, {
      method: "POST", headers, timeout: cfg.timeoutMs,
      ...(url.protocol === "https:" && cfg.tls ? { ca: cfg.tls.ca, cert: cfg.tls.cert, key: cfg.tls.key } : {}),
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => { if (chunks.length < 16) chunks.push(c); });
      res.on("end", () => {
        const code = res.statusCode ?? 0;
        if (code >= 200 && code < 300) return resolve();
        const text = Buffer.concat(chunks).toString("utf8").slice(0, 200).trim();
        reject(new NotifierError(`POST ${redact(url)} failed with status code ${code}${text ? `: ${text}` : ""}`));
      });
      res.on("error", (e) => reject(new NotifierError(`POST ${redact(url)}: ${e.message}`)));
    });
    req.on("timeout", () => req.destroy(new Error(`timed out after ${cfg.timeoutMs} ms`)));
    req.on("error", (e) => reject(new NotifierError(`POST ${redact(url)}: ${e.message}`)));
    req.end(body);
  });
}
