// HelmRelease spec.test: `helm test` after a successful install or upgrade (and for a deployed
// release not tested yet), the results in status.history[].testHooks, the TestSuccess condition
// and its events; Ready follows TestSuccess unless test.ignoreFailures; a failed test is a
// failure of the last action, remediated (rollback, uninstall) unless ignored.
// The chart's test hook is a Job (kwok completes the pods of Jobs); with `testFails` its pod
// cannot be scheduled and activeDeadlineSeconds fails the Job, so helm fails the test.
import { expect } from "chai";
import { newNamespace } from "../../support/cluster";
import type { HelmRelease } from "../../../controllers/api/helm/v2/helm-release";
import { appChartSuite, cond, createRelease, expectSettled, helmReleases, releaseEvents, releaseSecrets, waitForRelease } from "./support";

const testJob = `apiVersion: batch/v1
kind: Job
metadata:
  name: "{{ include "app.fullname" . }}-test"
  annotations:
    "helm.sh/hook": test
spec:
  backoffLimit: 0
  {{- if .Values.testFails }}
  activeDeadlineSeconds: 1
  {{- end }}
  template:
    spec:
      restartPolicy: Never
      {{- if .Values.testFails }}
      nodeSelector:
        gitops.test/no-such-node: "true"
      {{- end }}
      containers:
        - name: test
          image: busybox
          command: ["true"]
`;

const stalled = (h: HelmRelease) => cond(h, "Stalled")?.status === "True";

describe("HelmRelease: helm tests (spec.test)", function () {
  this.timeout(150000);
  const suite = appChartSuite({ files: { "templates/tests/test-connection.yaml": testJob } });

  it("tests an installed release: TestSuccess, testHooks in history, a TestSucceeded event, Ready TestSucceeded", async () => {
    const ns = await newNamespace("hr-test-pass");
    await suite.helmRepository(ns);
    await createRelease(suite.ctl, ns, "web", { chart: suite.chart(), test: { enable: true } });
    const hr = await waitForRelease(suite.ctl.client, ns, "web", { ready: "True", reason: "TestSucceeded" });
    expectSettled(hr);
    const msg = `Helm test succeeded for release ${ns}/web.v1 with chart app@1.0.0: 1 test hook completed successfully`;
    expect(cond(hr, "TestSuccess")).to.include({ status: "True", reason: "TestSucceeded", message: msg });
    expect(cond(hr, "Ready")!.message).to.equal(msg);
    expect(cond(hr, "Released")).to.include({ status: "True", reason: "InstallSucceeded" });
    const hooks = hr.status!.history![0].testHooks!;
    expect(Object.keys(hooks)).to.deep.equal(["web-app-test"]);
    expect(hooks["web-app-test"]!.phase).to.equal("Succeeded");
    expect(hooks["web-app-test"]!.lastStarted).to.match(/^\d{4}-\d\d-\d\dT/);
    expect(hooks["web-app-test"]!.lastCompleted).to.match(/^\d{4}-\d\d-\d\dT/);
    const events = await releaseEvents(suite.ctl.client, ns, "web");
    expect(events.some((e) => e.reason === "TestSucceeded" && e.message === msg)).to.equal(true);
    // Tested once: a requested reconcile of the in-sync release runs no test again.
    await suite.ctl.client.patch(helmReleases, { namespace: ns, name: "web" }, { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "again" } } });
    const again = await waitForRelease(suite.ctl.client, ns, "web", { ready: "True", check: (h) => h.status?.lastHandledReconcileAt === "again" });
    expect(again.status!.history![0].testHooks!["web-app-test"]!.lastStarted).to.equal(hooks["web-app-test"]!.lastStarted);
    expect((await releaseEvents(suite.ctl.client, ns, "web")).filter((e) => e.reason === "TestSucceeded")).to.have.length(1);
  });

  it("rolls back an upgrade whose tests failed, counting it as an upgrade failure", async () => {
    const ns = await newNamespace("hr-test-rollback");
    await suite.helmRepository(ns);
    await createRelease(suite.ctl, ns, "web", { chart: suite.chart(), test: { enable: true }, upgrade: { remediation: { remediateLastFailure: true } } });
    await waitForRelease(suite.ctl.client, ns, "web", { ready: "True", reason: "TestSucceeded" });
    await suite.ctl.client.patch(helmReleases, { namespace: ns, name: "web" }, { spec: { values: { testFails: true } } });
    const hr = await waitForRelease(suite.ctl.client, ns, "web", { ready: "False", check: (h) => stalled(h) && h.status?.observedGeneration === h.metadata.generation });
    expect(cond(hr, "Stalled")).to.include({ reason: "RetriesExceeded", message: "Failed to upgrade after 1 attempt(s)" });
    expect(hr.status!.upgradeFailures).to.equal(1);
    expect(cond(hr, "TestSuccess")).to.include({ status: "False", reason: "TestFailed" });
    expect(cond(hr, "TestSuccess")!.message).to.match(new RegExp(`^Helm test failed for release ${ns}/web.v2 with chart app@1.0.0: `));
    const rolledBack = `Helm rollback to previous release ${ns}/web.v1 with chart app@1.0.0 succeeded`;
    expect(cond(hr, "Remediated")).to.include({ status: "True", reason: "RollbackSucceeded", message: rolledBack });
    expect(cond(hr, "Ready")).to.include({ status: "False", reason: "RollbackSucceeded" });
    // v1 installed, v2 upgraded (tests failed), v3 the rollback to v1.
    expect(await releaseSecrets(suite.ctl.client, ns, "web")).to.deep.equal([1, 2, 3].map((v) => `sh.helm.release.v1.web.v${v}`));
    expect(hr.status!.history![0]).to.include({ version: 3, status: "deployed" });
    const v2 = hr.status!.history!.find((s) => s.version === 2)!;
    expect(v2.testHooks!["web-app-test"]!.phase).to.equal("Failed");
    const events = await releaseEvents(suite.ctl.client, ns, "web");
    expect(events.some((e) => e.reason === "TestFailed")).to.equal(true);
    expect(events.some((e) => e.reason === "RollbackSucceeded" && e.message === rolledBack)).to.equal(true);
  });

  it("uninstalls an install whose tests failed when install retries remain, then stalls", async () => {
    const ns = await newNamespace("hr-test-uninstall");
    await suite.helmRepository(ns);
    await createRelease(suite.ctl, ns, "web", { chart: suite.chart(), values: { testFails: true }, test: { enable: true }, install: { remediation: { retries: 1 } } });
    const hr = await waitForRelease(suite.ctl.client, ns, "web", { ready: "False", reason: "TestFailed", check: stalled });
    expect(cond(hr, "Stalled")).to.include({ reason: "RetriesExceeded", message: "Failed to install after 2 attempt(s)" });
    expect(hr.status!.installFailures).to.equal(2);
    // The first failure was uninstalled and installed again; the last one stays (no remediateLastFailure).
    const events = await releaseEvents(suite.ctl.client, ns, "web");
    // Both failures have the same message: one Event (counted twice).
    expect(events.filter((e) => e.reason === "TestFailed")).to.have.length.of.at.least(1);
    expect(events.some((e) => e.reason === "UninstallSucceeded")).to.equal(true);
    expect(await releaseSecrets(suite.ctl.client, ns, "web")).to.deep.equal(["sh.helm.release.v1.web.v1"]);
    expect(hr.status!.history![0].testHooks!["web-app-test"]!.phase).to.equal("Failed");
  });

  it("with test.ignoreFailures, a failed test neither remediates nor affects Ready", async () => {
    const ns = await newNamespace("hr-test-ignore");
    await suite.helmRepository(ns);
    await createRelease(suite.ctl, ns, "web", { chart: suite.chart(), values: { testFails: true }, test: { enable: true, ignoreFailures: true } });
    const hr = await waitForRelease(suite.ctl.client, ns, "web", { ready: "True", reason: "InstallSucceeded", check: (h) => cond(h, "TestSuccess") !== undefined });
    expectSettled(hr);
    expect(cond(hr, "TestSuccess")).to.include({ status: "False", reason: "TestFailed" });
    expect(cond(hr, "Remediated")).to.equal(undefined);
    expect(hr.status!.installFailures).to.equal(undefined);
    expect(await releaseSecrets(suite.ctl.client, ns, "web")).to.deep.equal(["sh.helm.release.v1.web.v1"]);
  });

  it("tests a deployed release once tests are enabled, without a new revision; disabling them drops TestSuccess", async () => {
    const ns = await newNamespace("hr-test-later");
    await suite.helmRepository(ns);
    await createRelease(suite.ctl, ns, "web", { chart: suite.chart() });
    const first = await waitForRelease(suite.ctl.client, ns, "web", { ready: "True", reason: "InstallSucceeded" });
    expect(cond(first, "TestSuccess")).to.equal(undefined);
    expect(first.status!.history![0].testHooks).to.equal(undefined);
    await suite.ctl.client.patch(helmReleases, { namespace: ns, name: "web" }, { spec: { test: { enable: true } } });
    const tested = await waitForRelease(suite.ctl.client, ns, "web", { ready: "True", reason: "TestSucceeded" });
    expectSettled(tested);
    expect(tested.status!.history![0]).to.include({ version: 1 });
    expect(tested.status!.history![0].testHooks!["web-app-test"]!.phase).to.equal("Succeeded");
    await suite.ctl.client.patch(helmReleases, { namespace: ns, name: "web" }, { spec: { test: null } });
    await waitForRelease(suite.ctl.client, ns, "web", { ready: "True", check: (h) => cond(h, "TestSuccess") === undefined });
    expect(await releaseSecrets(suite.ctl.client, ns, "web")).to.deep.equal(["sh.helm.release.v1.web.v1"]);
  });

  it("test.filters: an excluded hook does not run", async () => {
    const ns = await newNamespace("hr-test-filter");
    await suite.helmRepository(ns);
    await createRelease(suite.ctl, ns, "web", { chart: suite.chart(), values: { testFails: true }, test: { enable: true, filters: [{ name: "web-app-test", exclude: true }] } });
    const hr = await waitForRelease(suite.ctl.client, ns, "web", { ready: "True", reason: "TestSucceeded" });
    expectSettled(hr);
    expect(hr.status!.history![0].testHooks).to.deep.equal({});
    expect(cond(hr, "TestSuccess")!.message).to.match(/: no test hooks$/);
  });
});
