import { expect } from "chai";
import { fluxCli } from "../../support/flux-cli";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ociRepositories } from "../../../controllers/source/oci/ocirepository-reconciler";
import { getCluster, newNamespace } from "../../support/cluster";
import { RunningControllers, startControllers } from "../../support/controllers";
import { OciRegistry, createSource, waitForSource } from "../../support/oci-registry";

describe("OCIRepository: driven by the upstream flux CLI", function () {
  let ctl: RunningControllers;
  let reg: OciRegistry;
  let flux: (...args: string[]) => Promise<string>;
  const content = (body: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-oci-src-"));
    fs.writeFileSync(path.join(dir, "app.yaml"), body);
    return dir;
  };
  before(async function () {
    this.timeout(120000);
    ctl = await startControllers();
    reg = await OciRegistry.start();
    const { kubeconfigPath } = await getCluster();
    flux = fluxCli(kubeconfigPath);
  });
  after(async () => { await ctl?.stop(); await reg?.close(); });

  it("lists, reconciles, suspends and resumes our OCIRepositories (flux get/reconcile/suspend/resume source oci)", async function () {
    const ns = await newNamespace();
    const d1 = await reg.push("app:stable", content("a: 1\n"));
    await createSource(ctl, ociRepositories, ns, "app", { url: reg.url("app"), insecure: true, ref: { tag: "stable" }, interval: "1h" });
    await waitForSource(ctl.client, ociRepositories, ns, "app", { ready: "True", revision: `stable@${d1}` });
    expect(await flux("get", "sources", "oci", "-n", ns)).to.match(/app\s+stable@sha256:[0-9a-f]+\s+False\s+True\s+stored artifact for digest/);
    const d2 = await reg.push("app:stable", content("a: 2\n"));
    expect(await flux("reconcile", "source", "oci", "app", "-n", ns)).to.contain(`fetched revision stable@${d2}`);
    await flux("suspend", "source", "oci", "app", "-n", ns);
    expect(await flux("get", "sources", "oci", "-n", ns)).to.match(/app\s+\S+\s+True\s+True/);
    expect(await flux("resume", "source", "oci", "app", "-n", ns)).to.match(/resumed|fetched revision/);
  });
});
