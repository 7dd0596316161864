// Fault: two replicas of source-controller and of kustomize-controller (`gitops controllers run
// --only <one> --enable-leader-election`, each replica its own process, client certificate and
// artifact storage, as two pods are), and the leader of each SIGKILLed mid-apply. Checked from
// the API server's audit log (every write, by user): only the leader writes, the follower takes
// over within the lease duration, and no two replicas of a controller ever write in overlapping
// time, so no object is applied twice concurrently. The workload converges with exact inventories.
import * as k8s from "@kubernetes/client-node";
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { clientCert } from "../../../cli/certs";
import * as devCluster from "../../../cli/dev-cluster";
import { KubeClient } from "../../../controllers/runtime/kube";
import { leases, Lease } from "../../../controllers/runtime/leader-election";
import { eventually, randomSuffix } from "../../support/cluster";
import { controllerProcess, ControllerProcess } from "../../support/controller-process";
import { ExtraCluster, installCrdsOn, restartApiServer } from "../../support/extra-cluster";
import { startGitServers } from "../../support/git-server";
import { onTeardown } from "../../support/teardown";
import { core, createKustomization, gitRepositories, requestReconcile } from "../kustomize/support";
import { expectExactInventories, notReady, report, workloadFiles } from "./support";

const N = 20;
const LEASE_MS = 6000, RENEW_MS = 4000, RETRY_MS = 1000;
const USERS = ["source-a", "source-b", "kustomize-a", "kustomize-b"];

/** Every write (create/update/patch/delete) by the replicas' users, at Metadata level. */
const auditPolicy = JSON.stringify({
  apiVersion: "audit.k8s.io/v1", kind: "Policy", omitStages: ["RequestReceived", "ResponseStarted"],
  rules: [{ level: "Metadata", users: USERS, verbs: ["create", "update", "patch", "delete"] }, { level: "None" }],
});

interface AuditEvent { user: { username: string }; verb: string; objectRef?: { resource?: string; namespace?: string; name?: string; subresource?: string }; stageTimestamp: string; responseStatus?: { code?: number } }

describe("faults: two replicas per controller with leader election, leader SIGKILLed", function () {
  this.timeout(300_000);
  let own: ExtraCluster;
  let auditLog: string;
  before(async function () {
    this.timeout(180_000);
    const dir = path.join(os.tmpdir(), "gitops-test-clusters", `faults-leader-${process.pid}-${randomSuffix()}`);
    onTeardown(() => devCluster.down(dir).then(() => undefined));
    auditLog = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "gitops-faults-audit-")), "audit.log");
    const state = await devCluster.up({ dir, contextName: "faults-leader", auditLog });
    // The API server reads its audit policy at start: swap in one that records every write of the replicas, and restart it.
    fs.writeFileSync(path.join(dir, "audit-policy.json"), auditPolicy);
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(state.kubeconfig);
    own = { state, kc, client: KubeClient.fromKubeConfig(kc, { qps: 100, burst: 200 }), kubeconfig: fs.readFileSync(state.kubeconfig, "utf8"), stop: async () => { await devCluster.down(dir); } };
    await restartApiServer(own, 0);
    await installCrdsOn(own);
  });
  after(async () => { await own?.stop(); });

  /** A kubeconfig for `user` (in system:masters), with its own client certificate. */
  function kubeconfigFor(user: string): string {
    const pki = path.join(own.state.dir, "pki");
    const c = clientCert(pki, user, `/O=system:masters/CN=${user}`);
    const b64 = (f: string) => fs.readFileSync(f).toString("base64");
    const file = path.join(own.state.dir, `kubeconfig-${user}`);
    fs.writeFileSync(file, `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: ${own.state.server}\n    certificate-authority-data: ${b64(path.join(pki, "ca.crt"))}\n` +
      `users:\n- name: ${user}\n  user:\n    client-certificate-data: ${b64(c.cert)}\n    client-key-data: ${b64(c.key)}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: ${user}\ncurrent-context: c\n`, { mode: 0o600 });
    return file;
  }

  function replica(controller: "source" | "kustomize", name: "a" | "b"): ControllerProcess {
    const user = `${controller}-${name}`;
    const storage = fs.mkdtempSync(path.join(os.tmpdir(), `gitops-faults-${user}-`));
    onTeardown(() => fs.rmSync(storage, { recursive: true, force: true }));
    return controllerProcess(["--kubeconfig", kubeconfigFor(user), "--only", controller, "--enable-leader-election",
      "--leader-election-lease-duration", `${LEASE_MS / 1000}s`, "--leader-election-renew-deadline", `${RENEW_MS / 1000}s`,
      "--leader-election-retry-period", `${RETRY_MS / 1000}s`, "--kube-api-qps", "20", "--kube-api-burst", "5", "--log-level", "info",
      ...(controller === "source" ? ["--storage-path", storage, "--storage-addr", "127.0.0.1:0", "--storage-adv-addr", "127.0.0.1:0"] : [])], { name: user });
  }

  const audit = (): AuditEvent[] => fs.readFileSync(auditLog, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as AuditEvent)
    .filter((e) => USERS.includes(e.user.username));
  const isLease = (e: AuditEvent) => e.objectRef?.resource === "leases";
  const holder = async (lease: string) => (await own.client.get<Lease>(leases, { namespace: "flux-system", name: lease }))?.spec?.holderIdentity;

  it("only the leader writes; the follower takes over within the lease duration; no overlapping writers; all converge", async () => {
    const client = own.client;
    for (const name of ["flux-system", `faults-leader-${randomSuffix()}`]) await client.create(core.namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name } } as never).catch(() => undefined);
    const ns = (await client.list<{ metadata: { name: string } }>(core.namespaces)).items.map((n) => n.metadata.name).find((n) => n.startsWith("faults-leader-"))!;
    const r = { sourceA: replica("source", "a"), sourceB: replica("source", "b"), kzA: replica("kustomize", "a"), kzB: replica("kustomize", "b") };
    // The a replicas first, so they lead; then the b replicas as followers.
    await r.sourceA.start();
    await r.kzA.start();
    await eventually(async () => (await holder("source-controller-leader-election")) && (await holder("kustomize-controller-leader-election")), { timeoutMs: 30_000, what: "the a replicas leading" });
    const leaders = { source: await holder("source-controller-leader-election"), kustomize: await holder("kustomize-controller-leader-election") };
    await r.sourceB.start();
    await r.kzB.start();

    const git = await startGitServers({ files: workloadFiles(N, 1), http: {} });
    onTeardown(() => git.close());
    await client.create(gitRepositories, { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", metadata: { name: "repo", namespace: ns },
      spec: { interval: "1m", url: git.urls.http!, ref: { branch: "main" } } } as never);
    for (let i = 0; i < N; i++) await createKustomization(client, ns, `k-${i}`, { path: `./apps/k-${i}`, targetNamespace: ns, interval: "1m", retryInterval: "5s", timeout: "1m" });

    // kustomize-controller's leader killed mid-apply.
    await eventually(async () => (await notReady(client, ns, N, git.initialCommit)) < N, { timeoutMs: 90_000, intervalMs: 100, what: "apply under way" });
    const readyAtKzKill = N - (await notReady(client, ns, N, git.initialCommit));
    await r.kzA.kill();
    const kzKilledAt = Date.now();
    await eventually(async () => { const h = await holder("kustomize-controller-leader-election"); return h && h !== leaders.kustomize; }, { timeoutMs: 3 * LEASE_MS, intervalMs: 100, what: "kustomize-b leading" });
    const kzTakeoverMs = Date.now() - kzKilledAt;
    await eventually(async () => (await notReady(client, ns, N, git.initialCommit)) === 0, { timeoutMs: 120_000, intervalMs: 500, what: "all Ready at rev 1" });
    const kzConvergeMs = Date.now() - kzKilledAt;
    await expectExactInventories(client, ns, N, 1);

    // source-controller's leader killed with a new revision pending: the follower serves it from its own storage.
    const sha2 = await git.fixture.commitFiles(workloadFiles(N, 2), "rev 2");
    await r.sourceA.kill();
    const srcKilledAt = Date.now();
    await requestReconcile(client, gitRepositories, ns, "repo");
    await eventually(async () => { const h = await holder("source-controller-leader-election"); return h && h !== leaders.source; }, { timeoutMs: 3 * LEASE_MS, intervalMs: 100, what: "source-b leading" });
    const srcTakeoverMs = Date.now() - srcKilledAt;
    await eventually(async () => (await notReady(client, ns, N, sha2)) === 0, { timeoutMs: 120_000, intervalMs: 500, what: "all Ready at rev 2" });
    const srcConvergeMs = Date.now() - srcKilledAt;
    await expectExactInventories(client, ns, N, 2);

    const events = audit().filter((e) => (e.responseStatus?.code ?? 0) < 400);
    const writes = (user: string) => events.filter((e) => e.user.username === user && !isLease(e));
    const times = (user: string) => writes(user).map((e) => Date.parse(e.stageTimestamp));
    const count = Object.fromEntries(USERS.map((u) => [u, writes(u).length]));
    for (const [a, b] of [["source-a", "source-b"], ["kustomize-a", "kustomize-b"]]) {
      expect(writes(a).length, `${a} (the first leader) wrote`).to.be.above(0);
      expect(writes(b).length, `${b} wrote after taking over`).to.be.above(0);
      // The follower wrote nothing while the leader lived, and the two never wrote in overlapping time.
      expect(Math.min(...times(b)), `${b}'s first write comes after ${a}'s last`).to.be.above(Math.max(...times(a)));
    }
    expect(Math.min(...times("kustomize-b")), "no kustomize write by the follower before the leader was killed").to.be.at.least(kzKilledAt - 1000);
    expect(Math.min(...times("source-b")), "no source write by the follower before the leader was killed").to.be.at.least(srcKilledAt - 1000);
    for (const ms of [kzTakeoverMs, srcTakeoverMs]) expect(ms, "takeover within the lease duration (+ one retry period)").to.be.below(LEASE_MS + 2 * RETRY_MS);
    report("leader SIGKILLed (2 replicas each)", { kustomizations: N, readyAtKzKill, kzTakeoverMs, kzConvergeMs, srcTakeoverMs, srcConvergeMs, writesByUser: count, leaseMs: LEASE_MS, lost: 0 });
    for (const p of Object.values(r)) await p.stop();
  });
});
