// Per-object apply policies and force: `kustomize.toolkit.fluxcd.io/ssa` Override (default:
// fields added by kubectl are taken back), Merge (they stay), IfNotPresent (created once,
// never updated), Ignore (never applied); immutable field changes fail without force and
// recreate the object with spec.force or `kustomize.toolkit.fluxcd.io/force: Enabled`.
import { expect } from "chai";
import { KubeObject } from "../../../controllers/runtime/keys";
import { eventually, newNamespace } from "../../support/cluster";
import {
  Env, configMap, core, createKustomization, gitRepositories, gitSource, kustomizations, readyCondition, requestReconcile,
  sharedControllers, waitForReady,
} from "./support";

type CM = KubeObject & { data?: Record<string, string> };
const ann = (v: string) => `  annotations:\n    kustomize.toolkit.fluxcd.io/ssa: ${v}\n`;
const jobs = { group: "batch", version: "v1", plural: "jobs", kind: "Job" };
const job = (image: string, extra = "") => `apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n${extra}spec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: m\n          image: ${image}\n`;

describe("Kustomization: apply policies and force", function () {
  this.timeout(120_000);
  let env: Env;
  before(async () => { env = await sharedControllers(); });
  const cm = (ns: string, name: string) => env.client.get<CM>(core.configMaps, { namespace: ns, name });

  it("honours Override, Merge, IfNotPresent and Ignore", async () => {
    const ns = await newNamespace("kz-ssa");
    await gitSource(env.client, ns, {
      "app/override.yaml": configMap("override", { v: "1" }),
      "app/merge.yaml": configMap("merge", { v: "1" }, ann("Merge")),
      "app/once.yaml": configMap("once", { v: "1" }, ann("IfNotPresent")),
      "app/ignored.yaml": configMap("ignored", { v: "1" }, ann("Ignore")),
    });
    await createKustomization(env.client, ns, "app", { path: "./app", targetNamespace: ns, interval: "2s" });
    const k = await waitForReady(env.client, ns, "app");
    expect(await cm(ns, "ignored")).to.equal(undefined);
    // Someone edits the live objects with kubectl.
    for (const name of ["override", "merge", "once"]) {
      await env.client.patch(core.configMaps, { namespace: ns, name }, { data: { v: "edited", extra: "by-hand" } }, { fieldManager: "kubectl-edit" });
    }
    await eventually(async () => (await cm(ns, "override"))?.data?.extra === undefined && (await cm(ns, "override"))?.data?.v === "1", { what: "override reverted", timeoutMs: 30_000 });
    expect((await cm(ns, "merge"))?.data).to.deep.equal({ v: "1", extra: "by-hand" });
    expect((await cm(ns, "once"))?.data).to.deep.equal({ v: "edited", extra: "by-hand" });
    expect(k.status?.inventory?.entries.map((e) => e.id)).to.include(`${ns}_ignored__ConfigMap`);
  });

  it("fails on an immutable field change without force, and recreates with force", async () => {
    const ns = await newNamespace("kz-force");
    const { fixture } = await gitSource(env.client, ns, { "app/job.yaml": job("busybox:1.36") });
    await createKustomization(env.client, ns, "app", { path: "./app", targetNamespace: ns, retryInterval: "2s" });
    await waitForReady(env.client, ns, "app");
    const uid = (await env.client.get(jobs, { namespace: ns, name: "migrate" }))?.metadata?.uid;
    const sha = await fixture.commitFiles({ "app/job.yaml": job("busybox:1.37") }, "new image");
    await requestReconcile(env.client, gitRepositories, ns, "repo");
    const k = await waitForReady(env.client, ns, "app", { status: "False", reason: "ReconciliationFailed", revisionSha: sha });
    expect(readyCondition(k)?.message).to.match(new RegExp(`^Job/${ns}/migrate dry-run failed \\(Invalid\\): Job.batch "migrate" is invalid: spec.template: .*field is immutable`));
    await env.client.patch(kustomizations, { namespace: ns, name: "app" }, { spec: { force: true } });
    await waitForReady(env.client, ns, "app", { revisionSha: sha });
    const recreated = await env.client.get<KubeObject & { spec?: { template?: { spec?: { containers?: Array<{ image?: string }> } } } }>(jobs, { namespace: ns, name: "migrate" });
    expect(recreated?.metadata?.uid).to.not.equal(uid);
    expect(recreated?.spec?.template?.spec?.containers?.[0].image).to.equal("busybox:1.37");
  });

  it("recreates only objects annotated kustomize.toolkit.fluxcd.io/force: Enabled", async () => {
    const ns = await newNamespace("kz-force-ann");
    const forced = "  annotations:\n    kustomize.toolkit.fluxcd.io/force: Enabled\n";
    const { fixture } = await gitSource(env.client, ns, { "app/job.yaml": job("busybox:1.36", forced) });
    await createKustomization(env.client, ns, "app", { path: "./app", targetNamespace: ns });
    await waitForReady(env.client, ns, "app");
    const sha = await fixture.commitFiles({ "app/job.yaml": job("busybox:1.37", forced) }, "new image");
    await requestReconcile(env.client, gitRepositories, ns, "repo");
    await waitForReady(env.client, ns, "app", { revisionSha: sha });
    const j = await env.client.get<KubeObject & { spec?: { template?: { spec?: { containers?: Array<{ image?: string }> } } } }>(jobs, { namespace: ns, name: "migrate" });
    expect(j?.spec?.template?.spec?.containers?.[0].image).to.equal("busybox:1.37");
  });
});
