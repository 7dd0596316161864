// HelmRelease spec.postRenderers (kustomize patches: strategic merge and JSON6902 with a
// target; images), spec.commonMetadata and the helm.toolkit.fluxcd.io/name|namespace labels
// on every released object, with the real helm (its --post-renderer) and the real kustomize.
// A post-renderer that fails leaves the release as it was, with Ready=False saying which one.
import { expect } from "chai";
import type { HelmRelease } from "../../../controllers/api/helm/v2/helm-release";
import { newNamespace } from "../../support/cluster";
import { KubeObject } from "../../../controllers/runtime/keys";
import { appChartSuite, cond, createRelease, deployments, expectSettled, helmReleases, releaseSecrets, waitForRelease } from "./support";

type Obj = KubeObject & { spec?: Record<string, unknown> };
type Deploy = KubeObject & { spec: { replicas: number; template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: { containers: Array<{ image: string }> } } } };
const services = { group: "", version: "v1", plural: "services", kind: "Service" };
const serviceAccounts = { group: "", version: "v1", plural: "serviceaccounts", kind: "ServiceAccount" };

describe("HelmRelease: post-renderers and common metadata", function () {
  this.timeout(150000);
  const suite = appChartSuite();
  // `helm create app` released as `web`: Deployment, Service and ServiceAccount `web-app`.
  const origin = (ns: string) => ({ "helm.toolkit.fluxcd.io/name": "web", "helm.toolkit.fluxcd.io/namespace": ns });

  it("applies strategic-merge and JSON6902 patches, image overrides, commonMetadata and the origin labels to every released object", async () => {
    const ns = await newNamespace("hr-postrender");
    await suite.helmRepository(ns);
    await createRelease(suite.ctl, ns, "web", {
      chart: suite.chart(),
      postRenderers: [{
        kustomize: {
          patches: [
            { patch: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-app\nspec:\n  replicas: 2\n  template:\n    metadata:\n      annotations:\n        patched: strategic-merge\n" },
            { target: { version: "v1", kind: "Service", name: "web-app" }, patch: "- op: add\n  path: /spec/sessionAffinity\n  value: ClientIP\n" },
          ],
          images: [{ name: "nginx", newName: "registry.example/mirror/nginx", newTag: "1.27.0" }],
        },
      }],
      // A key of the origin labels: theirs wins, as in Flux.
      commonMetadata: { labels: { team: "platform", "helm.toolkit.fluxcd.io/name": "overridden" }, annotations: { owner: "sre", "on-call": "true" } },
    });
    const hr = await waitForRelease(suite.ctl.client, ns, "web", { ready: "True", reason: "InstallSucceeded" });
    expectSettled(hr);
    expect(hr.status!.observedPostRenderersDigest).to.match(/^sha256:[0-9a-f]{64}$/);
    expect(hr.status!.observedCommonMetadataDigest).to.match(/^sha256:[0-9a-f]{64}$/);

    const d = (await suite.ctl.client.get<Deploy>(deployments, { namespace: ns, name: "web-app" }))!;
    expect(d.spec.replicas).to.equal(2);
    expect(d.spec.template.metadata.annotations).to.include({ patched: "strategic-merge" });
    expect(d.spec.template.spec.containers[0].image).to.equal("registry.example/mirror/nginx:1.27.0");
    // commonMetadata is object metadata only: the pod template's labels stay the chart's.
    expect(d.spec.template.metadata.labels).to.not.have.property("team");
    const svc = (await suite.ctl.client.get<Obj>(services, { namespace: ns, name: "web-app" }))!;
    expect(svc.spec!.sessionAffinity).to.equal("ClientIP");
    const sa = (await suite.ctl.client.get<Obj>(serviceAccounts, { namespace: ns, name: "web-app" }))!;
    for (const o of [d, svc, sa]) {
      expect(o.metadata!.labels, `${o.kind} labels`).to.include({ ...origin(ns), team: "platform", "app.kubernetes.io/instance": "web" });
      expect(o.metadata!.annotations, `${o.kind} annotations`).to.include({ owner: "sre", "on-call": "true" });
    }
  });

  it("labels a release without post-renderers; a bad patch fails the upgrade with what to fix and keeps the release; the fixed one upgrades", async () => {
    const ns = await newNamespace("hr-postrender-bad");
    await suite.helmRepository(ns);
    await createRelease(suite.ctl, ns, "web", { chart: suite.chart() });
    const installed = await waitForRelease(suite.ctl.client, ns, "web", { ready: "True", reason: "InstallSucceeded" });
    expect(installed.status!.observedPostRenderersDigest).to.equal(undefined);
    const before = (await suite.ctl.client.get<Deploy>(deployments, { namespace: ns, name: "web-app" }))!;
    expect(before.metadata!.labels).to.include(origin(ns));
    expect(before.spec.replicas).to.equal(1);

    // Only the post-renderers change (same chart and values): still an upgrade, which fails.
    const smp = (name: string, replicas: number) => `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\nspec:\n  replicas: ${replicas}\n`;
    await suite.ctl.client.patch(helmReleases, { namespace: ns, name: "web" }, { spec: { postRenderers: [{ kustomize: { patches: [{ patch: smp("missing", 3) }] } }] } });
    const failed = await waitForRelease(suite.ctl.client, ns, "web", { ready: "False", reason: "UpgradeFailed" });
    const msg = cond(failed, "Ready")!.message;
    expect(msg).to.match(/^Helm upgrade failed for release .*web with chart app@1\.0\.0: post-rendering failed: spec\.postRenderers\[0\]\.kustomize: /);
    expect(msg).to.include("no matches for Id Deployment.v1.apps/missing");
    expect(msg).to.not.match(/error while running command|exit status/);
    // Nothing was released: helm stored no revision, the objects are the first release's.
    expect(await releaseSecrets(suite.ctl.client, ns, "web")).to.have.length(1);
    expect(failed.status!.history![0]).to.include({ version: 1, status: "deployed" });
    expect((await suite.ctl.client.get<Deploy>(deployments, { namespace: ns, name: "web-app" }))!.spec.replicas).to.equal(1);

    await suite.ctl.client.patch(helmReleases, { namespace: ns, name: "web" }, { spec: { postRenderers: [{ kustomize: { patches: [{ patch: smp("web-app", 3) }] } }] } });
    const fixed: HelmRelease = await waitForRelease(suite.ctl.client, ns, "web", { ready: "True", reason: "UpgradeSucceeded" });
    expectSettled(fixed);
    expect(fixed.status!.history![0]).to.include({ version: 2, status: "deployed" });
    expect(fixed.status!.observedPostRenderersDigest).to.match(/^sha256:/);
    expect((await suite.ctl.client.get<Deploy>(deployments, { namespace: ns, name: "web-app" }))!.spec.replicas).to.equal(3);
  });
});
