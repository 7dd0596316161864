import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { OCIRepository } from "../../../controllers/api/source/v1/oci-repository";
import { ociRepositories } from "../../../controllers/source/oci/ocirepository-reconciler";
import { newNamespace } from "../../support/cluster";
import { RunningControllers, startControllers } from "../../support/controllers";
import { findFreePort } from "../../support/git-cli";
import { OciRegistry, conditionOf, createSource, requestReconcile, waitForSource } from "../../support/oci-registry";

function contentDir(body = "kind: ConfigMap\n"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-oci-src-"));
  fs.writeFileSync(path.join(dir, "app.yaml"), body);
  return dir;
}

describe("OCIRepository: bad input and faults", function () {
  let ctl: RunningControllers;
  let reg: OciRegistry;
  before(async function () {
    this.timeout(120000);
    ctl = await startControllers();
    reg = await OciRegistry.start();
    await reg.push("app:1.0.0", contentDir());
  });
  after(async () => { await ctl?.stop(); await reg?.close(); });

  it("reports an unreachable registry and keeps retrying", async function () {
    const ns = await newNamespace();
    const port = await findFreePort();
    await createSource(ctl, ociRepositories, ns, "r", { url: `oci://127.0.0.1:${port}/app`, insecure: true });
    const r = await waitForSource<OCIRepository>(ctl.client, ociRepositories, ns, "r", { ready: "False", reason: "OCIArtifactPullFailed",
      message: new RegExp(`failed to determine artifact digest: .*connection refused \\(is the server running at 127\\.0\\.0\\.1:${port}\\?\\)`) });
    expect(conditionOf(r, "Reconciling")).to.include({ status: "True", reason: "ProgressingWithRetry" });
    expect(conditionOf(r, "FetchFailed")).to.include({ status: "True", reason: "OCIArtifactPullFailed" });
  });

  it("reports a missing tag, and no tag in a semver range", async function () {
    const ns = await newNamespace();
    await createSource(ctl, ociRepositories, ns, "tag", { url: reg.url("app"), insecure: true, ref: { tag: "9.9.9" } });
    await createSource(ctl, ociRepositories, ns, "range", { url: reg.url("app"), insecure: true, ref: { semver: ">=5.0.0" } });
    await createSource(ctl, ociRepositories, ns, "repo", { url: reg.url("nothing-here"), insecure: true, ref: { semver: "*" } });
    await waitForSource(ctl.client, ociRepositories, ns, "tag", { ready: "False", reason: "OCIArtifactPullFailed",
      message: /failed to determine artifact digest: tag '9\.9\.9' not found in 127\.0\.0\.1:\d+\/app \(MANIFEST_UNKNOWN\): push it or fix spec\.ref/ });
    await waitForSource(ctl.client, ociRepositories, ns, "range", { ready: "False", reason: "ReadOperationFailed",
      message: /failed to determine the artifact tag for 'oci:\/\/127\.0\.0\.1:\d+\/app': no match found for semver: >=5\.0\.0/ });
    await waitForSource(ctl.client, ociRepositories, ns, "repo", { ready: "False", reason: "ReadOperationFailed",
      message: /repository 127\.0\.0\.1:\d+\/nothing-here not found \(NAME_UNKNOWN\): push an artifact or fix spec\.url/ });
  });

  it("stalls on configuration no retry can fix: a tag in the URL, an invalid range, an unknown layer type", async function () {
    const ns = await newNamespace();
    await createSource(ctl, ociRepositories, ns, "url", { url: `${reg.url("app")}:1.0.0`, insecure: true });
    await createSource(ctl, ociRepositories, ns, "range", { url: reg.url("app"), insecure: true, ref: { semver: "not a range!" } });
    await createSource(ctl, ociRepositories, ns, "layer", { url: reg.url("app"), insecure: true, ref: { tag: "1.0.0" }, layerSelector: { mediaType: "application/x-nope" } });
    const url = await waitForSource<OCIRepository>(ctl.client, ociRepositories, ns, "url", { ready: "False", reason: "URLInvalid",
      message: /URL validation failed for 'oci:\/\/127\.0\.0\.1:\d+\/app:1\.0\.0': URL must not contain a tag; remove ':1\.0\.0'/ });
    expect(conditionOf(url, "Stalled")).to.include({ status: "True", reason: "URLInvalid" });
    expect(conditionOf(url, "Reconciling")).to.equal(undefined);
    const range = await waitForSource<OCIRepository>(ctl.client, ociRepositories, ns, "range", { ready: "False", message: /semver 'not a range!' parse error/ });
    expect(conditionOf(range, "Stalled")).to.include({ status: "True" });
    await waitForSource(ctl.client, ociRepositories, ns, "layer", { ready: "False", reason: "OCIArtifactLayerOperationFailed",
      message: /failed to find layer with media type 'application\/x-nope' in artifact \(it has: application\/vnd\.cncf\.flux\.content\.v1\.tar\+gzip\)/ });
  });

  it("has the API server reject a URL that is not oci://", async function () {
    const ns = await newNamespace();
    let err: Error | undefined;
    try { await createSource(ctl, ociRepositories, ns, "r", { url: `https://${reg.host}/app` }); } catch (e) { err = e as Error; }
    expect(err?.message).to.match(/spec\.url.*should match '\^oci:\/\/\.\*\$'/);
  });

  it("keeps the last artifact in status and storage while the registry is down, and recovers", async function () {
    const ns = await newNamespace();
    await createSource(ctl, ociRepositories, ns, "r", { url: reg.url("app"), insecure: true, ref: { semver: "1.x" } });
    const good = await waitForSource<OCIRepository>(ctl.client, ociRepositories, ns, "r", { ready: "True" });
    await reg.stop();
    try {
      await requestReconcile(ctl.client, ociRepositories, ns, "r", "down");
      const down = await waitForSource<OCIRepository>(ctl.client, ociRepositories, ns, "r", { ready: "False", reason: "ReadOperationFailed", message: /connection refused/ });
      expect(down.status!.artifact).to.deep.equal(good.status!.artifact);
      expect((await fetch(good.status!.artifact!.url)).status).to.equal(200);
    } finally {
      await reg.start();
    }
    const d = await reg.push("app:1.1.0", contentDir("kind: Secret\n"));
    await requestReconcile(ctl.client, ociRepositories, ns, "r", "up");
    await waitForSource(ctl.client, ociRepositories, ns, "r", { ready: "True", revision: `1.1.0@${d}` }, 60000);
  });

  it("keeps serving other objects while one fails", async function () {
    const ns = await newNamespace();
    await createSource(ctl, ociRepositories, ns, "broken", { url: `oci://127.0.0.1:${await findFreePort()}/x`, insecure: true });
    await createSource(ctl, ociRepositories, ns, "fine", { url: reg.url("app"), insecure: true, ref: { tag: "1.0.0" } });
    await waitForSource(ctl.client, ociRepositories, ns, "fine", { ready: "True" });
    await waitForSource(ctl.client, ociRepositories, ns, "broken", { ready: "False" });
  });
});
