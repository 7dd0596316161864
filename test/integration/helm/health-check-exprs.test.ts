// HelmRelease spec.healthCheckExprs: after an install/upgrade that waits, the release's custom
// resources of a covered kind are checked with the CEL expressions. The chart renders a Widget
// (a test CRD without a status subresource) whose status.phase comes from the values: `Broken`
// makes the `failed` expression true, so the install fails with the expression's message and
// the revision is recorded as failed; `Ready` makes `current` true and the upgrade succeeds.
// An expression that does not compile stalls with InvalidCELExpression.
import { expect } from "chai";
import { newNamespace, eventually } from "../../support/cluster";
import { appChartSuite, cond, createRelease, expectSettled, helmReleases, waitForRelease } from "./support";

const crds = { group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions", kind: "CustomResourceDefinition" };
const GROUP = "healthexpr.test.gitops.dev";
const widgets = { group: GROUP, version: "v1", plural: "widgets", kind: "Widget" };

const widgetTemplate = [
  `apiVersion: ${GROUP}/v1`, "kind: Widget", "metadata:", "  name: {{ .Release.Name }}-widget",
  "status:", "  phase: {{ .Values.phase | default \"Pending\" | quote }}", ""].join("\n");

const exprs = [{ apiVersion: `${GROUP}/v1`, kind: "Widget", failed: "status.phase == 'Broken'", current: "status.phase == 'Ready'" }];

describe("HelmRelease: healthCheckExprs", function () {
  this.timeout(180_000);
  const suite = appChartSuite({ files: { "templates/widget.yaml": widgetTemplate } });
  before(async () => {
    await suite.ctl.client.apply(crds, {
      apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", metadata: { name: `widgets.${GROUP}` },
      spec: {
        group: GROUP, scope: "Namespaced", names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
        versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }],
      },
    } as never, { fieldManager: "gitops-test", force: true });
    await eventually(async () => {
      try { await suite.ctl.client.list(widgets, { namespace: "default" }); return true; } catch { return false; }
    }, { timeoutMs: 30_000, what: "Widget CRD served" });
  });

  it("fails the install when a `failed` expression is true, and succeeds once `current` is", async () => {
    const ns = await newNamespace("hr-hcexpr");
    await suite.helmRepository(ns);
    await createRelease(suite.ctl, ns, "web", { chart: suite.chart(), values: { phase: "Broken" }, healthCheckExprs: exprs, timeout: "30s" });
    const failed = await waitForRelease(suite.ctl.client, ns, "web", { ready: "False", reason: "InstallFailed" });
    const msg = cond(failed, "Ready")!.message;
    expect(msg).to.match(new RegExp(`^Helm install failed for release ${ns}/web with chart app@1\\.0\\.0: `));
    expect(msg).to.contain(`Widget/${ns}/web-widget status: 'Failed'`);
    expect(msg).to.contain(`Widget/${ns}/web-widget: custom health check: failed expression is true`);
    expect(cond(failed, "Released")).to.include({ status: "False", reason: "InstallFailed" });
    expect(failed.status?.history?.[0]).to.include({ version: 1, status: "failed" });

    await suite.ctl.client.patch(helmReleases, { namespace: ns, name: "web" }, { spec: { values: { phase: "Ready" } } });
    const ok = await waitForRelease(suite.ctl.client, ns, "web", { ready: "True", reason: "UpgradeSucceeded" });
    expectSettled(ok);
    expect(ok.status?.history?.[0]).to.include({ version: 2, status: "deployed" });
    // Re-reconciling an in-sync healthy release changes nothing.
    await suite.ctl.client.patch(helmReleases, { namespace: ns, name: "web" }, { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "again" } } });
    const again = await waitForRelease(suite.ctl.client, ns, "web", { ready: "True", check: (h) => h.status?.lastHandledReconcileAt === "again" });
    expect(again.status?.history?.[0]?.version).to.equal(2);
  });

  it("stalls with InvalidCELExpression on an expression that does not compile", async () => {
    const ns = await newNamespace("hr-hcexpr-bad");
    await suite.helmRepository(ns);
    await createRelease(suite.ctl, ns, "web", { chart: suite.chart(), healthCheckExprs: [{ apiVersion: `${GROUP}/v1`, kind: "Widget", current: "status.phase ==" }] });
    const hr = await waitForRelease(suite.ctl.client, ns, "web", { ready: "False", reason: "InvalidCELExpression" });
    expect(cond(hr, "Stalled")).to.include({ status: "True", reason: "InvalidCELExpression" });
    expect(cond(hr, "Ready")!.message).to.match(/^Reconciliation failed terminally due to configuration error: failed to create custom status evaluator for healthchecks\[0\]: failed to parse the expression Current/);
    expect(hr.status?.history ?? []).to.deep.equal([]);
  });
});
