// The typed kinds besides GitRepository and Kustomization, in one program through the real engine
// and the plugin, reconciled by our controllers running locally against real servers: an
// OCIRepository (docker-registry, artifact pushed with the flux CLI), a HelmRepository (charts
// made with helm), a HelmChart from it, a Bucket (S3 server), a HelmRelease of the chart and a
// Receiver. One `pulumi up` waits for each to be Ready and returns its status; destroy removes
// them after their finalizers (and the release's Deployment with the release).
import { expect } from "chai";
import * as k8s from "@kubernetes/client-node";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Bucket, HelmChart, HelmRelease, HelmRepository, OCIRepository, Receiver } from "../../../provider";
import { getCluster, newNamespace } from "../../support/cluster";
import { HelmRepoServer } from "../../support/helm-repo";
import { OciRegistry } from "../../support/oci-registry";
import { S3Server } from "../../support/s3-server";
import { startControllers, type RunningControllers } from "./controllers";
import { getObject, kubeconfigText } from "./fixtures";
import { inlineStack } from "./pulumi-harness";

type Artifact = { revision: string; digest: string; path: string; url: string };
type Cond = { type: string; status: string; reason?: string; message?: string };
type Status = { conditions?: Cond[]; observedGeneration?: number; artifact?: Artifact; [k: string]: unknown };

function contentDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-provider-oci-"));
  for (const [f, body] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), body);
  }
  return dir;
}

const ready = (s: Status) => s.conditions?.find((c) => c.type === "Ready");

describe("typed source, helm and notification kinds", function () {
  this.timeout(400_000);
  let controllers: RunningControllers | undefined;
  let kubeconfig: string;
  let registry: OciRegistry;
  let charts: HelmRepoServer;
  let s3: S3Server;
  let ociDigest: string;
  before(async function () {
    this.timeout(120_000);
    kubeconfig = await kubeconfigText();
    [registry, charts, s3] = await Promise.all([OciRegistry.start(), HelmRepoServer.start(), S3Server.start()]);
    ociDigest = await registry.push("app:v1.0.0", contentDir({ "deploy/app.yaml": "kind: ConfigMap\n" }),
      { source: "https://example.invalid/app.git", revision: "main@sha1:2222222222222222222222222222222222222222" });
    await charts.addChart("app", "1.0.0");
    await s3.createBucket("manifests");
    await s3.put("manifests", { "deploy/app.yaml": "kind: ConfigMap\n", "deploy/b.yaml": "b: 1\n" });
    controllers = await startControllers();
  });
  after(async () => {
    await controllers?.stop();
    await Promise.all([registry?.close(), charts?.close(), s3?.close()]);
  });

  it("creates OCIRepository, HelmRepository, HelmChart, Bucket, HelmRelease and Receiver, each Ready with its status, and deletes them", async () => {
    const ns = await newNamespace("kinds");
    const { kc } = await getCluster();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: "s3-keys" }, stringData: { accesskey: s3.accessKey, secretkey: s3.secretKey } } });
    const token = "a-receiver-token";
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: "hook-token" }, stringData: { token } } });

    const stack = await inlineStack("typed-kinds", async () => {
      const common = { kubeconfig: pulumi.secret(kubeconfig), timeout: "90s" };
      const oci = new OCIRepository("app-oci", { metadata: { namespace: ns }, spec: { url: registry.url("app"), insecure: true, interval: "10m", ref: { tag: "v1.0.0" } }, ...common });
      const repo = new HelmRepository("charts", { metadata: { namespace: ns }, spec: { url: charts.url, interval: "10m" }, ...common });
      const chart = new HelmChart("app-chart", {
        metadata: { namespace: ns },
        spec: { chart: "app", version: "1.0.x", interval: "10m", sourceRef: { kind: "HelmRepository", name: repo.metadata.name } },
        ...common,
      });
      const bucket = new Bucket("app-bucket", {
        metadata: { namespace: ns },
        spec: { provider: "generic", bucketName: "manifests", endpoint: s3.endpoint, insecure: true, prefix: "deploy/", interval: "10m", secretRef: { name: "s3-keys" } },
        ...common,
      });
      const release = new HelmRelease("web", {
        metadata: { namespace: ns },
        spec: { interval: "10m", chart: { spec: { chart: "app", version: "1.0.0", sourceRef: { kind: "HelmRepository", name: repo.metadata.name } } } },
        ...common,
      });
      const receiver = new Receiver("hook", {
        metadata: { namespace: ns },
        spec: { type: "generic", secretRef: { name: "hook-token" }, resources: [{ kind: "Bucket", name: bucket.metadata.name }] },
        ...common,
      });
      const out = (r: { ready: pulumi.Output<boolean>; revision: pulumi.Output<string>; status: pulumi.Output<unknown> }) => ({ ready: r.ready, revision: r.revision, status: r.status });
      return { oci: out(oci), repo: out(repo), chart: out(chart), bucket: out(bucket), release: out(release), receiver: out(receiver) };
    });
    const res = await stack.up();
    type Out = { ready: boolean; revision: string; status: Status };
    const o = res.outputs as Record<"oci" | "repo" | "chart" | "bucket" | "release" | "receiver", Out>;
    for (const [name, v] of Object.entries(o)) {
      expect(v.ready, name).to.equal(true);
      expect(ready(v.status), `${name}: ${JSON.stringify(v.status)}`).to.include({ status: "True" });
    }

    // OCIRepository: the pushed manifest digest at the tag.
    expect(o.oci.revision).to.equal(`v1.0.0@${ociDigest}`);
    expect(o.oci.status.artifact).to.include({ revision: o.oci.revision, path: `ocirepository/${ns}/app-oci/${ociDigest}.tar.gz` });
    expect(o.oci.status.artifact!.digest).to.match(/^sha256:[0-9a-f]{64}$/);

    // HelmRepository: the index artifact; HelmChart: the chart version picked from the range.
    expect(o.repo.revision).to.match(/^sha256:[0-9a-f]{64}$/);
    expect(o.repo.status.artifact!.revision).to.equal(o.repo.revision);
    expect(o.chart.revision).to.equal("1.0.0");
    expect(o.chart.status.artifact!.path).to.equal(`helmchart/${ns}/app-chart/app-1.0.0.tgz`);
    expect(o.chart.status.observedChartName).to.equal("app");

    // Bucket: the objects under the prefix, as Flux's sha256 revision.
    expect(o.bucket.revision).to.match(/^sha256:[0-9a-f]{64}$/);
    expect(o.bucket.status.artifact!.path).to.equal(`bucket/${ns}/app-bucket/${o.bucket.revision.slice("sha256:".length)}.tar.gz`);

    // HelmRelease: installed from the HelmChart the helm-controller made; the chart version released.
    expect(ready(o.release.status)).to.include({ reason: "InstallSucceeded", message: `Helm install succeeded for release ${ns}/web.v1 with chart app@1.0.0` });
    expect(o.release.status.helmChart).to.equal(`${ns}/${ns}-web`);
    expect((o.release.status.history as { chartVersion: string; status: string }[])[0]).to.include({ chartVersion: "1.0.0", status: "deployed" });
    expect(o.release.revision, "revision output of a HelmRelease").to.equal("1.0.0");
    expect(await getObject("apps/v1", "Deployment", "web-app", ns), "the release's Deployment").to.not.equal(undefined);

    // Receiver: Flux's webhook path, sha256(token + name + namespace).
    const hookPath = `/hook/${createHash("sha256").update(token + "hook" + ns).digest("hex")}`;
    expect(o.receiver.status.webhookPath).to.equal(hookPath);
    expect(o.receiver.revision).to.equal("");

    await stack.destroy();
    for (const [apiVersion, kind, name] of [
      ["source.toolkit.fluxcd.io/v1", "OCIRepository", "app-oci"], ["source.toolkit.fluxcd.io/v1", "HelmRepository", "charts"],
      ["source.toolkit.fluxcd.io/v1", "HelmChart", "app-chart"], ["source.toolkit.fluxcd.io/v1", "Bucket", "app-bucket"],
      ["helm.toolkit.fluxcd.io/v2", "HelmRelease", "web"], ["notification.toolkit.fluxcd.io/v1", "Receiver", "hook"],
    ] as const) {
      expect(await getObject(apiVersion, kind, name, ns), `${kind} ${name}`).to.equal(undefined);
    }
    // The helm-controller's finalizer uninstalled the release.
    expect(await getObject("apps/v1", "Deployment", "web-app", ns)).to.equal(undefined);
  });
});
