// A small forward HTTP proxy (absolute-URI requests, optional Basic proxy auth) on 127.0.0.1,
// to test that git traffic really goes through spec.proxySecretRef.
import * as http from "node:http";
import { AddressInfo } from "node:net";
import { onTeardown } from "./teardown";

export interface TestProxy { url: string; requests: string[]; close(): Promise<void> }

export async function startHttpProxy(auth?: { username: string; password: string }): Promise<TestProxy> {
  const requests: string[] = [];
  const expected = auth ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}` : undefined;
  const server = http.createServer((req, res) => {
    if (expected && req.headers["proxy-authorization"] !== expected) {
      res.writeHead(407, { "proxy-authenticate": 'Basic realm="proxy"' }).end();
      return;
    }
    requests.push(`${req.method} ${req.url}`);
    const target = new URL(req.url ?? "");
    const headers = { ...req.headers };
    delete headers["proxy-authorization"];
    delete headers["proxy-connection"];
    const up = http.request({ host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on("error", () => res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  const close = () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); });
  onTeardown(close);
  return { url: `http://127.0.0.1:${port}`, requests, close };
}
