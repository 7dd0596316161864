import { expect } from "chai";
import { KubeClient, Lease, LeaderElector, Manager, Result, createLogger, kubeLeaseStore, leases } from "../../../controllers/runtime";
import { eventually, getCluster, newNamespace } from "../../support/cluster";
import { onTeardown } from "../../support/teardown";

const timing = { leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 };

describe("runtime LeaderElector on a coordination.k8s.io/v1 Lease", function () {
  let client: KubeClient;
  before(async function () {
    this.timeout(120000);
    const { kc } = await getCluster();
    client = KubeClient.fromKubeConfig(kc, { qps: 0 });
  });

  /** Two candidates on one lease; `leading` must never hold two names. */
  function candidates(ns: string, opts: { releaseOnCancel?: boolean } = {}) {
    const leading = new Set<string>();
    const violations: string[] = [];
    const make = (id: string) => {
      const stop = new AbortController();
      const elector = new LeaderElector(kubeLeaseStore(client, ns, "runtime-test"), {
        ...timing, identity: id, releaseOnCancel: opts.releaseOnCancel,
        onStartedLeading: () => { if (leading.size) violations.push(`${id} started while ${[...leading]} led`); leading.add(id); },
        onStoppedLeading: () => { leading.delete(id); },
      });
      const run = elector.run(stop.signal);
      onTeardown(async () => { stop.abort(); await run; });
      return { id, elector, stop, run };
    };
    return { leading, violations, make };
  }

  const lease = (ns: string): Promise<Lease | undefined> => client.get<Lease>(leases, { namespace: ns, name: "runtime-test" });

  it("lets only one of two candidates lead, and hands over at once when the leader releases", async function () {
    const ns = await newNamespace("lease");
    const { leading, violations, make } = candidates(ns);
    const a = make("candidate-a");
    const b = make("candidate-b");
    const first = await eventually(() => [...leading][0], { what: "a leader" });
    const [leader, other] = first === a.id ? [a, b] : [b, a];
    const l1 = await lease(ns);
    expect(l1?.spec).to.deep.include({ holderIdentity: leader.id, leaseDurationSeconds: 4, leaseTransitions: 0 });
    expect(l1?.spec?.renewTime).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    // Renewals happen and the other candidate keeps following.
    const renewed = await eventually(async () => { const l = await lease(ns); return l?.spec?.renewTime !== l1?.spec?.renewTime && l; }, { what: "a renewal" });
    await eventually(async () => (await lease(ns))?.spec?.renewTime !== renewed.spec?.renewTime, { what: "a second renewal" });
    expect([...leading]).to.deep.equal([leader.id]);
    expect(other.elector.isLeader()).to.equal(false);
    expect(other.elector.leader()).to.equal(leader.id);

    leader.stop.abort();
    await leader.run;
    expect(leader.elector.isLeader()).to.equal(false);
    // Released: the successor need not wait for the lease to expire (4 s).
    await eventually(() => leading.has(other.id), { what: "takeover after release", timeoutMs: 3000 });
    const l2 = await lease(ns);
    expect(l2?.spec).to.deep.include({ holderIdentity: other.id, leaseTransitions: 1 });
    expect(violations).to.deep.equal([]);
  });

  it("replaces a leader that stopped without releasing once the lease expires", async function () {
    const ns = await newNamespace("lease");
    const { leading, violations, make } = candidates(ns, { releaseOnCancel: false });
    const a = make("candidate-a");
    await eventually(() => leading.has(a.id), { what: "a leads" });
    const b = make("candidate-b");
    a.stop.abort();
    await a.run;
    expect((await lease(ns))?.spec?.holderIdentity).to.equal(a.id);
    const stoppedAt = Date.now();
    await eventually(() => leading.has(b.id), { what: "takeover after expiry", timeoutMs: 15000 });
    expect(Date.now() - stoppedAt).to.be.at.least(timing.leaseDurationMs - timing.retryPeriodMs * 2);
    expect((await lease(ns))?.spec?.holderIdentity).to.equal(b.id);
    expect(violations).to.deep.equal([]);
  });
});

describe("runtime Manager with leader election: reconciles only while leading", function () {
  it("runs controllers in the leader only, and in the other manager after the leader stops", async function () {
    const { kc } = await getCluster();
    const client = KubeClient.fromKubeConfig(kc, { qps: 0 });
    const ns = await newNamespace("lead");
    const configMaps = { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap" } as const;
    const seen: Record<string, string[]> = { one: [], two: [] };
    const make = (id: "one" | "two"): Manager => {
      const m = new Manager({
        name: "toy-controller", kubeConfig: kc, handleSignals: false, runtimeNamespace: ns, identity: id,
        flags: {
          metricsAddr: "", healthAddr: "", enableLeaderElection: true, watchAllNamespaces: false,
          leaderElectionLeaseDurationMs: 4000, leaderElectionRenewDeadlineMs: 3000, leaderElectionRetryPeriodMs: 500,
        },
        logger: createLogger({ level: "silent" }),
      });
      m.add({ name: "configmap", kind: configMaps, reconcile: async (key) => { seen[id].push(key.name); return Result.done(); } });
      onTeardown(() => m.stop());
      return m;
    };
    const one = make("one");
    await one.start();
    await eventually(() => one.isLeader(), { what: "one leads" });
    const two = make("two");
    await two.start();
    await client.create(configMaps, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "first", namespace: ns } });
    await eventually(() => seen.one.includes("first"), { what: "leader reconciles" });
    const lease = await client.get<Lease>(leases, { namespace: ns, name: "toy-controller-leader-election" });
    expect(lease?.spec?.holderIdentity).to.equal("one");
    expect(two.isLeader()).to.equal(false);
    expect(two.isReady()).to.equal(true);
    expect(seen.two).to.deep.equal([]);

    await one.stop();
    await eventually(() => two.isLeader(), { what: "two takes over", timeoutMs: 5000 });
    await client.create(configMaps, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "second", namespace: ns } });
    await eventually(() => seen.two.includes("second"), { what: "new leader reconciles" });
    expect(seen.two).to.include("first");
    expect(seen.one).to.not.include("second");
  });
});
