// Fault: kube-apiserver restarted, then etcd SIGKILLed and restarted, each while the controllers
// (source + kustomize, `gitops controllers run` as a host process) apply a workload of
// Kustomizations, on a cluster of the test's own. The controllers reconnect, every
// Kustomization converges with an exact inventory, and the watches work again afterwards: a
// new revision requested through an annotation reaches every Kustomization well before any
// interval would.
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { eventually, randomSuffix } from "../../support/cluster";
import { controllerProcess } from "../../support/controller-process";
import { ExtraCluster, installCrdsOn, restartApiServer, startExtraCluster } from "../../support/extra-cluster";
import { restartEtcd } from "../../support/restart-etcd";
import { startGitServers } from "../../support/git-server";
import { onTeardown } from "../../support/teardown";
import { core, createKustomization, gitRepositories, requestReconcile } from "../kustomize/support";
import { expectExactInventories, notReady, report, workloadFiles } from "./support";

const N = 20;
const INTERVAL_MS = 60_000;

describe("faults: kube-apiserver and etcd restarted during reconciliation", function () {
  this.timeout(300_000);
  let own: ExtraCluster;
  before(async function () {
    this.timeout(180_000);
    own = await startExtraCluster("faults-restart");
    await installCrdsOn(own);
  });
  after(async () => { await own?.stop(); });

  it(`reconnects, resumes its watches and converges ${N} Kustomizations with exact inventories`, async () => {
    const client = own.client;
    await client.create(core.namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: "flux-system" } } as never).catch(() => undefined);
    const ns = `faults-restart-${randomSuffix()}`;
    await client.create(core.namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } } as never);
    const storage = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-faults-restart-storage-"));
    onTeardown(() => fs.rmSync(storage, { recursive: true, force: true }));
    const ctl = controllerProcess(["--kubeconfig", own.state.kubeconfig, "--only", "source,kustomize",
      "--storage-path", storage, "--storage-addr", "127.0.0.1:0", "--storage-adv-addr", "127.0.0.1:0",
      // Throttled, so the restarts land in the middle of the workload's apply.
      "--kube-api-qps", "20", "--kube-api-burst", "5", "--log-level", "info"], { name: "faults-restart" });
    await ctl.start();
    const git = await startGitServers({ files: workloadFiles(N, 1), http: {} });
    onTeardown(() => git.close());
    await client.create(gitRepositories, {
      apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", metadata: { name: "repo", namespace: ns },
      spec: { interval: "1h", url: git.urls.http!, ref: { branch: "main" } },
    } as never);
    for (let i = 0; i < N; i++) {
      await createKustomization(client, ns, `k-${i}`, { path: `./apps/k-${i}`, targetNamespace: ns, interval: "1m", retryInterval: "10s", timeout: "1m" });
    }
    const midApply = async (sha: string) => {
      await eventually(async () => (await notReady(client, ns, N, sha)) < N, { timeoutMs: 90_000, intervalMs: 100, what: "the workload's apply under way" });
      return N - (await notReady(client, ns, N, sha));
    };
    const converge = async (sha: string) => {
      const t0 = Date.now();
      await eventually(async () => (await notReady(client, ns, N, sha)) === 0, { timeoutMs: 2 * INTERVAL_MS, intervalMs: 500, what: `all ${N} Ready at ${sha.slice(0, 7)}` });
      return Date.now() - t0;
    };

    const readyAtApiRestart = await midApply(git.initialCommit);
    await restartApiServer(own, 3000);
    const apiConvergeMs = await converge(git.initialCommit);
    await expectExactInventories(client, ns, N, 1);

    const sha2 = await git.fixture.commitFiles(workloadFiles(N, 2), "rev 2");
    await requestReconcile(client, gitRepositories, ns, "repo");
    const readyAtEtcdRestart = await midApply(sha2);
    expect(readyAtEtcdRestart, "etcd is killed in the middle of the apply").to.be.below(N);
    await restartEtcd(own, 3000);
    const etcdConvergeMs = await converge(sha2);
    await expectExactInventories(client, ns, N, 2);

    // Watches resumed: a revision requested now reaches every Kustomization through the
    // GitRepository's watch (its interval is 1h, the Kustomizations' 1m).
    const sha3 = await git.fixture.commitFiles({ "README.md": "after the restarts\n" }, "rev 3");
    const t3 = Date.now();
    await requestReconcile(client, gitRepositories, ns, "repo");
    await converge(sha3);
    const watchMs = Date.now() - t3;
    expect(watchMs, "driven by watches, not by the interval").to.be.below(INTERVAL_MS / 2);
    await expectExactInventories(client, ns, N, 2);
    expect(Math.max(apiConvergeMs, etcdConvergeMs), "converged within two intervals").to.be.below(2 * INTERVAL_MS);
    report("kube-apiserver and etcd restarts", { kustomizations: N, readyAtApiRestart, apiConvergeMs, readyAtEtcdRestart, etcdConvergeMs, newRevisionAfterRestartsMs: watchMs, lost: 0 });
    await ctl.stop();
  });
});
