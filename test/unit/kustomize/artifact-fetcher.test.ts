import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { ArtifactFetchError, ArtifactFetcher, ArtifactNotFoundError } from "../../../controllers/runtime/artifact-fetcher";

function tarGz(files: Record<string, string>): Buffer {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fetch-test-"));
  try {
    for (const [p, c] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
      fs.writeFileSync(path.join(dir, p), c);
    }
    return execFileSync("tar", ["-cz", "-C", dir, "."]);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
}

describe("kustomize: artifact fetcher", function () {
  const body = tarGz({ "app/cm.yaml": "kind: ConfigMap\n" });
  const digest = `sha256:${createHash("sha256").update(body).digest("hex")}`;
  let server: http.Server;
  let base: string;
  let hits = 0;
  before(async () => {
    server = http.createServer((req, res) => {
      hits++;
      if (req.url === "/a.tar.gz") res.end(body);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it("downloads, verifies and unpacks in memory, once per digest", async () => {
    const f = new ArtifactFetcher();
    hits = 0;
    const [a, b] = await Promise.all([f.fetch({ url: `${base}/a.tar.gz`, digest }), f.fetch({ url: `${base}/a.tar.gz`, digest })]);
    await f.fetch({ url: `${base}/a.tar.gz`, digest });
    expect(a.get("app/cm.yaml")?.toString()).to.equal("kind: ConfigMap\n");
    expect(b).to.equal(a);
    expect(hits, "one download for concurrent and later fetches").to.equal(1);
    f.close();
  });

  it("refuses a digest mismatch and reports a missing artifact", async () => {
    const f = new ArtifactFetcher({ retries: 0 });
    const bad = `sha256:${"0".repeat(64)}`;
    let err: unknown;
    try { await f.fetch({ url: `${base}/a.tar.gz`, digest: bad }); } catch (e) { err = e; }
    expect(err).to.be.instanceOf(ArtifactFetchError);
    expect((err as Error).message).to.equal(`failed to verify artifact: computed digest doesn't match '${bad}'`);
    err = undefined;
    try { await f.fetch({ url: `${base}/gone.tar.gz`, digest }); } catch (e) { err = e; }
    expect(err).to.be.instanceOf(ArtifactNotFoundError);
    f.close();
  });
});
