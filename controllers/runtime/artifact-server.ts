// HTTP file server over the artifact storage: GET and HEAD of stored files only, with
// Content-Length, an ETag and conditional GET; anything outside storage is refused.
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";

export interface ArtifactServer { server: http.Server; address: string; close(): Promise<void> }

export function serveArtifacts(root: string, listen: string): Promise<ArtifactServer> {
  const rootAbs = fs.realpathSync(path.resolve(root));
  const server = http.createServer((req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    let rel: string;
    try {
      rel = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    } catch {
      res.writeHead(400).end("bad path\n");
      return;
    }
    // The storage root is the Deployment's readiness probe (httpGet "/" on port http, as Flux's):
    // it answers 200 once the server is up, without listing what is stored.
    if (rel === "/") {
      res.writeHead(200, { "content-type": "text/plain" }).end(req.method === "HEAD" ? undefined : "ok\n");
      return;
    }
    // Resolve symlinks too: a link inside storage must not lead outside it.
    let abs: string;
    try {
      abs = fs.realpathSync(path.join(rootAbs, path.normalize(rel)));
    } catch {
      res.writeHead(404).end("not found\n");
      return;
    }
    if (!abs.startsWith(rootAbs + path.sep) || rel.split("/").includes("..")) {
      res.writeHead(403).end("forbidden\n");
      return;
    }
    let st: fs.Stats;
    try { st = fs.statSync(abs); } catch { res.writeHead(404).end("not found\n"); return; }
    if (!st.isFile() || /\.tmp-[0-9a-f]+$/.test(abs)) { res.writeHead(404).end("not found\n"); return; }
    const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    const headers = {
      "content-type": abs.endsWith(".tar.gz") || abs.endsWith(".tgz") ? "application/gzip" : "application/octet-stream",
      "content-length": String(st.size),
      "last-modified": st.mtime.toUTCString(),
      etag,
    };
    const inm = req.headers["if-none-match"];
    const ims = req.headers["if-modified-since"];
    if ((inm && inm === etag) || (!inm && ims && Date.parse(ims) >= Math.floor(st.mtimeMs / 1000) * 1000)) {
      res.writeHead(304, { etag, "last-modified": headers["last-modified"] }).end();
      return;
    }
    res.writeHead(200, headers);
    if (req.method === "HEAD") { res.end(); return; }
    fs.createReadStream(abs).on("error", () => res.destroy()).pipe(res);
  });
  const [host, portStr] = splitHostPort(listen);
  return new Promise((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(e.code === "EADDRINUSE" ? new Error(`--storage-addr ${listen}: address already in use`, { cause: e }) : e));
    server.listen(Number(portStr), host || "0.0.0.0", () => {
      const a = server.address() as import("node:net").AddressInfo;
      resolve({ server, address: `${a.address}:${a.port}`, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

export function splitHostPort(addr: string): [string, string] {
  const i = addr.lastIndexOf(":");
  if (i < 0) throw new Error(`address '${addr}' must be host:port (e.g. :9090 or 127.0.0.1:0)`);
  return [addr.slice(0, i), addr.slice(i + 1)];
}
