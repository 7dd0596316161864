// The process's HTTP endpoints: /metrics (Prometheus text), /healthz (alive) and /readyz
// (ready to serve). Flux listens on --metrics-addr (:8080) and --health-addr (:9440).
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export type Probe = () => boolean | Promise<boolean>;

export interface EndpointServerOptions {
  /** "host:port", ":port" (all interfaces), or "0" / ":0" for a free port. */
  addr: string;
  registry?: Registry;
  healthz?: Probe;
  readyz?: Probe;
}

export function parseAddr(addr: string): { host?: string; port: number } {
  const i = addr.lastIndexOf(":");
  const host = i > 0 ? addr.slice(0, i).replace(/^\[|\]$/g, "") : undefined;
  const port = Number(i >= 0 ? addr.slice(i + 1) : addr);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid listen address "${addr}"`);
  return { host, port };
}

export class EndpointServer {
  readonly #opts: EndpointServerOptions;
  #server?: http.Server;

  constructor(opts: EndpointServerOptions) { this.#opts = opts; }

  /** The bound port (after start). */
  get port(): number { return (this.#server?.address() as AddressInfo | null)?.port ?? 0; }

  async start(): Promise<void> {
    const { host, port } = parseAddr(this.#opts.addr);
    const server = http.createServer((req, res) => { void this.#handle(req, res); });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => { server.off("error", reject); resolve(); });
    });
    this.#server = server;
  }

  async close(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    if (!s) return;
    s.closeAllConnections?.();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    try {
      if (path === "/metrics" && this.#opts.registry) {
        const body = await this.#opts.registry.metrics();
        res.writeHead(200, { "content-type": this.#opts.registry.contentType }).end(body);
      } else if (path === "/healthz" || path === "/readyz") {
        const probe = path === "/healthz" ? this.#opts.healthz : this.#opts.readyz;
        const ok = probe ? await probe() : true;
        res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" }).end(ok ? "ok" : "not ready");
      } else {
        res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      }
    } catch (e) {
      res.writeHead(500, { "content-type": "text/plain" }).end((e as Error).message);
    }
  }
}
