import { expect } from "chai";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { serveArtifacts, ArtifactServer } from "../../../controllers/runtime/artifact-server";

/** A raw request, so the path reaches the server exactly as written (no client normalisation). */
function rawGet(port: number, rawPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => s.write(`GET ${rawPath} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    let data = "";
    s.on("data", (c) => (data += c));
    s.on("end", () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(data)?.[1] ?? 0)));
    s.on("error", reject);
  });
}

describe("artifact server", function () {
  let root: string;
  let srv: ArtifactServer;
  let base: string;
  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-srv-"));
    fs.mkdirSync(path.join(root, "gitrepository/ns/app"), { recursive: true });
    fs.writeFileSync(path.join(root, "gitrepository/ns/app/abc.tar.gz"), Buffer.alloc(1234, 7));
    fs.writeFileSync(path.join(root, "gitrepository/ns/app/abc.tar.gz.tmp-0a1b2c3d"), "partial");
    fs.writeFileSync(path.join(path.dirname(root), "secret-outside.txt"), "secret");
    fs.symlinkSync("/etc/passwd", path.join(root, "gitrepository/ns/app/link.tar.gz"));
    srv = await serveArtifacts(root, "127.0.0.1:0");
    base = `http://${srv.address}`;
  });
  after(async () => { await srv.close(); fs.rmSync(root, { recursive: true, force: true }); });

  it("serves a stored artifact with its length, type and an ETag", async function () {
    const res = await fetch(`${base}/gitrepository/ns/app/abc.tar.gz`);
    expect(res.status).to.equal(200);
    expect(res.headers.get("content-length")).to.equal("1234");
    expect(res.headers.get("content-type")).to.equal("application/gzip");
    expect(res.headers.get("etag")).to.match(/^".+"$/);
    expect((await res.arrayBuffer()).byteLength).to.equal(1234);
  });

  it("answers its root with 200 and no listing: the Deployment's readiness probe is GET / on port http", async function () {
    const res = await fetch(`${base}/`);
    expect(res.status).to.equal(200);
    const body = await res.text();
    expect(body).to.not.contain("gitrepository");
  });

  it("answers HEAD without a body", async function () {
    const res = await fetch(`${base}/gitrepository/ns/app/abc.tar.gz`, { method: "HEAD" });
    expect(res.status).to.equal(200);
    expect(res.headers.get("content-length")).to.equal("1234");
    expect((await res.arrayBuffer()).byteLength).to.equal(0);
  });

  it("answers a conditional GET with 304 Not Modified", async function () {
    const first = await fetch(`${base}/gitrepository/ns/app/abc.tar.gz`);
    await first.arrayBuffer();
    const etag = first.headers.get("etag")!;
    expect((await fetch(`${base}/gitrepository/ns/app/abc.tar.gz`, { headers: { "if-none-match": etag } })).status).to.equal(304);
    const lm = first.headers.get("last-modified")!;
    expect((await fetch(`${base}/gitrepository/ns/app/abc.tar.gz`, { headers: { "if-modified-since": lm } })).status).to.equal(304);
  });

  it("refuses path traversal, symlinks out of storage, half-written files and other methods", async function () {
    const port = Number(srv.address.split(":")[1]);
    for (const p of ["/../secret-outside.txt", "/gitrepository/../../secret-outside.txt", "/%2e%2e/secret-outside.txt", "/..%2fsecret-outside.txt"]) {
      expect(await rawGet(port, p), p).to.be.oneOf([400, 403, 404]);
    }
    expect((await fetch(`${base}/gitrepository/ns/app/link.tar.gz`)).status).to.equal(403);
    expect((await fetch(`${base}/gitrepository/ns/app/abc.tar.gz.tmp-0a1b2c3d`)).status).to.equal(404);
    expect((await fetch(`${base}/gitrepository/ns/app/missing.tar.gz`)).status).to.equal(404);
    expect((await fetch(`${base}/gitrepository/ns/app`)).status).to.equal(404);
    expect((await fetch(`${base}/gitrepository/ns/app/abc.tar.gz`, { method: "DELETE" })).status).to.equal(405);
    expect(fs.existsSync(path.join(root, "gitrepository/ns/app/abc.tar.gz"))).to.equal(true);
  });
});
