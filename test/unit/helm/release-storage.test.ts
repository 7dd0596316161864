// Helm's storage encoding of a release (the `release` value of a `helm.sh/release.v1` Secret):
// what markStoredReleaseFailed writes back must read as helm writes it, base64(gzip(JSON))
// inside the API's base64, and the lock states are exactly helm's pending ones.
import { expect } from "chai";
import * as zlib from "node:zlib";
import { decodeRelease, encodeRelease, isPendingStatus } from "../../../controllers/helm/release-storage";

describe("helm-controller: release storage encoding", () => {
  const release = { name: "web", namespace: "apps", version: 2, info: { status: "pending-upgrade", description: "Preparing upgrade" },
    chart: { metadata: { name: "app", version: "2.0.0" } }, config: { replicas: 2 }, manifest: "---\nkind: ConfigMap\n" };

  it("decodes what it encodes, as helm's gzip inside base64 inside the Secret's base64", () => {
    const data = encodeRelease(release);
    expect(decodeRelease(data)).to.deep.equal(release);
    const inner = Buffer.from(Buffer.from(data, "base64").toString("utf8"), "base64");
    expect([...inner.subarray(0, 3)]).to.deep.equal([0x1f, 0x8b, 0x08]);
    expect(JSON.parse(zlib.gunzipSync(inner).toString("utf8")).info.status).to.equal("pending-upgrade");
  });

  it("reads a release helm stored without gzip", () => {
    const plain = Buffer.from(Buffer.from(JSON.stringify(release)).toString("base64")).toString("base64");
    expect(decodeRelease(plain).version).to.equal(2);
  });

  it("counts only helm's pending states as a lock", () => {
    for (const s of ["pending-install", "pending-upgrade", "pending-rollback"]) expect(isPendingStatus(s), s).to.equal(true);
    for (const s of ["deployed", "failed", "superseded", "uninstalled", "uninstalling", "unknown", undefined]) expect(isPendingStatus(s), String(s)).to.equal(false);
  });
});
