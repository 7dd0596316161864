// HelmRelease spec.chartRef of kind ExternalArtifact (helm-controller --feature-gates=ExternalArtifact=true):
// the source-watcher's ArtifactGenerator turns a GitRepository holding a chart (`helm create`
// output, unpackaged) into an ExternalArtifact with the chart under one top directory; the
// HelmRelease fetches that tarball (digest verified) and installs it. A commit that changes the
// chart's content but not its version still upgrades (the revision digest is tracked, as Flux's
// `<version>+<digest[0:12]>`). An ExternalArtifact without an artifact is SourceNotReady; without
// the feature gate the reference stalls with AccessDenied.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import type { ExternalArtifact } from "../../../controllers/api/source/v1/external-artifact";
import { startHelmController } from "../../../controllers/helm/setup";
import type { KubeClient } from "../../../controllers/runtime/kube";
import { startSourceController } from "../../../controllers/source/setup";
import { artifactGenerators, externalArtifacts } from "../../../controllers/source-watcher/artifact-generator-reconciler";
import { startSourceWatcher } from "../../../controllers/source-watcher/setup";
import { tool } from "../../../cli/tools";
import { eventually, getCluster, newNamespace, randomSuffix } from "../../support/cluster";
import { INSTANCE_LABEL, installCrds, testManager } from "../../support/controllers";
import { helmCreate } from "../../support/helm-repo";
import { onTeardown } from "../../support/teardown";
import { gitSource, requestReconcile } from "../kustomize/support";
import { Deployment, cond, deployments, expectSettled, helmReleases, waitForAvailable, waitForRelease } from "./support";

const instance = `hr-ea-${randomSuffix(6)}`;
const labels = { [INSTANCE_LABEL]: instance };
const gitRepositories = { group: "source.toolkit.fluxcd.io", version: "v1", plural: "gitrepositories", kind: "GitRepository" };

/** The files of `helm create app` (version 1.0.0), as repository paths under `charts/app/`. */
async function chartFiles(): Promise<Record<string, string>> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hr-ea-chart-"));
  try {
    const dir = await helmCreate(tmp, "app", "1.0.0");
    const out: Record<string, string> = {};
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else out[`charts/app/${path.relative(dir, p)}`] = fs.readFileSync(p, "utf8");
      }
    };
    walk(dir);
    return out;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function createRelease(client: KubeClient, ns: string, name: string, spec: Record<string, unknown>, l = labels): Promise<void> {
  await client.create(helmReleases, {
    apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease", metadata: { name, namespace: ns, labels: l },
    spec: { interval: "10m", timeout: "2m", ...spec },
  } as never);
}

describe("HelmRelease: chartRef ExternalArtifact (source-watcher)", function () {
  this.timeout(240_000);
  let client: KubeClient;
  const noGate = { [INSTANCE_LABEL]: `${instance}-nogate` };

  before(async () => {
    await installCrds();
    const { kc } = await getCluster();
    const manager = testManager(kc, `test-${instance}`, instance, { requeueDependencyMs: 1000 });
    const storageDir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-hr-ea-storage-"));
    const source = await startSourceController({ storagePath: storageDir, storageAddr: "127.0.0.1:0", artifactRetentionRecords: 2 });
    const sw = await startSourceWatcher({ storage: source.storage, storagePath: storageDir, storageAddr: "127.0.0.1:0", artifactRetentionRecords: 2, requeueDependencyMs: 1000 });
    const hc = startHelmController({ kubeConfig: kc, client: manager.client, helmPath: tool("helm"), kustomizePath: tool("kustomize"), requeueDependencyMs: 1000, featureGates: { ExternalArtifact: true } });
    for (const d of [...source.definitions, ...sw.definitions, ...hc.definitions]) manager.add(d);
    await manager.start();
    // A second helm-controller without the gate, for HelmReleases labelled `noGate`.
    const manager2 = testManager(kc, `test-${instance}-nogate`, noGate[INSTANCE_LABEL], { requeueDependencyMs: 1000 });
    const hc2 = startHelmController({ kubeConfig: kc, client: manager2.client, helmPath: tool("helm"), kustomizePath: tool("kustomize"), requeueDependencyMs: 1000 });
    for (const d of hc2.definitions) manager2.add(d);
    await manager2.start();
    client = manager.client;
    onTeardown(async () => {
      await manager.stop(); await manager2.stop();
      await hc.close(); await hc2.close(); await sw.close(); await source.close();
      fs.rmSync(storageDir, { recursive: true, force: true });
    });
  });

  it("installs the chart of a generated ExternalArtifact, and upgrades on new content with the same chart version", async () => {
    const ns = await newNamespace("hr-ea");
    const { fixture } = await gitSource(client, ns, await chartFiles(), "charts", labels);
    await client.create(artifactGenerators, {
      apiVersion: "source.extensions.fluxcd.io/v1beta1", kind: "ArtifactGenerator", metadata: { name: "gen", namespace: ns, labels },
      spec: {
        commonMetadata: { labels },
        sources: [{ alias: "repo", kind: "GitRepository", name: "charts" }],
        artifacts: [{ name: "app-chart", copy: [{ from: "@repo/charts/app/**", to: "@artifact/app/" }] }],
      },
    } as never);
    await createRelease(client, ns, "web", { chartRef: { kind: "ExternalArtifact", name: "app-chart" } });
    const hr = await waitForRelease(client, ns, "web", { ready: "True", reason: "InstallSucceeded" }, 120_000);
    expectSettled(hr);
    const ea = (await client.get<ExternalArtifact>(externalArtifacts, { namespace: ns, name: "app-chart" }))!;
    const digest = ea.status!.artifact!.revision.split("@sha256:")[1];
    expect(hr.status?.lastAttemptedRevision).to.equal(`1.0.0+${digest.slice(0, 12)}`);
    expect(hr.status?.lastAttemptedRevisionDigest).to.equal(`sha256:${digest}`);
    expect(hr.status?.history?.[0]).to.include({ chartName: "app", chartVersion: "1.0.0", version: 1 });
    expect((await waitForAvailable(client, ns, "web-app")).spec?.replicas).to.equal(1);

    // Same Chart.yaml version, new default values: a new artifact revision, an upgrade.
    const values = (await chartFiles())["charts/app/values.yaml"].replace(/^replicaCount: 1$/m, "replicaCount: 2");
    await fixture.commitFiles({ "charts/app/values.yaml": values }, "two replicas");
    await requestReconcile(client, gitRepositories, ns, "charts");
    const up = await waitForRelease(client, ns, "web", { ready: "True", reason: "UpgradeSucceeded", check: (h) => h.status?.history?.[0]?.version === 2 }, 120_000);
    expect(up.status?.lastAttemptedRevision).to.match(/^1\.0\.0\+[0-9a-f]{12}$/);
    expect(up.status?.lastAttemptedRevision).to.not.equal(hr.status?.lastAttemptedRevision);
    await eventually(async () => (await client.get<Deployment>(deployments, { namespace: ns, name: "web-app" }))?.spec?.replicas === 2, { what: "two replicas" });
  });

  it("waits for an ExternalArtifact without an artifact, and stalls without the feature gate", async () => {
    const ns = await newNamespace("hr-ea-bad");
    await client.create(externalArtifacts, { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "ExternalArtifact", metadata: { name: "empty", namespace: ns }, spec: {} } as never);
    await createRelease(client, ns, "web", { chartRef: { kind: "ExternalArtifact", name: "empty" } });
    const waiting = await waitForRelease(client, ns, "web", { ready: "False", reason: "SourceNotReady" });
    expect(cond(waiting, "Ready")!.message).to.equal(`ExternalArtifact '${ns}/empty' is not ready: does not have an artifact`);

    await createRelease(client, ns, "gated", { chartRef: { kind: "ExternalArtifact", name: "empty" } }, noGate);
    const denied = await waitForRelease(client, ns, "gated", { ready: "False", reason: "AccessDenied" });
    expect(cond(denied, "Ready")!.message).to.equal(`can't access 'ExternalArtifact/${ns}/empty', ExternalArtifact feature gate is disabled`);
    expect(cond(denied, "Stalled")).to.include({ status: "True", reason: "AccessDenied" });
  });
});
