// A TCP proxy in front of the API server, to make it "restart" for one client: `cut()` drops
// every connection and refuses new ones until `restore()`. TLS passes through untouched.
import * as net from "node:net";
import { onTeardown } from "../../support/teardown";

export interface TcpProxy { port: number; cut(): void; restore(): void; close(): Promise<void> }

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let down = false;
  const server = net.createServer((client) => {
    if (down) { client.destroy(); return; }
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => { client.destroy(); upstream.destroy(); });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const proxy: TcpProxy = {
    port: (server.address() as net.AddressInfo).port,
    cut() { down = true; for (const s of sockets) s.destroy(); },
    restore() { down = false; },
    close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
  onTeardown(proxy.close);
  return proxy;
}
