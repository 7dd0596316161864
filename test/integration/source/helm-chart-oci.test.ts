import { expect } from "chai";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { HelmChart } from "../../../controllers/api/source/v1/helm-chart";
import { helmCharts } from "../../../controllers/source/helm/helmchart-reconciler";
import { helmRepositories } from "../../../controllers/source/helm/helmrepository-reconciler";
import { newNamespace } from "../../support/cluster";
import { RunningControllers, startControllers } from "../../support/controllers";
import { helmCreate, helmPackage } from "../../support/helm-repo";
import { OciRegistry, conditionOf, createSource, waitForSource } from "../../support/oci-registry";

const secrets = { group: "", version: "v1", plural: "secrets", kind: "Secret" };

describe("HelmChart: charts from an OCI HelmRepository", function () {
  let ctl: RunningControllers;
  let reg: OciRegistry;
  let v020: Buffer;
  before(async function () {
    this.timeout(120000);
    ctl = await startControllers();
    reg = await OciRegistry.start({ basicAuth: { username: "helm", password: "pw" } });
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-ocicharts-"));
    for (const v of ["0.1.0", "0.2.0", "0.3.0-beta.1"]) {
      const tgz = await helmPackage(await helmCreate(path.join(tmp, v), "web", v), tmp);
      if (v === "0.2.0") v020 = fs.readFileSync(tgz);
      await reg.helmPush(tgz, "charts");
    }
  });
  after(async () => { await ctl?.stop(); await reg?.close(); });

  it("pulls the latest stable version or an exact one, with the repository's credentials", async function () {
    const ns = await newNamespace();
    await ctl.client.create(secrets, { apiVersion: "v1", kind: "Secret", metadata: { name: "creds", namespace: ns }, stringData: { username: "helm", password: "pw" } } as never);
    await createSource(ctl, helmRepositories, ns, "oci", { url: reg.url("charts"), type: "oci", insecure: true, secretRef: { name: "creds" } });
    await createSource(ctl, helmCharts, ns, "latest", { chart: "web", sourceRef: { kind: "HelmRepository", name: "oci" } });
    await createSource(ctl, helmCharts, ns, "exact", { chart: "web", version: "0.1.0", sourceRef: { kind: "HelmRepository", name: "oci" } });
    const latest = await waitForSource<HelmChart>(ctl.client, helmCharts, ns, "latest", { ready: "True", revision: "0.2.0" });
    expect(latest.status!.artifact!.path).to.equal(`helmchart/${ns}/latest/web-0.2.0.tgz`);
    expect(latest.status!.artifact!.digest).to.equal(`sha256:${createHash("sha256").update(v020).digest("hex")}`);
    expect(conditionOf(latest, "Ready")).to.include({ reason: "ChartPullSucceeded", message: "pulled 'web' chart with version '0.2.0'" });
    await waitForSource(ctl.client, helmCharts, ns, "exact", { ready: "True", revision: "0.1.0" });
  });

  it("reports wrong credentials and a version the registry does not have", async function () {
    const ns = await newNamespace();
    await ctl.client.create(secrets, { apiVersion: "v1", kind: "Secret", metadata: { name: "bad", namespace: ns }, stringData: { username: "helm", password: "nope" } } as never);
    await createSource(ctl, helmRepositories, ns, "bad", { url: reg.url("charts"), type: "oci", insecure: true, secretRef: { name: "bad" } });
    await createSource(ctl, helmCharts, ns, "denied", { chart: "web", sourceRef: { kind: "HelmRepository", name: "bad" } });
    await waitForSource(ctl.client, helmCharts, ns, "denied", { ready: "False", reason: "ChartPullError", message: /UNAUTHORIZED: authentication required.*check the credentials/ });
    await ctl.client.create(secrets, { apiVersion: "v1", kind: "Secret", metadata: { name: "good", namespace: ns }, stringData: { username: "helm", password: "pw" } } as never);
    await createSource(ctl, helmRepositories, ns, "good", { url: reg.url("charts"), type: "oci", insecure: true, secretRef: { name: "good" } });
    await createSource(ctl, helmCharts, ns, "nover", { chart: "web", version: ">=1.0.0", sourceRef: { kind: "HelmRepository", name: "good" } });
    await waitForSource(ctl.client, helmCharts, ns, "nover", { ready: "False", reason: "InvalidChartReference", message: /no 'web' chart with version matching '>=1\.0\.0' found/ });
  });
});
