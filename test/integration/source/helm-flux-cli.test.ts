import { expect } from "chai";
import { fluxCli } from "../../support/flux-cli";
import { helmCharts } from "../../../controllers/source/helm/helmchart-reconciler";
import { helmRepositories } from "../../../controllers/source/helm/helmrepository-reconciler";
import { getCluster, newNamespace } from "../../support/cluster";
import { RunningControllers, startControllers } from "../../support/controllers";
import { HelmRepoServer } from "../../support/helm-repo";
import { createSource, waitForSource } from "../../support/oci-registry";

describe("HelmRepository and HelmChart: driven by the upstream flux CLI", function () {
  let ctl: RunningControllers;
  let repo: HelmRepoServer;
  let flux: (...args: string[]) => Promise<string>;
  before(async function () {
    this.timeout(120000);
    ctl = await startControllers();
    repo = await HelmRepoServer.start();
    await repo.addChart("app", "1.0.0");
    const { kubeconfigPath } = await getCluster();
    flux = fluxCli(kubeconfigPath);
  });
  after(async () => { await ctl?.stop(); await repo?.close(); });

  it("lists and reconciles them (flux get sources helm/chart, flux reconcile source helm/chart)", async function () {
    const ns = await newNamespace();
    await createSource(ctl, helmRepositories, ns, "charts", { url: repo.url, interval: "1h" });
    await createSource(ctl, helmCharts, ns, "app", { chart: "app", version: "1.x", sourceRef: { kind: "HelmRepository", name: "charts" }, interval: "1h" });
    await waitForSource(ctl.client, helmCharts, ns, "app", { ready: "True", revision: "1.0.0" });
    expect(await flux("get", "sources", "helm", "-n", ns)).to.match(/charts\s+sha256:[0-9a-f]+\s+False\s+True\s+stored artifact: revision 'sha256:/);
    expect(await flux("get", "sources", "chart", "-n", ns)).to.match(/app\s+1\.0\.0\s+False\s+True\s+pulled 'app' chart with version '1\.0\.0'/);
    await repo.addChart("app", "1.2.0");
    expect(await flux("reconcile", "source", "helm", "charts", "-n", ns)).to.match(/fetched revision sha256:/);
    expect(await flux("reconcile", "source", "chart", "app", "-n", ns)).to.contain("fetched revision 1.2.0");
  });
});
