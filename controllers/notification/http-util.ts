// Small HTTP helpers shared by the event and receiver servers: bounded body reads, and a
// listener on a Go-style address (":9690", "127.0.0.1:0") that reports the bound port.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { parseAddr } from "../runtime/endpoint-server";

export class BodyTooLargeError extends Error {
  override readonly name = "BodyTooLargeError";
}

/** The request body, or BodyTooLargeError past `limit` bytes (webhook senders are untrusted). */
export function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new BodyTooLargeError(`request body exceeds the maximum size of ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** An HTTP server listening on `addr`; closes with its open connections. */
export class Listener {
  readonly #server: http.Server;
  #listening = false;

  constructor(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
    this.#server = http.createServer(handler);
  }

  async listen(addr: string): Promise<void> {
    const { host, port } = parseAddr(addr);
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, host, () => { this.#server.off("error", reject); resolve(); });
    });
    this.#listening = true;
  }

  get port(): number { return (this.#server.address() as AddressInfo | null)?.port ?? 0; }

  /** `http://host:port` to reach the server from this machine. */
  get url(): string {
    const a = this.#server.address() as AddressInfo | null;
    const host = !a || a.address === "::" || a.address === "0.0.0.0" ? "127.0.0.1" : a.address.includes(":") ? `[${a.address}]` : a.address;
    return `http://${host}:${this.port}`;
  }

  async close(): Promise<void> {
    if (!this.#listening) return;
    this.#listening = false;
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

export function reply(res: http.ServerResponse, code: number, text = ""): void {
  if (res.headersSent) return;
  res.writeHead(code, { "content-type": "text/plain; charset=utf-8" }).end(text ? `${text}\n` : "");
}
