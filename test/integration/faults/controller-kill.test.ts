// Fault: the kustomize-controller process SIGKILLed at random points while it applies a
// workload of many Kustomizations (first revision, then a revision that changes, removes and
// adds objects), restarted at once each time as a pod's container would be. Afterwards every
// Kustomization is Ready at the last revision with an exact inventory: no orphan object left by
// an interrupted apply, nothing pruned that the revision keeps.
// Scale: GITOPS_FAULTS_SCALE (support.ts); the CI default is 100 Kustomizations × 5 kills.
import { expect } from "chai";
import { randomSuffix, newNamespace, eventually, getCluster } from "../../support/cluster";
import { startControllers as startSource } from "../../support/controllers";
import { controllerProcess } from "../../support/controller-process";
import { startGitServers } from "../../support/git-server";
import { onTeardown } from "../../support/teardown";
import { createKustomization, gitRepositories, requestReconcile } from "../kustomize/support";
import { expectExactInventories, faultScale, mulberry32, notReady, report, workloadFiles } from "./support";

describe("faults: kustomize-controller SIGKILLed mid-apply", function () {
  const scale = faultScale();
  this.timeout(Math.max(240_000, scale.kustomizations * scale.kills * 600));

  it(`converges with exact inventories after ${scale.kills} kills over ${scale.kustomizations} Kustomizations`, async () => {
    const n = scale.kustomizations;
    const seed = Number(process.env.GITOPS_FAULTS_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const random = mulberry32(seed);
    const source = await startSource();
    const instance = source.labels["gitops-test/instance"];
    const { kubeconfigPath } = await getCluster();
    const ns = await newNamespace("faults-kill");
    const servers = await startGitServers({ files: workloadFiles(n, 1), http: {} });
    onTeardown(() => servers.close());
    // Throttled client (as a busy API server would be): one pass over the workload takes long
    // enough that every kill lands in the middle of an apply.
    const kz = controllerProcess(["--kubeconfig", kubeconfigPath, "--only", "kustomize", "--watch-label-selector", `gitops-test/instance=${instance}`,
      "--kube-api-qps", "30", "--kube-api-burst", "5", "--concurrent", "4", "--log-level", "info"], { name: `faults-kill-${randomSuffix()}` });
    await kz.start();
    const client = source.client;
    await client.create(gitRepositories, {
      apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", metadata: { name: "repo", namespace: ns, labels: source.labels },
      spec: { interval: "1m", url: servers.urls.http!, ref: { branch: "main" } },
    } as never);
    // "Within two intervals": at the CI scale a 2m interval; from 500 Kustomizations on, one pass
    // through the throttled client alone takes minutes, so they get Flux's usual 10m.
    const interval = n >= 500 ? 600_000 : 120_000;
    for (let i = 0; i < n; i++) {
      await createKustomization(client, ns, `k-${i}`, { path: `./apps/k-${i}`, targetNamespace: ns, interval: `${interval / 60_000}m`, retryInterval: "10s", timeout: "1m" }, source.labels);
    }

    const kills: Array<{ rev: number; afterMs: number; readyAtKill: number }> = [];
    /** Kills the process `count` times at random moments while revision `sha` is not yet applied everywhere. */
    const killDuring = async (rev: number, sha: string, count: number) => {
      for (let k = 0; k < count; k++) {
        const afterMs = Math.floor(500 + random() * 4000);
        await new Promise((r) => setTimeout(r, afterMs));
        const pending = await notReady(client, ns, n, sha);
        if (pending === 0) break;
        await kz.kill();
        kills.push({ rev, afterMs, readyAtKill: n - pending });
        await kz.start();
      }
    };
    const converge = async (sha: string) => {
      const t0 = Date.now();
      await eventually(async () => (await notReady(client, ns, n, sha)) === 0,
        { timeoutMs: 2 * interval + 30_000, intervalMs: 500, what: `all ${n} Kustomizations Ready at ${sha.slice(0, 7)}` });
      return Date.now() - t0;
    };

    const rev1Kills = Math.floor(scale.kills / 2);
    await killDuring(1, servers.initialCommit, rev1Kills);
    const converge1 = await converge(servers.initialCommit);
    await expectExactInventories(client, ns, n, 1);

    const sha2 = await servers.fixture.commitFiles(workloadFiles(n, 2), "rev 2: a changed, c removed, d added");
    await requestReconcile(client, gitRepositories, ns, "repo");
    await killDuring(2, sha2, scale.kills - rev1Kills);
    const converge2 = await converge(sha2);
    const checked = await expectExactInventories(client, ns, n, 2);

    report("controller SIGKILL mid-apply", { seed, kustomizations: n, kills: kills.length, killPoints: kills, convergeAfterLastKillMs: { rev1: converge1, rev2: converge2 }, configMapsChecked: checked, lost: 0 });
    // Every planned kill landed while the workload was still being applied.
    expect(kills.length, "kills that hit an unfinished apply").to.equal(scale.kills);
    expect(Math.max(converge1, converge2), "converged within two intervals of the last restart").to.be.below(2 * interval);
    await kz.stop();
  });
});
