// ArtifactGenerator (source-watcher) end to end: a GitRepository served over smart HTTP is split
// into two ExternalArtifacts; a Kustomization (ExternalArtifact feature gate on) applies one.
// Unchanged content keeps its revision, a commit touching only the other directory changes only
// the other artifact, and a missing source is Ready=False SourceFetchFailed.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import type { ExternalArtifact } from "../../../controllers/api/source/v1/external-artifact";
import type { ArtifactGenerator } from "../../../controllers/api/source-extensions/v1beta1/artifact-generator";
import { startKustomizeController } from "../../../controllers/kustomize/setup";
import type { KubeObject } from "../../../controllers/runtime/keys";
import { startSourceController } from "../../../controllers/source/setup";
import { artifactGenerators, externalArtifacts } from "../../../controllers/source-watcher/artifact-generator-reconciler";
import { startSourceWatcher } from "../../../controllers/source-watcher/setup";
import { tool } from "../../../cli/tools";
import { eventually, getCluster, newNamespace, randomSuffix } from "../../support/cluster";
import { INSTANCE_LABEL, installCrds, testManager } from "../../support/controllers";
import { onTeardown } from "../../support/teardown";
import { configMap, core, createKustomization, gitSource, requestReconcile, waitForReady } from "../kustomize/support";
import type { KubeClient } from "../../../controllers/runtime/kube";

const instance = `sw-${randomSuffix(6)}`;
const labels = { [INSTANCE_LABEL]: instance };

async function getEA(client: KubeClient, ns: string, name: string): Promise<ExternalArtifact | undefined> {
  return client.get<ExternalArtifact>(externalArtifacts, { namespace: ns, name });
}

async function waitGenerator(client: KubeClient, ns: string, name: string, status: "True" | "False", reason?: string): Promise<ArtifactGenerator> {
  return eventually(async () => {
    const g = await client.get<ArtifactGenerator>(artifactGenerators, { namespace: ns, name });
    const ready = g?.status?.conditions?.find((c) => c.type === "Ready");
    return ready?.status === status && ready.observedGeneration === g!.metadata.generation && (!reason || ready.reason === reason) ? g : undefined;
  }, { timeoutMs: 60_000, what: `ArtifactGenerator ${ns}/${name} Ready=${status}${reason ? ` (${reason})` : ""}` });
}

describe("ArtifactGenerator: decomposing a GitRepository into ExternalArtifacts", function () {
  this.timeout(180_000);
  let client: KubeClient;
  let storageDir: string;

  before(async () => {
    await installCrds();
    const { kc } = await getCluster();
    const manager = testManager(kc, `test-${instance}`, instance);
    storageDir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-sw-storage-"));
    const source = await startSourceController({ storagePath: storageDir, storageAddr: "127.0.0.1:0", artifactRetentionRecords: 2 });
    const sw = await startSourceWatcher({ storage: source.storage, storagePath: storageDir, storageAddr: "127.0.0.1:0", artifactRetentionRecords: 2, requeueDependencyMs: 1000 });
    const kz = startKustomizeController({
      kubeConfig: kc, client: manager.client, logger: manager.log, kubeApiQps: 0, kubeApiBurst: 0,
      kustomizePath: tool("kustomize"), sopsPath: "sops", featureGates: { ExternalArtifact: true },
    });
    for (const d of [...source.definitions, ...sw.definitions, ...kz.definitions]) manager.add(d);
    await manager.start();
    client = manager.client;
    onTeardown(async () => {
      await manager.stop();
      await sw.close(); await kz.close(); await source.close();
      fs.rmSync(storageDir, { recursive: true, force: true });
    });
  });

  it("builds one ExternalArtifact per output, a Kustomization applies one, and only changed content gets a new revision", async () => {
    const ns = await newNamespace("sw");
    const { fixture } = await gitSource(client, ns, {
      "deploy/frontend/cm.yaml": configMap("frontend", { v: "1" }),
      "deploy/backend/cm.yaml": configMap("backend", { v: "1" }),
      "deploy/backend/README.md": "# left out\n",
    }, "monorepo", labels);
    await client.create(artifactGenerators, {
      apiVersion: "source.extensions.fluxcd.io/v1beta1", kind: "ArtifactGenerator",
      metadata: { name: "apps", namespace: ns, labels },
      spec: {
        commonMetadata: { labels },
        sources: [{ alias: "repo", kind: "GitRepository", name: "monorepo" }],
        artifacts: [
          { name: "frontend", originRevision: "@repo", copy: [{ from: "@repo/deploy/frontend/**", to: "@artifact/" }] },
          { name: "backend", copy: [{ from: "@repo/deploy/backend/**", to: "@artifact/", exclude: ["*.md"] }] },
        ],
      },
    } as never);
    const g = await waitGenerator(client, ns, "apps", "True", "Succeeded");
    expect(g.status?.inventory?.map((e) => e.name)).to.deep.equal(["frontend", "backend"]);
    expect(g.status?.observedSourcesDigest).to.match(/^sha256:[0-9a-f]{64}$/);
    expect(g.status?.conditions?.map((c) => c.type)).to.not.include("Reconciling");

    const fe = (await getEA(client, ns, "frontend"))!;
    const be = (await getEA(client, ns, "backend"))!;
    for (const ea of [fe, be]) {
      expect(ea.spec.sourceRef).to.include({ kind: "ArtifactGenerator", name: "apps", namespace: ns });
      expect(ea.metadata.labels?.["source.extensions.fluxcd.io/generator"]).to.equal(g.metadata.uid);
      expect(ea.status?.artifact?.revision).to.equal(`latest@${ea.status?.artifact?.digest}`);
      expect(ea.status?.artifact?.path).to.match(new RegExp(`^externalartifact/${ns}/${ea.metadata.name}/\\d+\\.tar\\.gz$`));
      expect(ea.status?.conditions?.find((c) => c.type === "Ready")?.status).to.equal("True");
      const res = await fetch(ea.status!.artifact!.url);
      expect(res.status, ea.status!.artifact!.url).to.equal(200);
    }
    const gitRev = (await client.get<KubeObject & { status?: { artifact?: { revision: string } } }>({ group: "source.toolkit.fluxcd.io", version: "v1", plural: "gitrepositories", kind: "GitRepository" }, { namespace: ns, name: "monorepo" }))!.status!.artifact!.revision;
    expect(fe.status?.artifact?.metadata?.["org.opencontainers.image.revision"]).to.equal(gitRev);

    await createKustomization(client, ns, "backend", { sourceRef: { kind: "ExternalArtifact", name: "backend" }, path: "./", targetNamespace: ns }, labels);
    const k = await waitForReady(client, ns, "backend");
    expect(k.status?.lastAppliedRevision).to.equal(be.status?.artifact?.revision);
    const cm = await client.get<KubeObject & { data: Record<string, string> }>(core.configMaps, { namespace: ns, name: "backend" });
    expect(cm?.data).to.deep.equal({ v: "1" });

    // Unchanged sources: a requested reconcile finds no drift and keeps both revisions.
    const at = await requestReconcile(client, artifactGenerators, ns, "apps");
    await eventually(async () => (await client.get<ArtifactGenerator>(artifactGenerators, { namespace: ns, name: "apps" }))?.status?.lastHandledReconcileAt === at, { what: "lastHandledReconcileAt" });
    expect((await getEA(client, ns, "frontend"))?.status?.artifact?.revision).to.equal(fe.status?.artifact?.revision);
    expect((await getEA(client, ns, "backend"))?.status?.artifact?.revision).to.equal(be.status?.artifact?.revision);

    // A commit touching only deploy/frontend: a new frontend revision, the backend one unchanged.
    await fixture.commitFiles({ "deploy/frontend/cm.yaml": configMap("frontend", { v: "2" }), "deploy/backend/NOTES.md": "# excluded too\n" }, "frontend v2");
    await requestReconcile(client, { group: "source.toolkit.fluxcd.io", version: "v1", plural: "gitrepositories", kind: "GitRepository" }, ns, "monorepo");
    const fe2 = await eventually(async () => {
      const ea = await getEA(client, ns, "frontend");
      return ea?.status?.artifact?.revision !== fe.status?.artifact?.revision ? ea : undefined;
    }, { timeoutMs: 60_000, what: "a new frontend revision" });
    expect(fe2.status?.artifact?.revision).to.match(/^latest@sha256:[0-9a-f]{64}$/);
    const g2 = await waitGenerator(client, ns, "apps", "True", "Succeeded");
    expect(g2.status?.observedSourcesDigest).to.not.equal(g.status?.observedSourcesDigest);
    expect((await getEA(client, ns, "backend"))?.status?.artifact?.revision).to.equal(be.status?.artifact?.revision);
    expect(g2.status?.inventory?.find((e) => e.name === "backend")?.digest).to.equal(be.status?.artifact?.digest);
  });

  it("pathPattern: one ExternalArtifact per matching directory, labelled by its captures; a removed directory's is deleted", async () => {
    const ns = await newNamespace("sw-pattern");
    const { fixture } = await gitSource(client, ns, {
      "apps/Auth/envs/prod/cm.yaml": configMap("auth-prod", { v: "1" }),
      "apps/web/envs/prod/cm.yaml": configMap("web-prod", { v: "1" }),
      "apps/web/envs/dev/cm.yaml": configMap("web-dev", { v: "1" }),
      "apps/web/README.md": "# not an env\n",
    }, "monorepo", labels);
    await client.create(artifactGenerators, {
      apiVersion: "source.extensions.fluxcd.io/v1beta1", kind: "ArtifactGenerator",
      metadata: { name: "apps", namespace: ns, labels },
      spec: {
        commonMetadata: { labels },
        sources: [{ alias: "repo", kind: "GitRepository", name: "monorepo" }],
        pathPattern: "@repo/apps/{app}/envs/{env}",
        artifacts: [{ name: "{app}-{env}", copy: [{ from: "@repo/apps/{app}/envs/{env}/**", to: "@artifact/" }] }],
      },
    } as never);
    const g = await waitGenerator(client, ns, "apps", "True", "Succeeded");
    expect(g.status?.inventory?.map((e) => e.name)).to.deep.equal(["auth-prod", "web-dev", "web-prod"]);
    expect(g.status!.conditions!.find((c) => c.type === "Ready")!.message).to.equal("reconciliation succeeded, generated 3 artifact(s)");
    const auth = (await getEA(client, ns, "auth-prod"))!;
    expect(auth.metadata.labels).to.include({ app: "auth", env: "prod", [Object.keys(labels)[0]!]: instance, "app.kubernetes.io/managed-by": "source-watcher" });

    // The directory "Auth" keeps its case in the copy path: the artifact holds its file.
    await createKustomization(client, ns, "auth", { sourceRef: { kind: "ExternalArtifact", name: "auth-prod" }, path: "./", targetNamespace: ns }, labels);
    await waitForReady(client, ns, "auth");
    expect((await client.get<KubeObject & { data: Record<string, string> }>(core.configMaps, { namespace: ns, name: "auth-prod" }))?.data).to.deep.equal({ v: "1" });

    // A commit removing apps/web/envs/dev: its ExternalArtifact goes, the others keep their revisions.
    const webProd = (await getEA(client, ns, "web-prod"))!;
    await fixture.commitFiles({ "apps/web/envs/dev/cm.yaml": null, "apps/Auth/envs/prod/cm.yaml": configMap("auth-prod", { v: "2" }) }, "drop web dev");
    await requestReconcile(client, { group: "source.toolkit.fluxcd.io", version: "v1", plural: "gitrepositories", kind: "GitRepository" }, ns, "monorepo");
    const g2 = await eventually(async () => {
      const x = await client.get<ArtifactGenerator>(artifactGenerators, { namespace: ns, name: "apps" });
      return x?.status?.inventory?.length === 2 && x.status.observedSourcesDigest !== g.status?.observedSourcesDigest ? x : undefined;
    }, { timeoutMs: 60_000, what: "web-dev gone from the inventory" });
    expect(g2.status!.inventory!.map((e) => e.name)).to.deep.equal(["auth-prod", "web-prod"]);
    await eventually(async () => !(await getEA(client, ns, "web-dev")), { what: "ExternalArtifact web-dev deleted" });
    expect((await getEA(client, ns, "web-prod"))?.status?.artifact?.revision).to.equal(webProd.status?.artifact?.revision);
    expect((await getEA(client, ns, "auth-prod"))?.status?.artifact?.revision).to.not.equal(auth.status?.artifact?.revision);
  });

  it("pathPattern: directories colliding after lowercasing stall the generator (BuildFailed) and keep what it generated", async () => {
    const ns = await newNamespace("sw-collide");
    const { fixture } = await gitSource(client, ns, { "apps/auth/cm.yaml": configMap("a", { v: "1" }) }, "monorepo", labels);
    await client.create(artifactGenerators, {
      apiVersion: "source.extensions.fluxcd.io/v1beta1", kind: "ArtifactGenerator",
      metadata: { name: "apps", namespace: ns, labels },
      spec: {
        sources: [{ alias: "repo", kind: "GitRepository", name: "monorepo" }],
        pathPattern: "@repo/apps/{app}",
        artifacts: [{ name: "{app}", copy: [{ from: "@repo/apps/{app}/**", to: "@artifact/" }] }],
      },
    } as never);
    await waitGenerator(client, ns, "apps", "True", "Succeeded");
    const before = (await getEA(client, ns, "auth"))!;
    await fixture.commitFiles({ "apps/Auth/cm.yaml": configMap("b", { v: "1" }) }, "a second Auth");
    await requestReconcile(client, { group: "source.toolkit.fluxcd.io", version: "v1", plural: "gitrepositories", kind: "GitRepository" }, ns, "monorepo");
    const g = await waitGenerator(client, ns, "apps", "False", "BuildFailed");
    expect(g.status!.conditions!.find((c) => c.type === "Ready")!.message).to.equal(
      `failed to expand path pattern: pathPattern "@repo/apps/{app}": directories "apps/Auth" and "apps/auth" both resolve to artifact name "auth"`);
    expect(g.status!.conditions!.find((c) => c.type === "Stalled")).to.include({ status: "True", reason: "BuildFailed" });
    expect(g.status?.inventory?.map((e) => e.name)).to.deep.equal(["auth"]);
    const kept = (await getEA(client, ns, "auth"))!;
    expect(kept.status?.artifact?.digest).to.equal(before.status?.artifact?.digest);
    expect((await fetch(kept.status!.artifact!.url)).status).to.equal(200);
  });

  it("rebuilds a stored artifact whose file no longer matches its digest (integrity check, as Flux)", async () => {
    const ns = await newNamespace("sw-corrupt");
    await gitSource(client, ns, { "app/cm.yaml": configMap("c", { v: "1" }) }, "monorepo", labels);
    await client.create(artifactGenerators, {
      apiVersion: "source.extensions.fluxcd.io/v1beta1", kind: "ArtifactGenerator",
      metadata: { name: "gen", namespace: ns, labels },
      spec: { sources: [{ alias: "repo", kind: "GitRepository", name: "monorepo" }], artifacts: [{ name: "out", copy: [{ from: "@repo/app/**", to: "@artifact/" }] }] },
    } as never);
    await waitGenerator(client, ns, "gen", "True", "Succeeded");
    const ea = (await getEA(client, ns, "out"))!;
    const file = path.join(storageDir, ea.status!.artifact!.path);
    const good = fs.readFileSync(file);
    fs.writeFileSync(file, "corrupted");
    const at = await requestReconcile(client, artifactGenerators, ns, "gen");
    await eventually(async () => (await client.get<ArtifactGenerator>(artifactGenerators, { namespace: ns, name: "gen" }))?.status?.lastHandledReconcileAt === at, { what: "lastHandledReconcileAt" });
    await waitGenerator(client, ns, "gen", "True", "Succeeded");
    // Rebuilt from the same content: the same file, digest and revision, served again.
    expect(fs.readFileSync(file).equals(good)).to.equal(true);
    expect((await getEA(client, ns, "out"))?.status?.artifact?.revision).to.equal(ea.status?.artifact?.revision);
    const res = await fetch(ea.status!.artifact!.url);
    expect(Buffer.from(await res.arrayBuffer()).equals(good)).to.equal(true);
  });

  it("reports a missing source as Ready=False SourceFetchFailed, and builds once it appears", async () => {
    const ns = await newNamespace("sw-missing");
    await client.create(artifactGenerators, {
      apiVersion: "source.extensions.fluxcd.io/v1beta1", kind: "ArtifactGenerator",
      metadata: { name: "gen", namespace: ns, labels },
      spec: { sources: [{ alias: "repo", kind: "GitRepository", name: "absent" }], artifacts: [{ name: "out", copy: [{ from: "@repo/app/", to: "@artifact/" }] }] },
    } as never);
    const g = await waitGenerator(client, ns, "gen", "False", "SourceFetchFailed");
    const ready = g.status!.conditions!.find((c) => c.type === "Ready")!;
    expect(ready.message).to.equal(`get sources failed: gitrepositories.source.toolkit.fluxcd.io "absent" not found`);
    expect(g.status?.conditions?.find((c) => c.type === "Stalled")).to.equal(undefined);
    expect(await getEA(client, ns, "out")).to.equal(undefined);

    await gitSource(client, ns, { "app/cm.yaml": configMap("late", { v: "1" }) }, "absent", labels);
    await waitGenerator(client, ns, "gen", "True", "Succeeded");
    const out = (await getEA(client, ns, "out"))!;
    expect(out.status?.artifact?.revision).to.match(/^latest@sha256:/);

    // Deleting the generator deletes what it generated (finalizer), in the cluster and in storage.
    await client.delete(artifactGenerators, { namespace: ns, name: "gen" });
    await eventually(async () => !(await getEA(client, ns, "out")) && !(await client.get(artifactGenerators, { namespace: ns, name: "gen" })), { what: "generator and ExternalArtifact deleted" });
    expect((await fetch(out.status!.artifact!.url)).status).to.equal(404);
  });
});
