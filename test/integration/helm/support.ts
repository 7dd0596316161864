// The helm-controller next to the test source-controller: a second Manager watching the same
// instance label, and small helpers to create and wait for HelmReleases.
import { expect } from "chai";
import { HelmRelease } from "../../../controllers/api/helm/v2/helm-release";
import { startHelmController, helmReleases } from "../../../controllers/helm/setup";
import { KubeClient } from "../../../controllers/runtime/kube";
import { KubeObject } from "../../../controllers/runtime/keys";
import { tool } from "../../../cli/tools";
import { eventually, getCluster } from "../../support/cluster";
import { INSTANCE_LABEL, RunningControllers, startControllers, testManager } from "../../support/controllers";
import { HelmRepoServer, helmCreate, helmPackage } from "../../support/helm-repo";
import * as fs from "node:fs";
import * as path from "node:path";
import { createSource, waitForSource } from "../../support/oci-registry";
import { helmRepositories } from "../../../controllers/source/helm/helmrepository-reconciler";
import { onTeardown } from "../../support/teardown";

export { helmReleases };

/**
 * A helm-controller for the HelmReleases labelled like `ctl`'s objects, or, with `instance`,
 * a second one for HelmReleases labelled `labels` (their HelmCharts stay `ctl`'s).
 */
export async function startHelm(ctl: RunningControllers, o: { instance?: string; defaultServiceAccount?: string } = {}):
  Promise<{ stop(): Promise<void>; labels: Record<string, string> }> {
  const { kc } = await getCluster();
  const instance = o.instance ?? ctl.labels[INSTANCE_LABEL];
  const manager = testManager(kc, "gitops-test-helm-controller", instance, { requeueDependencyMs: 1000 });
  const hc = startHelmController({ kubeConfig: kc, client: manager.client, helmPath: tool("helm"), kustomizePath: tool("kustomize"), requeueDependencyMs: 1000, defaultServiceAccount: o.defaultServiceAccount });
  for (const d of hc.definitions) manager.add(d);
  await manager.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await manager.stop();
    await hc.close();
  };
  onTeardown(stop);
  return { stop, labels: { [INSTANCE_LABEL]: instance } };
}

export async function createRelease(ctl: RunningControllers, namespace: string, name: string, spec: Record<string, unknown>,
  labels: Record<string, string> = ctl.labels): Promise<HelmRelease> {
  return ctl.client.create(helmReleases, {
    apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease",
    metadata: { name, namespace, labels }, spec: { interval: "10m", timeout: "2m", ...spec },
  } as never) as Promise<HelmRelease>;
}

/** Reasons and messages of the Events recorded for a HelmRelease. */
export async function releaseEvents(client: KubeClient, namespace: string, name: string): Promise<Array<{ reason: string; message: string }>> {
  const list = await client.list<KubeObject & { reason?: string; message?: string; involvedObject?: { kind?: string; name?: string } }>(
    { group: "", version: "v1", plural: "events", kind: "Event" }, { namespace });
  return list.items.filter((e) => e.involvedObject?.kind === "HelmRelease" && e.involvedObject.name === name)
    .map((e) => ({ reason: e.reason ?? "", message: e.message ?? "" }));
}

export const cond = (hr: HelmRelease | undefined, type: string) => hr?.status?.conditions?.find((c) => c.type === type);

/** Waits until Ready has `status` (and `reason`, and `check` holds), for the current generation. */
export async function waitForRelease(client: KubeClient, namespace: string, name: string,
  want: { ready: "True" | "False"; reason?: string; check?: (hr: HelmRelease) => boolean }, timeoutMs = 90000): Promise<HelmRelease> {
  let last: HelmRelease | undefined;
  return eventually(async () => {
    last = await client.get<HelmRelease>(helmReleases, { namespace, name });
    const ready = cond(last, "Ready");
    if (ready?.status !== want.ready || (want.reason && ready.reason !== want.reason)) return undefined;
    // kstatus: Ready=True counts only for the current generation.
    if (want.ready === "True" && last!.status?.observedGeneration !== last!.metadata.generation) return undefined;
    if (want.check && !want.check(last!)) return undefined;
    return last;
  }, { timeoutMs, intervalMs: 250, what: `HelmRelease ${namespace}/${name} Ready=${want.ready} ${want.reason ?? ""}` })
    .catch((e) => { throw new Error(`${(e as Error).message}; last status: ${JSON.stringify(last?.status)}`); });
}

/** kstatus-style check: Ready=True, no Reconciling/Stalled, observedGeneration current. */
export function expectSettled(hr: HelmRelease): void {
  expect(cond(hr, "Ready")?.status).to.equal("True");
  expect(cond(hr, "Reconciling"), "Reconciling").to.equal(undefined);
  expect(cond(hr, "Stalled"), "Stalled").to.equal(undefined);
  expect(hr.status?.observedGeneration).to.equal(hr.metadata.generation);
}

export const deployments = { group: "apps", version: "v1", plural: "deployments", kind: "Deployment" };
export const secrets = { group: "", version: "v1", plural: "secrets", kind: "Secret" };
export const configMaps = { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap" };

export type Deployment = KubeObject & { spec?: { replicas?: number }; status?: { conditions?: Array<{ type: string; status: string }> } };

export async function waitForAvailable(client: KubeClient, namespace: string, name: string): Promise<Deployment> {
  return eventually(async () => {
    const d = await client.get<Deployment>(deployments, { namespace, name });
    return d?.status?.conditions?.some((c) => c.type === "Available" && c.status === "True") ? d : undefined;
  }, { timeoutMs: 60000, what: `Deployment ${namespace}/${name} Available` });
}

/** Names of Helm's release Secrets (`sh.helm.release.v1.<release>.v<N>`) in a namespace. */
export async function releaseSecrets(client: KubeClient, namespace: string, release: string): Promise<string[]> {
  const list = await client.list<KubeObject>(secrets, { namespace, labelSelector: `owner=helm,name=${release}` });
  return list.items.map((s) => s.metadata!.name!).sort();
}

/**
 * mocha hooks for a suite releasing chart `app` 1.0.0: our controllers, the helm-controller and
 * a Helm repository serving the chart, started once and stopped after. `helmRepository(ns)`
 * creates the HelmRepository `charts` in a test's namespace; `chart()` is the spec.chart for it.
 * `files` are written into the chart (`helm create app`) before packaging, relative to its dir.
 */
export function appChartSuite(o: { files?: Record<string, string | null> } = {}): {
  readonly ctl: RunningControllers;
  helmRepository(ns: string): Promise<void>;
  chart(): { metadata: { labels: Record<string, string> }; spec: { chart: string; version: string; sourceRef: { kind: string; name: string } } };
} {
  let ctl: RunningControllers | undefined;
  let helm: { stop(): Promise<void> } | undefined;
  let repo: HelmRepoServer | undefined;
  before(async function () {
    ctl = await startControllers();
    helm = await startHelm(ctl);
    repo = await HelmRepoServer.start();
    if (!o.files) await repo.addChart("app", "1.0.0");
    else {
      const dir = await helmCreate(path.join(repo.dir, "src", "app-1.0.0"), "app", "1.0.0");
      for (const [rel, body] of Object.entries(o.files)) {
        if (body === null) fs.rmSync(path.join(dir, rel), { force: true });
        else fs.writeFileSync(path.join(dir, rel), body);
      }
      await helmPackage(dir, repo.www);
      await repo.reindex();
    }
  });
  after(async () => { await helm?.stop(); await ctl?.stop(); await repo?.close(); });
  return {
    get ctl() { return ctl!; },
    async helmRepository(ns) {
      await createSource(ctl!, helmRepositories, ns, "charts", { url: repo!.url });
      await waitForSource(ctl!.client, helmRepositories, ns, "charts", { ready: "True" });
    },
    chart: () => ({ metadata: { labels: ctl!.labels }, spec: { chart: "app", version: "1.0.0", sourceRef: { kind: "HelmRepository", name: "charts" } } }),
  };
}
