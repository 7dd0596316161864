// A repository laid out as Flux's reference examples are (clusters/<env>/ with the sync objects,
// infrastructure/controllers and configs, apps/ with a base and a staging overlay), reconciled on
// two fresh clusters from the same git commit: once on our controllers, once with the upstream
// kustomize-controller in place of ours (fed by our source-controller and source-watcher, next to
// our helm-controller, since upstream source- and helm-controller cannot be built here). Both must
// be Ready everywhere, and every object the Kustomizations applied must be the same on both.
//
// What the layout exercises: the root flux-system Kustomization applying itself and the others,
// dependsOn chains with wait, an ArtifactGenerator feeding the apps Kustomization an
// ExternalArtifact, HelmReleases from a Helm repository (chart.spec → HelmChart) and from an OCI
// registry (chartRef → OCIRepository) and from the repository itself (an unpackaged chart turned
// into an ExternalArtifact, chartRef → ExternalArtifact), RetryOnFailure, and a kustomize overlay
// patching a HelmRelease's values.
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { tool } from "../../../cli/tools";
import type { Kustomization } from "../../../controllers/api/kustomize/v1/kustomization";
import { startHelmController } from "../../../controllers/helm/setup";
import { startKustomizeController } from "../../../controllers/kustomize/setup";
import { KubeClient } from "../../../controllers/runtime/kube";
import { RestMapper } from "../../../controllers/runtime/ssa/rest-mapper";
import type { KubeObject } from "../../../controllers/runtime/keys";
import { startSourceController } from "../../../controllers/source/setup";
import { startSourceWatcher } from "../../../controllers/source-watcher/setup";
import { eventually } from "../../support/cluster";
import { testManager } from "../../support/controllers";
import { ExtraCluster, installCrdsOn, startExtraCluster } from "../../support/extra-cluster";
import { startGitServers } from "../../support/git-server";
import { HelmRepoServer, helmCreate, helmPackage } from "../../support/helm-repo";
import { OciRegistry } from "../../support/oci-registry";
import { onTeardown } from "../../support/teardown";
import { kustomizations } from "../kustomize/support";

const NS = "flux-system";
const namespaces = { group: "", version: "v1", plural: "namespaces", kind: "Namespace" };
const gitRepositories = { group: "source.toolkit.fluxcd.io", version: "v1", plural: "gitrepositories", kind: "GitRepository" };

/** The repository, as Flux's flux2-kustomize-helm-example lays it out (trimmed to one cluster). */
function fluxLayout(gitUrl: string, helmRepoUrl: string, ociHost: string): Record<string, string> {
  return {
    "clusters/staging/flux-system/gotk-sync.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m0s
  ref:
    branch: main
  url: ${gitUrl}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m0s
  path: ./clusters/staging
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`,
    "clusters/staging/flux-system/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- gotk-sync.yaml
`,
    "clusters/staging/infrastructure.yaml": `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: infra-controllers
  namespace: flux-system
spec:
  interval: 1h
  retryInterval: 1m
  timeout: 5m
  sourceRef:
    kind: GitRepository
    name: flux-system
  path: ./infrastructure/controllers
  prune: true
  wait: true
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: infra-configs
  namespace: flux-system
spec:
  dependsOn:
    - name: infra-controllers
  interval: 1h
  retryInterval: 1m
  timeout: 5m
  sourceRef:
    kind: GitRepository
    name: flux-system
  path: ./infrastructure/configs
  prune: true
`,
    "clusters/staging/apps.yaml": `apiVersion: source.extensions.fluxcd.io/v1beta1
kind: ArtifactGenerator
metadata:
  name: apps
  namespace: flux-system
spec:
  sources:
    - alias: repo
      kind: GitRepository
      name: flux-system
  artifacts:
    - name: apps
      originRevision: "@repo"
      copy:
        - from: "@repo/apps/**"
          to: "@artifact/"
    - name: hello-chart
      copy:
        - from: "@repo/charts/hello/**"
          to: "@artifact/hello/"
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  dependsOn:
    - name: infra-configs
  interval: 10m
  retryInterval: 1m
  timeout: 5m
  sourceRef:
    kind: ExternalArtifact
    name: apps
  path: ./staging
  prune: true
  wait: true
`,
    "infrastructure/controllers/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ingress-lite.yaml
`,
    "infrastructure/controllers/ingress-lite.yaml": `apiVersion: v1
kind: Namespace
metadata:
  name: ingress-lite
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: ingress-lite
  namespace: ingress-lite
spec:
  interval: 24h
  url: ${helmRepoUrl}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: ingress-lite
  namespace: ingress-lite
spec:
  interval: 30m
  chart:
    spec:
      chart: ingress-lite
      version: "4.x"
      sourceRef:
        kind: HelmRepository
        name: ingress-lite
        namespace: ingress-lite
      interval: 12h
  install:
    strategy:
      name: RetryOnFailure
      retryInterval: 1m
  upgrade:
    strategy:
      name: RetryOnFailure
      retryInterval: 1m
  values:
    service:
      type: ClusterIP
`,
    "infrastructure/configs/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: ingress-lite
resources:
  - cluster-issuer.yaml
configMapGenerator:
  - name: cluster-settings
    literals:
      - environment=staging
      - domain=staging.example.com
generatorOptions:
  disableNameSuffixHash: true
`,
    "infrastructure/configs/cluster-issuer.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: cluster-issuer
data:
  issuer: letsencrypt-staging
`,
    "apps/base/podinfo/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: podinfo
resources:
  - namespace.yaml
  - repository.yaml
  - release.yaml
`,
    "apps/base/podinfo/namespace.yaml": `apiVersion: v1
kind: Namespace
metadata:
  name: podinfo
`,
    "apps/base/podinfo/repository.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: podinfo
spec:
  interval: 10m
  insecure: true
  url: oci://${ociHost}/charts/podinfo
  layerSelector:
    mediaType: "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
    operation: copy
  ref:
    semver: ">=6.0.0"
`,
    "apps/base/podinfo/release.yaml": `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
spec:
  releaseName: podinfo
  chartRef:
    kind: OCIRepository
    name: podinfo
  interval: 50m
  install:
    remediation:
      retries: 3
  upgrade:
    strategy:
      name: RetryOnFailure
      retryInterval: 1m
  values:
    replicaCount: 1
`,
    "apps/base/hello/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: hello
resources:
  - namespace.yaml
  - release.yaml
`,
    "apps/base/hello/namespace.yaml": `apiVersion: v1
kind: Namespace
metadata:
  name: hello
`,
    "apps/base/hello/release.yaml": `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: hello
spec:
  interval: 30m
  chartRef:
    kind: ExternalArtifact
    name: hello-chart
    namespace: flux-system
  install:
    strategy:
      name: RetryOnFailure
      retryInterval: 1m
`,
    "apps/staging/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../base/podinfo
  - ../base/hello
patches:
  - path: podinfo-values.yaml
    target:
      kind: HelmRelease
`,
    "apps/staging/podinfo-values.yaml": `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: podinfo
spec:
  values:
    replicaCount: 2
    podAnnotations:
      environment: staging
`,
  };
}

/** Our source-controller, source-watcher and helm-controller on `cluster`, plus a kustomize-controller: ours, or the upstream binary. */
async function startSide(cluster: ExtraCluster, kustomize: "ours" | "upstream"): Promise<{ upstreamLog?: string }> {
  const manager = testManager(cluster.kc, `flux-layout-${kustomize}`, "unused", { watchLabelSelector: "", requeueDependencyMs: 2000 });
  const storageDir = fs.mkdtempSync(path.join(os.tmpdir(), `gitops-layout-${kustomize}-`));
  const source = await startSourceController({ storagePath: storageDir, storageAddr: "127.0.0.1:0", artifactRetentionRecords: 2 });
  const sw = await startSourceWatcher({ storage: source.storage, storagePath: storageDir, storageAddr: "127.0.0.1:0", artifactRetentionRecords: 2, requeueDependencyMs: 1000 });
  const hc = startHelmController({ kubeConfig: cluster.kc, client: manager.client, helmPath: tool("helm"), kustomizePath: tool("kustomize"), requeueDependencyMs: 1000,
    featureGates: { ExternalArtifact: true } });
  const defs = [...source.definitions, ...sw.definitions, ...hc.definitions];
  let child: ChildProcess | undefined;
  let closeKz = async () => {};
  let upstreamLog: string | undefined;
  if (kustomize === "ours") {
    const kz = startKustomizeController({
      kubeConfig: cluster.kc, client: manager.client, logger: manager.log, kubeApiQps: 0, kubeApiBurst: 0,
      kustomizePath: tool("kustomize"), sopsPath: "sops", featureGates: { ExternalArtifact: true }, requeueDependencyMs: 2000,
    });
    defs.push(...kz.definitions);
    closeKz = kz.close;
  } else {
    upstreamLog = path.join(storageDir, "upstream-kustomize-controller.log");
    const log = fs.openSync(upstreamLog, "w");
    child = spawn(tool("kustomize-controller"), ["--metrics-addr=127.0.0.1:0", "--health-addr=127.0.0.1:0", "--enable-leader-election=false",
      "--watch-all-namespaces=true", "--feature-gates=ExternalArtifact=true", "--requeue-dependency=2s", "--log-level=info"],
    { env: { ...process.env, KUBECONFIG: cluster.state.kubeconfig, RUNTIME_NAMESPACE: NS }, stdio: ["ignore", log, log] });
  }
  for (const d of defs) manager.add(d);
  await manager.start();
  onTeardown(async () => {
    child?.kill("SIGKILL");
    await manager.stop();
    await closeKz(); await hc.close(); await sw.close(); await source.close();
    fs.rmSync(storageDir, { recursive: true, force: true });
  });
  return { upstreamLog };
}

/** What bootstrap puts on a cluster: the namespace and the sync objects from gotk-sync.yaml. */
async function bootstrapSync(client: KubeClient, gitUrl: string): Promise<void> {
  await client.apply(namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } } as never, { fieldManager: "flux-layout-test" });
  await client.apply(gitRepositories, { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", metadata: { name: NS, namespace: NS },
    spec: { interval: "1m0s", ref: { branch: "main" }, url: gitUrl } } as never, { fieldManager: "flux-layout-test" });
  await client.apply(kustomizations, { apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization", metadata: { name: NS, namespace: NS },
    spec: { interval: "10m0s", path: "./clusters/staging", prune: true, sourceRef: { kind: "GitRepository", name: NS } } } as never, { fieldManager: "flux-layout-test" });
}

const KUSTOMIZATIONS = ["flux-system", "infra-controllers", "infra-configs", "apps"];

async function allReady(client: KubeClient, revision: string): Promise<Map<string, Kustomization>> {
  return eventually(async () => {
    const out = new Map<string, Kustomization>();
    for (const name of KUSTOMIZATIONS) {
      const k = await client.get<Kustomization>(kustomizations, { namespace: NS, name });
      const ready = k?.status?.conditions?.find((c) => c.type === "Ready");
      if (!k || ready?.status !== "True" || ready.observedGeneration !== k.metadata.generation) return undefined;
      // the apps Kustomization applies an ExternalArtifact revision; the others the git commit
      if (name !== "apps" && !k.status?.lastAppliedRevision?.endsWith(revision)) return undefined;
      out.set(name, k);
    }
    return out;
  }, { timeoutMs: 240_000, intervalMs: 1000, what: `Kustomizations ${KUSTOMIZATIONS.join(", ")} Ready at ${revision.slice(0, 7)}` });
}

type Live = KubeObject & Record<string, unknown>;

/** An applied object without what the API server or a controller's status writes into it. */
function comparable(o: Live): Record<string, unknown> {
  const { metadata, status: _status, ...rest } = o;
  const m = { ...(metadata as Record<string, unknown>) };
  for (const k of ["uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "finalizers"]) delete m[k];
  return { ...rest, metadata: m };
}

/** Every object in the Kustomizations' inventories, by inventory id, as applied on this cluster. */
async function inventoryObjects(client: KubeClient, ks: Map<string, Kustomization>): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map<string, Record<string, unknown>>();
  const mapper = new RestMapper(client);
  for (const k of ks.values()) {
    for (const e of k.status?.inventory?.entries ?? []) {
      const [ns, name, group, kind] = e.id.split("_");
      const res = await mapper.mapping(group ? `${group}/${e.v}` : e.v, kind);
      const live = await client.get<Live>(res, { namespace: ns, name });
      expect(live, `${e.id} from ${k.metadata.name}'s inventory exists`).to.not.equal(undefined);
      out.set(e.id, comparable(live!));
    }
  }
  return out;
}

describe("a Flux reference layout (clusters/, infrastructure/, apps/) on our controllers and on upstream's", function () {
  this.timeout(600_000);

  it("reconciles to Ready everywhere on both, with the same objects applied and the same conditions", async () => {
    tool("kustomize-controller"); // built by scripts/setup-tools.sh (essential); a clear error when it is missing
    const helmRepo = await HelmRepoServer.start();
    await helmRepo.addChart("ingress-lite", "4.2.0");
    const registry = await OciRegistry.start();
    const chartDir = await helmCreate(fs.mkdtempSync(path.join(os.tmpdir(), "gitops-layout-chart-")), "podinfo", "6.1.0");
    await registry.helmPush(await helmPackage(chartDir, path.dirname(chartDir)), "charts");
    const git = await startGitServers({ http: {} });
    onTeardown(() => git.close());
    const gitUrl = git.urls.http!;
    // a chart kept unpackaged in the repository, released through an ExternalArtifact
    const helloDir = await helmCreate(fs.mkdtempSync(path.join(os.tmpdir(), "gitops-layout-hello-")), "hello", "0.1.0");
    const helloFiles: Record<string, string> = {};
    for (const f of fs.readdirSync(helloDir, { recursive: true, encoding: "utf8" })) {
      const abs = path.join(helloDir, f);
      if (fs.statSync(abs).isFile()) helloFiles[`charts/hello/${f}`] = fs.readFileSync(abs, "utf8");
    }
    const commit = await git.fixture.commitFiles({ ...fluxLayout(gitUrl, helmRepo.url, registry.host), ...helloFiles }, "flux layout");

    const [ours, upstream] = await Promise.all([startExtraCluster("layout-ours"), startExtraCluster("layout-upstream")]);
    await Promise.all([installCrdsOn(ours), installCrdsOn(upstream)]);
    await startSide(ours, "ours");
    const { upstreamLog } = await startSide(upstream, "upstream");
    await Promise.all([bootstrapSync(ours.client, gitUrl), bootstrapSync(upstream.client, gitUrl)]);

    const [ksOurs, ksUpstream] = await Promise.all([allReady(ours.client, commit), allReady(upstream.client, commit)]);
    const helmReleases = { group: "helm.toolkit.fluxcd.io", version: "v2", plural: "helmreleases", kind: "HelmRelease" };
    for (const side of [ours, upstream]) {
      for (const [ns, name] of [["ingress-lite", "ingress-lite"], ["podinfo", "podinfo"], ["hello", "hello"]]) {
        const hr = await side.client.get<Live & { status?: { conditions?: Array<{ type: string; status: string }> } }>(helmReleases, { namespace: ns, name });
        expect(hr?.status?.conditions?.find((c) => c.type === "Ready")?.status, `HelmRelease ${ns}/${name}`).to.equal("True");
      }
      // the staging overlay's values reached the release
      const deploy = await side.client.get<Live & { spec?: { replicas?: number } }>({ group: "apps", version: "v1", plural: "deployments", kind: "Deployment" }, { namespace: "podinfo", name: "podinfo" });
      expect(deploy?.spec?.replicas).to.equal(2);
    }

    // Same inventories, entry by entry (ids and versions), and the same revisions applied.
    for (const name of KUSTOMIZATIONS) {
      const a = ksOurs.get(name)!, b = ksUpstream.get(name)!;
      expect(a.status?.inventory?.entries, `${name}'s inventory`).to.deep.equal(b.status?.inventory?.entries);
      expect(a.status?.lastAppliedRevision, `${name}'s revision`).to.equal(b.status?.lastAppliedRevision);
      // (durations differ from run to run: "Health check passed in 8.8s")
      const said = (k: Kustomization) => k.status?.conditions?.map((c) => `${c.type}=${c.status} ${c.reason}: ${c.message.replace(/in (\d+(\.\d+)?(h|ms|m|s|µs))+/g, "in <duration>")}`).sort();
      expect(said(a), `${name}'s conditions`).to.deep.equal(said(b));
    }
    const [objOurs, objUpstream] = await Promise.all([inventoryObjects(ours.client, ksOurs), inventoryObjects(upstream.client, ksUpstream)]);
    expect([...objOurs.keys()].sort()).to.deep.equal([...objUpstream.keys()].sort());
    expect(objOurs.size).to.be.greaterThan(10);
    for (const [id, o] of objOurs) expect(o, id).to.deep.equal(objUpstream.get(id));
    // ... and the upstream side really was the upstream binary's work
    const upstreamSaid = fs.readFileSync(upstreamLog!, "utf8");
    for (const name of KUSTOMIZATIONS) expect(upstreamSaid).to.match(new RegExp(`"name":"${name}".*Reconciliation finished|Reconciliation finished.*"name":"${name}"`));
    console.log(`      compared ${objOurs.size} applied objects: ${[...objOurs.keys()].map((id) => id.split("_").slice(2).join("/")).sort().join(", ")}`);
  });
});
