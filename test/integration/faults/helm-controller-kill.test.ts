// Fault: the helm-controller process (with its helm children, as a container dies) SIGKILLed
// while helm installs, then upgrades, several HelmReleases, restarted at once each time. Each
// kill waits until some release is in the middle of its action (helm's lock: a
// pending-install / pending-upgrade / pending-rollback revision in its storage), then a random
// few hundred ms more. A release left pending by a dead process blocks every later helm action
// ("another operation (install/upgrade/rollback) is in progress"); the controller must unlock
// and remediate it. Afterwards every HelmRelease is Ready at the chart version asked for, with
// exactly one deployed release revision, nothing pending, and its objects present.
// Scale: GITOPS_FAULTS_HELM_SCALE=<releases>x<kills per phase> (default 6x3).
import { expect } from "chai";
import type { HelmRelease } from "../../../controllers/api/helm/v2/helm-release";
import { decodeRelease } from "../../../controllers/helm/release-storage";
import { helmReleases } from "../../../controllers/helm/setup";
import type { KubeObject } from "../../../controllers/runtime/keys";
import { helmRepositories } from "../../../controllers/source/helm/helmrepository-reconciler";
import { eventually, getCluster, newNamespace, randomSuffix } from "../../support/cluster";
import { controllerProcess } from "../../support/controller-process";
import { startControllers as startSource } from "../../support/controllers";
import { HelmRepoServer } from "../../support/helm-repo";
import { createSource, waitForSource } from "../../support/oci-registry";
import { onTeardown } from "../../support/teardown";
import { cond, deployments, releaseEvents, secrets } from "../helm/support";
import { mulberry32, report } from "./support";

function helmScale(): { releases: number; kills: number } {
  const v = process.env.GITOPS_FAULTS_HELM_SCALE;
  if (!v) return { releases: 6, kills: 3 };
  const m = /^(\d+)x(\d+)$/.exec(v);
  if (!m) throw new Error(`GITOPS_FAULTS_HELM_SCALE must be '<releases>x<kills per phase>', got '${v}'`);
  return { releases: Number(m[1]), kills: Number(m[2]) };
}

type ReleaseSecret = KubeObject & { data?: Record<string, string> };
const LOCKED = new Set(["pending-install", "pending-upgrade", "pending-rollback", "uninstalling"]);

describe("faults: helm-controller SIGKILLed mid-install and mid-upgrade", function () {
  const scale = helmScale();
  this.timeout(Math.max(300_000, scale.releases * scale.kills * 20_000));

  it(`every HelmRelease ends Ready at its chart version after ${2 * scale.kills} kills over ${scale.releases} releases`, async () => {
    const n = scale.releases;
    const seed = Number(process.env.GITOPS_FAULTS_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const random = mulberry32(seed);
    const source = await startSource();
    const client = source.client;
    const instance = source.labels["gitops-test/instance"];
    const { kubeconfigPath } = await getCluster();
    const ns = await newNamespace("faults-helm");
    const repo = await HelmRepoServer.start();
    onTeardown(() => repo.close());
    await repo.addChart("app", "1.0.0");
    await repo.addChart("app", "2.0.0");
    await createSource(source, helmRepositories, ns, "charts", { url: repo.url, interval: "10m" });
    await waitForSource(client, helmRepositories, ns, "charts", { ready: "True" });

    const hc = controllerProcess(["--kubeconfig", kubeconfigPath, "--only", "helm", "--watch-label-selector", `gitops-test/instance=${instance}`,
      "--concurrent", "3", "--log-level", "info"], { name: `faults-helm-${randomSuffix()}`, processGroup: true });
    await hc.start();
    const names = Array.from({ length: n }, (_, i) => `r${i}`);
    const chartSpec = (version: string) => ({ chart: "app", version, sourceRef: { kind: "HelmRepository", name: "charts" }, interval: "10m" });
    for (const name of names) {
      await client.create(helmReleases, {
        apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease", metadata: { name, namespace: ns, labels: source.labels },
        // Default remediation (retries 0): an interrupted action must not use up the retries.
        spec: { interval: "10m", timeout: "1m", chart: { metadata: { labels: source.labels }, spec: chartSpec("1.0.0") } },
      } as never);
    }

    /** Release name → the states of its stored revisions, from helm's storage Secrets. */
    const storage = async () => {
      const list = await client.list<ReleaseSecret>(secrets, { namespace: ns, labelSelector: "owner=helm" });
      const byRelease = new Map<string, Array<{ version: number; status: string; chartVersion: string }>>();
      for (const s of list.items) {
        const r = decodeRelease(s.data!.release!);
        const l = byRelease.get(r.name) ?? [];
        l.push({ version: r.version, status: r.info.status, chartVersion: String(r.chart.metadata.version) });
        byRelease.set(r.name, l);
      }
      return byRelease;
    };
    const lockedCount = async () => [...(await storage()).values()].filter((revs) => revs.some((r) => LOCKED.has(r.status))).length;
    const readyAt = async (version: string) => {
      const list = await client.list<HelmRelease>(helmReleases, { namespace: ns });
      return list.items.filter((hr) => cond(hr, "Ready")?.status === "True" && hr.status?.observedGeneration === hr.metadata.generation
        && hr.status?.history?.[0]?.chartVersion === version).length;
    };

    const kills: Array<{ phase: string; delayMs: number; lockedAtKill: number; readyAtKill: number }> = [];
    const killDuring = async (phase: string, version: string) => {
      for (let k = 0; k < scale.kills; k++) {
        // Wait for a helm action in flight (a locked release), then a random moment into it.
        const found = await eventually(async () => (await lockedCount()) > 0 || (await readyAt(version)) === n, { timeoutMs: 60_000, intervalMs: 50, what: "a release in the middle of a helm action" });
        if (!found || (await readyAt(version)) === n) break;
        const delayMs = Math.floor(random() * 400);
        await new Promise((r) => setTimeout(r, delayMs));
        await hc.kill();
        kills.push({ phase, delayMs, lockedAtKill: await lockedCount(), readyAtKill: await readyAt(version) });
        await hc.start();
      }
    };
    const converge = async (version: string) => {
      const t0 = Date.now();
      await eventually(async () => (await readyAt(version)) === n, { timeoutMs: 90_000, intervalMs: 250, what: `all ${n} HelmReleases Ready at ${version}` })
        .catch(async (e) => {
          const list = await client.list<HelmRelease>(helmReleases, { namespace: ns });
          const st = Object.fromEntries([...(await storage()).entries()].map(([k, v]) => [k, v.sort((a, b) => a.version - b.version).map((r) => `v${r.version}:${r.status}:${r.chartVersion}`)]));
          throw new Error(`${(e as Error).message}; Ready: ${JSON.stringify(list.items.map((h) => [h.metadata.name, cond(h, "Ready")?.reason, cond(h, "Ready")?.message]))}; storage: ${JSON.stringify(st)}; log: ${hc.log().slice(-3000)}`);
        });
      return Date.now() - t0;
    };

    /** Every release at `version`: Ready, settled, exactly one deployed revision of that chart version, nothing locked, its objects present. */
    const expectReleased = async (version: string) => {
      const problems: string[] = [];
      const st = await storage();
      for (const name of names) {
        const hr = await client.get<HelmRelease>(helmReleases, { namespace: ns, name });
        if (cond(hr, "Stalled")) problems.push(`${name}: Stalled ${cond(hr, "Stalled")?.message}`);
        if (cond(hr, "Reconciling")) problems.push(`${name}: Reconciling ${cond(hr, "Reconciling")?.message}`);
        const revs = st.get(name) ?? [];
        const deployed = revs.filter((r) => r.status === "deployed");
        if (deployed.length !== 1 || deployed[0]!.chartVersion !== version) problems.push(`${name}: deployed revisions ${JSON.stringify(deployed)}, want one of ${version}`);
        const locked = revs.filter((r) => LOCKED.has(r.status));
        if (locked.length) problems.push(`${name}: locked revisions ${JSON.stringify(locked)}`);
        const top = Math.max(...revs.map((r) => r.version));
        if (deployed[0] && deployed[0].version !== top) problems.push(`${name}: deployed v${deployed[0].version} is not the latest (v${top})`);
        const snap = hr?.status?.history?.[0];
        if (snap?.version !== deployed[0]?.version || snap?.status !== "deployed") problems.push(`${name}: status.history[0] ${JSON.stringify(snap)}`);
        const dep = await client.get<KubeObject>(deployments, { namespace: ns, name: `${name}-app` });
        if (dep?.metadata?.labels?.["helm.sh/chart"] !== `app-${version}`) problems.push(`${name}: Deployment ${name}-app has chart ${dep?.metadata?.labels?.["helm.sh/chart"]}`);
        for (const [res, obj] of [[{ group: "", version: "v1", plural: "services", kind: "Service" }, "Service"], [{ group: "", version: "v1", plural: "serviceaccounts", kind: "ServiceAccount" }, "ServiceAccount"]] as const) {
          if (!(await client.get(res, { namespace: ns, name: `${name}-app` }))) problems.push(`${name}: ${obj} ${name}-app missing`);
        }
      }
      expect(problems, `${problems.length} problems`).to.deep.equal([]);
    };

    await killDuring("install", "1.0.0");
    const converge1 = await converge("1.0.0");
    await expectReleased("1.0.0");

    for (const name of names) {
      await client.patch(helmReleases, { namespace: ns, name }, { spec: { chart: { spec: chartSpec("2.0.0") } } });
    }
    await killDuring("upgrade", "2.0.0");
    const converge2 = await converge("2.0.0");
    await expectReleased("2.0.0");

    // Event objects (a repeated unlock of the same revision is one Event with a higher count).
    let unlocked = 0;
    for (const name of names) unlocked += (await releaseEvents(client, ns, name)).filter((e) => e.reason === "PendingRelease").length;
    report("helm-controller SIGKILL mid-install/upgrade", { seed, releases: n, kills: kills.length, killPoints: kills, convergeAfterLastKillMs: { install: converge1, upgrade: converge2 }, pendingReleaseEvents: unlocked, lost: 0 });
    // The kills really left releases locked, in both phases: without the recovery they would stay so.
    for (const phase of ["install", "upgrade"]) {
      expect(kills.filter((k) => k.phase === phase && k.lockedAtKill > 0).length, `${phase} kills that left a release locked`).to.be.greaterThan(0);
    }
    expect(unlocked, "PendingRelease events").to.be.greaterThan(0);
    await hc.stop();
  });
});
