// Kustomization faults: the API server going away mid-apply (connections cut by a proxy; a
// real kube-apiserver restart of a cluster dedicated to the test) and the controller killed
// mid-apply. The failed attempt prunes nothing and leaves the inventory and
// lastAppliedRevision as they were; once the fault clears the Kustomization converges, and
// after a restart the watches work again.
import * as k8s from "@kubernetes/client-node";
import { expect } from "chai";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { repoRoot } from "../../../cli/tools";
import { KubeObject } from "../../../controllers/runtime/keys";
import { eventually, getCluster, newNamespace, randomSuffix } from "../../support/cluster";
import { onTeardown } from "../../support/teardown";
import {
  Env, INSTANCE_LABEL, configMap, core, createKustomization, expectCurrent, getKustomization, gitRepositories, gitSource,
  requestReconcile, sharedControllers, startControllers, waitForReady,
} from "./support";
import { startTcpProxy } from "./tcp-proxy";
import { ExtraCluster, installCrdsOn, restartApiServer, startExtraCluster } from "../../support/extra-cluster";

const MANY = 120;
const many = () => Object.fromEntries([...Array(MANY).keys()].map((i) => [`app/many-${i}.yaml`, configMap(`many-${i}`, { i: String(i) })]));

async function countMany(env: Env, ns: string): Promise<number> {
  const list = await env.client.list<KubeObject>(core.configMaps, { namespace: ns });
  return list.items.filter((c) => c.metadata?.name?.startsWith("many-")).length;
}

/** Revision 1 (keep + old), then revision 2 (keep + MANY new) requested; returns its sha. */
async function twoRevisions(env: Env, ns: string, labels: Record<string, string>): Promise<string> {
  const { fixture } = await gitSource(env.client, ns, { "app/keep.yaml": configMap("keep", { v: "1" }), "app/old.yaml": configMap("old", { v: "1" }) });
  await createKustomization(env.client, ns, "app", { path: "./app", targetNamespace: ns, retryInterval: "2s" }, labels);
  await waitForReady(env.client, ns, "app");
  const sha = await fixture.commitFiles({ "app/old.yaml": null, ...many() }, "many");
  await requestReconcile(env.client, gitRepositories, ns, "repo");
  return sha;
}

async function expectUntouched(env: Env, ns: string, sha: string): Promise<void> {
  const k = await getKustomization(env.client, ns, "app");
  expect(k.status?.lastAppliedRevision?.endsWith(sha), "the interrupted revision is not applied").to.equal(false);
  expect(k.status?.inventory?.entries.length).to.equal(2);
  expect(await env.client.get(core.configMaps, { namespace: ns, name: "old" }), "nothing pruned by the interrupted attempt").to.not.equal(undefined);
}

async function expectConverged(env: Env, ns: string, sha: string): Promise<void> {
  const k = await waitForReady(env.client, ns, "app", { revisionSha: sha, timeoutMs: 90_000 });
  expect(await countMany(env, ns)).to.equal(MANY);
  expect(k.status?.inventory?.entries.length).to.equal(MANY + 1);
  expect(await env.client.get(core.configMaps, { namespace: ns, name: "old" })).to.equal(undefined);
  expectCurrent(k);
}

describe("Kustomization: faults mid-apply", function () {
  this.timeout(180_000);
  let env: Env;
  before(async () => { env = await sharedControllers(); });

  it("converges after the API server goes away in the middle of an apply", async () => {
    const { kc, state } = await getCluster();
    const server = new URL(state.server);
    const proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port) });
    const viaProxy = new k8s.KubeConfig();
    viaProxy.loadFromOptions({ ...kc, clusters: kc.clusters.map((c) => ({ ...c, server: `https://127.0.0.1:${proxy.port}` })), contexts: kc.contexts, users: kc.users, currentContext: kc.currentContext });
    await startControllers({ instance: "apiserver-fault", withSource: false, kustomize: { kubeConfig: viaProxy, kubeApiQps: 25, kubeApiBurst: 1, concurrentSsa: 2 } });
    const ns = await newNamespace("kz-fault-api");
    const sha = await twoRevisions(env, ns, { [INSTANCE_LABEL]: "apiserver-fault" });
    await eventually(async () => (await countMany(env, ns)) >= 10, { what: "apply under way", timeoutMs: 60_000, intervalMs: 50 });
    proxy.cut();
    const applied = await countMany(env, ns);
    expect(applied).to.be.below(MANY);
    // Status still reaches the API server (only applies go through the proxy): the failure is visible.
    await waitForReady(env.client, ns, "app", { status: "False", reason: "ReconciliationFailed", timeoutMs: 30_000, message: new RegExp(`^ConfigMap/${ns}/many-\\d+ (apply|dry-run) failed: `) });
    await expectUntouched(env, ns, sha);
    proxy.restore();
    await expectConverged(env, ns, sha);
  });

  it("converges after the controller process is killed in the middle of an apply", async () => {
    const { kubeconfigPath } = await getCluster();
    const ns = await newNamespace("kz-fault-kill");
    const labels = { [INSTANCE_LABEL]: "killed" };
    const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kz-kill-")), "controller.log");
    const start = (): ChildProcess => {
      const out = fs.openSync(log, "a");
      const child = spawn(process.execPath, [path.join(repoRoot, "dist", "cli", "main.js"), "controllers", "run", "--kubeconfig", kubeconfigPath,
        "--only", "kustomize", "--watch-label-selector", `${INSTANCE_LABEL}=killed`, "--kube-api-qps", "25", "--kube-api-burst", "1",
        "--concurrent-ssa", "2", "--requeue-dependency", "2s", "--log-level", "info"], { stdio: ["ignore", out, out] });
      fs.closeSync(out);
      onTeardown(() => { child.kill("SIGKILL"); });
      return child;
    };
    let child = start();
    const sha = await twoRevisions(env, ns, labels);
    await eventually(async () => (await countMany(env, ns)) >= 10, { what: "apply under way", timeoutMs: 60_000, intervalMs: 50 });
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    expect(await countMany(env, ns)).to.be.below(MANY);
    await expectUntouched(env, ns, sha);
    child = start();
    await expectConverged(env, ns, sha);
    child.kill("SIGTERM");
  });

  describe("on a cluster of its own", function () {
    let own: ExtraCluster;
    let ownEnv: Env;
    before(async function () {
      this.timeout(180_000);
      own = await startExtraCluster("kz-restart");
      await installCrdsOn(own);
      // Throttled applies (25/s, burst 1) so the apply of MANY objects takes a few seconds.
      ownEnv = await startControllers({ cluster: { kc: own.kc, kubeconfigPath: own.state.kubeconfig }, kustomize: { kubeApiQps: 25, kubeApiBurst: 1, concurrentSsa: 2 } });
    });
    after(async () => {
      await ownEnv?.manager.stop();
      await own?.stop();
    });

    it("converges after its kube-apiserver restarts in the middle of an apply, and reacts to new revisions again", async () => {
      const ns = `kz-restart-${randomSuffix()}`;
      await own.client.create(core.namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } } as never);
      const e: Env = { ...ownEnv, client: own.client };
      const { fixture } = await gitSource(own.client, ns, { "app/keep.yaml": configMap("keep", { v: "1" }), "app/old.yaml": configMap("old", { v: "1" }) });
      await createKustomization(own.client, ns, "app", { path: "./app", targetNamespace: ns, interval: "1h", retryInterval: "2s" });
      await waitForReady(own.client, ns, "app", { timeoutMs: 60_000 });
      const sha = await fixture.commitFiles({ "app/old.yaml": null, ...many() }, "many");
      await requestReconcile(own.client, gitRepositories, ns, "repo");
      await eventually(async () => (await countMany(e, ns)) >= 10, { what: "apply under way", timeoutMs: 60_000, intervalMs: 50 });
      expect(await countMany(e, ns), "the apply is still under way").to.be.below(MANY);
      await restartApiServer(own, 3000);
      await expectConverged(e, ns, sha);

      // Watches and the source-controller's reconcile requests work after the restart.
      const next = await fixture.commitFiles({ "app/keep.yaml": configMap("keep", { v: "2" }) }, "after restart");
      const t0 = Date.now();
      await requestReconcile(own.client, gitRepositories, ns, "repo");
      await waitForReady(own.client, ns, "app", { revisionSha: next, timeoutMs: 60_000 });
      expect(Date.now() - t0, "a new revision is applied at once, not at the 1h interval").to.be.below(45_000);
      expect((await own.client.get<KubeObject & { data?: Record<string, string> }>(core.configMaps, { namespace: ns, name: "keep" }))?.data).to.deep.equal({ v: "2" });
    });
  });
});
