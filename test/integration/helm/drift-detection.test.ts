// HelmRelease spec.driftDetection: for an in-sync release the manifest's objects are
// server-side applied as a dry-run and compared with the cluster. `warn`: Drifted=True and a
// DriftDetected event, nothing changed; `enabled`: the drifted objects are applied again
// (a deleted one recreated); ignore rules leave JSON pointer paths of selected objects alone.
import { expect } from "chai";
import { eventually, newNamespace } from "../../support/cluster";
import type { HelmRelease } from "../../../controllers/api/helm/v2/helm-release";
import type { KubeObject } from "../../../controllers/runtime/keys";
import { appChartSuite, cond, createRelease, Deployment, deployments, helmReleases, releaseEvents, releaseSecrets, waitForAvailable, waitForRelease } from "./support";

const services = { group: "", version: "v1", plural: "services", kind: "Service" };
const serviceAccounts = { group: "", version: "v1", plural: "serviceaccounts", kind: "ServiceAccount" };
type Service = KubeObject;

describe("HelmRelease: drift detection", function () {
  this.timeout(120000);
  const suite = appChartSuite();
  let n = 0;
  const reconcile = async (ns: string) => {
    const token = `t${++n}`;
    await suite.ctl.client.patch(helmReleases, { namespace: ns, name: "web" }, { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": token } } });
    return waitForRelease(suite.ctl.client, ns, "web", { ready: "True", check: (h: HelmRelease) => h.status?.lastHandledReconcileAt === token });
  };
  const scale = (ns: string, replicas: number) => suite.ctl.client.patch(deployments, { namespace: ns, name: "web-app" }, { spec: { replicas } });

  it("warn: reports a changed object with Drifted and an event, and leaves it", async () => {
    const ns = await newNamespace("hr-drift-warn");
    await suite.helmRepository(ns);
    await createRelease(suite.ctl, ns, "web", { chart: suite.chart(), driftDetection: { mode: "warn" } });
    await waitForRelease(suite.ctl.client, ns, "web", { ready: "True", reason: "InstallSucceeded" });
    await waitForAvailable(suite.ctl.client, ns, "web-app");
    const clean = await reconcile(ns);
    expect(cond(clean, "Drifted")).to.include({ status: "False", reason: "NoDriftDetected" });

    await scale(ns, 3);
    const hr = await reconcile(ns);
    expect(cond(hr, "Drifted")).to.include({ status: "True", reason: "DriftDetected" });
    expect(cond(hr, "Drifted")!.message).to.contain(`Deployment/${ns}/web-app changed`);
    expect(cond(hr, "Ready")!.status).to.equal("True");
    const events = await releaseEvents(suite.ctl.client, ns, "web");
    expect(events.some((e) => e.reason === "DriftDetected" && e.message.includes(`Deployment/${ns}/web-app changed`))).to.equal(true);
    expect((await suite.ctl.client.get<Deployment>(deployments, { namespace: ns, name: "web-app" }))!.spec!.replicas).to.equal(3);
    expect(await releaseSecrets(suite.ctl.client, ns, "web")).to.have.length(1);
  });

  it("enabled: recreates a deleted object and restores a changed one, except ignored paths", async () => {
    const ns = await newNamespace("hr-drift-fix");
    await suite.helmRepository(ns);
    await createRelease(suite.ctl, ns, "web", { chart: suite.chart(), driftDetection: { mode: "enabled", ignore: [{ paths: ["/spec/replicas"], target: { kind: "Deployment" } }] } });
    await waitForRelease(suite.ctl.client, ns, "web", { ready: "True", reason: "InstallSucceeded" });
    await waitForAvailable(suite.ctl.client, ns, "web-app");
    expect(cond(await reconcile(ns), "Drifted")).to.include({ status: "False", reason: "NoDriftDetected" });

    await suite.ctl.client.delete(serviceAccounts, { namespace: ns, name: "web-app" });
    await suite.ctl.client.patch(services, { namespace: ns, name: "web-app" }, { metadata: { labels: { "app.kubernetes.io/version": "edited" } } });
    await scale(ns, 3);
    await reconcile(ns);
    await eventually(async () => (await suite.ctl.client.get(serviceAccounts, { namespace: ns, name: "web-app" })) !== undefined, { timeoutMs: 10000, what: "ServiceAccount recreated" });
    const svc = await suite.ctl.client.get<Service>(services, { namespace: ns, name: "web-app" });
    expect(svc!.metadata!.labels!["app.kubernetes.io/version"]).to.equal("1.16.0");
    // Ignored: not corrected, and not drift.
    expect((await suite.ctl.client.get<Deployment>(deployments, { namespace: ns, name: "web-app" }))!.spec!.replicas).to.equal(3);
    const events = await releaseEvents(suite.ctl.client, ns, "web");
    const fixed = events.find((e) => e.reason === "DriftDetected" && e.message.includes("has been corrected"));
    expect(fixed?.message).to.contain(`ServiceAccount/${ns}/web-app created`);
    expect(fixed?.message).to.contain(`Service/${ns}/web-app patched`);
    expect(fixed?.message).to.not.contain("Deployment/");
    const after = await reconcile(ns);
    expect(cond(after, "Drifted")).to.include({ status: "False", reason: "NoDriftDetected" });
    expect(await releaseSecrets(suite.ctl.client, ns, "web")).to.have.length(1);
  });
});
