// The install/upgrade switches reach helm (action-flags.ts): as in Flux, helm takes ownership of
// objects that exist without a release's annotations unless install.disableTakeOwnership.
import { expect } from "chai";
import { newNamespace } from "../../support/cluster";
import type { KubeObject } from "../../../controllers/runtime/keys";
import { appChartSuite, cond, createRelease, waitForRelease } from "./support";

const serviceAccounts = { group: "", version: "v1", plural: "serviceaccounts", kind: "ServiceAccount" };

describe("HelmRelease: install/upgrade switches", function () {
  this.timeout(120000);
  const suite = appChartSuite();
  const preexisting = async (ns: string, name: string) => {
    await suite.ctl.client.create(serviceAccounts, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace: ns } } as never);
  };

  it("takes ownership of an existing object the chart renders, by default", async () => {
    const ns = await newNamespace("hr-own");
    await suite.helmRepository(ns);
    await preexisting(ns, "own-app");
    await createRelease(suite.ctl, ns, "own", { chart: suite.chart() });
    await waitForRelease(suite.ctl.client, ns, "own", { ready: "True", reason: "InstallSucceeded" });
    const sa = await suite.ctl.client.get<KubeObject>(serviceAccounts, { namespace: ns, name: "own-app" });
    expect(sa?.metadata?.annotations?.["meta.helm.sh/release-name"]).to.equal("own");
  });

  it("refuses it with install.disableTakeOwnership, saying which object", async () => {
    const ns = await newNamespace("hr-noown");
    await suite.helmRepository(ns);
    await preexisting(ns, "keep-app");
    await createRelease(suite.ctl, ns, "keep", { chart: suite.chart(), install: { disableTakeOwnership: true, remediation: { retries: 0 } } });
    const hr = await waitForRelease(suite.ctl.client, ns, "keep", { ready: "False", reason: "InstallFailed" });
    expect(cond(hr, "Ready")!.message).to.match(/ServiceAccount "keep-app" in namespace "[^"]+" exists and cannot be imported into the current release/);
    const sa = await suite.ctl.client.get<KubeObject>(serviceAccounts, { namespace: ns, name: "keep-app" });
    expect(sa?.metadata?.annotations?.["meta.helm.sh/release-name"]).to.equal(undefined);
  });
});
