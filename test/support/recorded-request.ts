// One parsed HTTP request, as the loopback recording servers (notification recorders, webhook
// sinks) keep it: method, path, headers, the body as text, and the body as JSON when it is JSON.
import type * as http from "node:http";

export interface RecordedRequest { method: string; path: string; headers: http.IncomingHttpHeaders; body: string; json: any }

/** Reads the whole request body and parses it (json is undefined unless the body is JSON). */
export function readRecordedRequest(req: http.IncomingMessage): Promise<RecordedRequest> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("error", reject);
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let json: unknown;
      try { json = JSON.parse(body); } catch { json = undefined; }
      resolve({ method: req.method ?? "", path: req.url ?? "/", headers: req.headers, body, json });
    });
  });
}
