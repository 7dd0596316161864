// The image and source-watcher kinds as typed resources, through the real engine and the plugin,
// reconciled by our controllers running as a process (`controllers run --only source,
// source-watcher,image-reflector,image-automation`) against a real registry (docker-registry with basic auth,
// artifacts pushed with the flux CLI): ImageRepository and ImagePolicy wait for Ready and output
// the scan result and the latest image; wrong credentials and an invalid policy fail with the
// controller's own message; an ArtifactGenerator waits for Ready and outputs its inventory; an
// ImageUpdateAutomation commits the latest image to a real git repo (smart HTTP) and waits for Ready.
import { expect } from "chai";
import * as k8s from "@kubernetes/client-node";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { ArtifactGenerator, GitRepository, ImagePolicy, ImageRepository, ImageUpdateAutomation, OCIRepository } from "../../../provider";
import { getCluster, newNamespace } from "../../support/cluster";
import { startGitServers } from "../../support/git-server";
import { OciRegistry } from "../../support/oci-registry";
import { startControllers, type RunningControllers } from "./controllers";
import { getObject, kubeconfigText } from "./fixtures";
import { changed, inlineStack } from "./pulumi-harness";

type Cond = { type: string; status: string; reason?: string; message?: string };

function contentDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-provider-img-"));
  for (const [f, body] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), body);
  }
  return dir;
}

const creds = { username: "flux", password: "img-s3cret" };
const gitCreds = { username: "flux", password: "git-s3cret" };

describe("typed image and source-watcher kinds", function () {
  this.timeout(400_000);
  let controllers: RunningControllers | undefined;
  let kubeconfig: string;
  let registry: OciRegistry;

  before(async function () {
    this.timeout(120_000);
    kubeconfig = await kubeconfigText();
    registry = await OciRegistry.start({ basicAuth: creds });
    const dir = contentDir({ "deploy/app.yaml": "kind: ConfigMap\n", "deploy/README.md": "# docs\n" });
    await registry.push("app:1.0.0", dir);
    await registry.tag("app:1.0.0", "1.1.0");
    await registry.tag("app:1.0.0", "2.0.0-rc.1");
    controllers = await startControllers(undefined, { only: ["source", "source-watcher", "image-reflector", "image-automation"] });
  });
  after(async () => {
    await controllers?.stop();
    await registry?.close();
  });

  /** A kubernetes.io/dockerconfigjson Secret for the registry. */
  async function registrySecret(ns: string, name: string, password: string): Promise<void> {
    const { kc } = await getCluster();
    const auth = Buffer.from(`${creds.username}:${password}`).toString("base64");
    await kc.makeApiClient(k8s.CoreV1Api).createNamespacedSecret({
      namespace: ns,
      body: {
        metadata: { name }, type: "kubernetes.io/dockerconfigjson",
        stringData: { ".dockerconfigjson": JSON.stringify({ auths: { [registry.host]: { username: creds.username, password, auth } } }) },
      },
    });
  }

  const withLog = (e: Error) => new Error(`${e.message}\n--- controllers ---\n${controllers?.log().slice(-3000)}`);

  it("ImageRepository and ImagePolicy wait for Ready and output the scan result and the latest image", async () => {
    const ns = await newNamespace("img");
    await registrySecret(ns, "registry", creds.password);
    const stack = await inlineStack("typed-image", async () => {
      const common = { kubeconfig: pulumi.secret(kubeconfig), timeout: "60s" };
      const repo = new ImageRepository("app", {
        metadata: { namespace: ns },
        spec: { image: `${registry.host}/app`, interval: "5m", insecure: true, secretRef: { name: "registry" } },
        ...common,
      });
      const policy = new ImagePolicy("app", {
        metadata: { namespace: ns },
        spec: { imageRepositoryRef: { name: repo.metadata.name }, policy: { semver: { range: ">=1.0.0" } } },
        ...common,
      });
      return {
        repo: { ready: repo.ready, revision: repo.revision, scan: repo.status.lastScanResult, canonical: repo.status.canonicalImageName },
        policy: { ready: policy.ready, revision: policy.revision, latest: policy.status.latestRef },
      };
    });
    const res = await stack.up().catch((e: Error) => { throw withLog(e); });
    const repo = res.outputs.repo as { ready: boolean; revision: string; scan: { tagCount: number; latestTags: string[]; revision: string }; canonical: string };
    const policy = res.outputs.policy as { ready: boolean; revision: string; latest: { name: string; tag: string } };
    expect(repo.ready).to.equal(true);
    expect(repo.canonical).to.equal(`${registry.host}/app`);
    expect(repo.scan.tagCount).to.equal(3);
    expect(repo.scan.latestTags).to.deep.equal(["2.0.0-rc.1", "1.1.0", "1.0.0"]);
    expect(repo.revision).to.equal(repo.scan.revision).and.not.equal("");
    // Pre-releases only when the range names one: 1.1.0, not 2.0.0-rc.1.
    expect(policy.ready).to.equal(true);
    expect(policy.latest).to.include({ name: `${registry.host}/app`, tag: "1.1.0" });
    expect(policy.revision).to.equal(`${registry.host}/app:1.1.0`);
    const live = await getObject("image.toolkit.fluxcd.io/v1", "ImagePolicy", "app", ns);
    expect((live!.status as { conditions: Cond[] }).conditions.find((c) => c.type === "Ready")!.message).to.match(/^Latest image tag for .*app resolved to 1\.1\.0/);

    expect(changed((await stack.up()).changes)).to.equal(0);
    await stack.destroy();
    expect(await getObject("image.toolkit.fluxcd.io/v1", "ImageRepository", "app", ns)).to.equal(undefined);
    expect(await getObject("image.toolkit.fluxcd.io/v1", "ImagePolicy", "app", ns)).to.equal(undefined);
  });

  it("fails with the controller's message: wrong registry credentials, and an invalid SemVer range (Stalled, without waiting out the timeout)", async () => {
    const ns = await newNamespace("img");
    await registrySecret(ns, "registry", "wrong-password");
    const bad = await inlineStack("typed-image-bad-creds", async () => {
      const r = new ImageRepository("app", {
        metadata: { namespace: ns },
        spec: { image: `${registry.host}/app`, interval: "5m", insecure: true, secretRef: { name: "registry" } },
        kubeconfig: pulumi.secret(kubeconfig), timeout: "15s",
      });
      return { ready: r.ready };
    });
    const err = await bad.up().then(() => undefined, (e: Error) => e);
    expect(err, "up should fail").to.be.instanceOf(Error);
    if (process.env.SHOW_ERRORS) console.log(err!.message);
    expect(err!.message).to.match(/ImageRepository .*app is not Ready after \d+s: Ready=False AuthenticationFailed/);

    const ns2 = await newNamespace("img");
    await registrySecret(ns2, "registry", creds.password);
    const started = Date.now();
    const invalid = await inlineStack("typed-image-bad-range", async () => {
      const common = { kubeconfig: pulumi.secret(kubeconfig), timeout: "90s" };
      const r = new ImageRepository("app", { metadata: { namespace: ns2 }, spec: { image: `${registry.host}/app`, interval: "5m", insecure: true, secretRef: { name: "registry" } }, ...common });
      const p = new ImagePolicy("app", { metadata: { namespace: ns2 }, spec: { imageRepositoryRef: { name: r.metadata.name }, policy: { semver: { range: "not a range" } } }, ...common });
      return { ready: p.ready };
    });
    const err2 = await invalid.up().then(() => undefined, (e: Error) => e);
    expect(err2, "up should fail").to.be.instanceOf(Error);
    if (process.env.SHOW_ERRORS) console.log(err2!.message);
    expect(err2!.message).to.match(/ImagePolicy .*app Stalled InvalidPolicy: invalid policy: improper constraint: not a range/);
    expect(Date.now() - started, "Stalled ends the wait before the 90s timeout").to.be.below(80_000);
    // Failed creates stay in state (with the controller's status): destroy removes them, finalizers run.
    await bad.destroy();
    await invalid.destroy();
    expect(await getObject("image.toolkit.fluxcd.io/v1", "ImageRepository", "app", ns)).to.equal(undefined);
    expect(await getObject("image.toolkit.fluxcd.io/v1", "ImagePolicy", "app", ns2)).to.equal(undefined);
  });

  it("ArtifactGenerator waits for Ready and outputs the ExternalArtifacts it made", async () => {
    const ns = await newNamespace("img");
    await registrySecret(ns, "registry", creds.password);
    // OCIRepository reads the same dockerconfigjson Secret.
    const stack = await inlineStack("typed-artifact-generator", async () => {
      const common = { kubeconfig: pulumi.secret(kubeconfig), timeout: "90s" };
      const oci = new OCIRepository("app", {
        metadata: { namespace: ns },
        spec: { url: registry.url("app"), insecure: true, interval: "10m", ref: { tag: "1.0.0" }, secretRef: { name: "registry" } },
        ...common,
      });
      const gen = new ArtifactGenerator("split", {
        metadata: { namespace: ns },
        spec: {
          sources: [{ alias: "app", kind: "OCIRepository", name: oci.metadata.name }],
          artifacts: [{ name: "app-manifests", originRevision: "@app", copy: [{ from: "@app/deploy/**", to: "@artifact/", exclude: ["*.md"] }] }],
        },
        ...common,
      });
      return { ready: gen.ready, revision: gen.revision, inventory: gen.status.inventory, ociRevision: oci.revision };
    });
    const res = await stack.up().catch((e: Error) => { throw withLog(e); });
    const o = res.outputs as { ready: boolean; revision: string; inventory: { name: string; namespace: string; digest: string; filename: string }[]; ociRevision: string };
    expect(o.ready).to.equal(true);
    expect(o.revision, "revision: the sources digest").to.match(/^sha256:[0-9a-f]{64}$/);
    expect(o.inventory).to.have.length(1);
    expect(o.inventory[0]).to.include({ name: "app-manifests", namespace: ns });
    const ea = await getObject<{ metadata: { name: string }; spec?: Record<string, unknown>; status?: { artifact?: { digest?: string; revision?: string; metadata?: Record<string, string> } } }>(
      "source.toolkit.fluxcd.io/v1", "ExternalArtifact", "app-manifests", ns);
    expect(ea?.status?.artifact?.digest).to.equal(o.inventory[0]!.digest);
    expect(ea?.status?.artifact?.revision).to.equal(`latest@${o.inventory[0]!.digest}`);
    // originRevision "@app": the OCI artifact's own origin (the revision `flux push` recorded).
    expect(o.ociRevision).to.match(/^1\.0\.0@sha256:/);
    expect(Object.values(ea?.status?.artifact?.metadata ?? {})).to.include("main@sha1:0000000000000000000000000000000000000000");

    expect(changed((await stack.up()).changes)).to.equal(0);
    await stack.destroy();
    expect(await getObject("source.extensions.fluxcd.io/v1beta1", "ArtifactGenerator", "split", ns)).to.equal(undefined);
  });

  it("ImageUpdateAutomation waits for Ready once it pushed the latest image to git; a missing source fails with the controller's message", async () => {
    const ns = await newNamespace("img");
    await registrySecret(ns, "registry", creds.password);
    const fleet = `apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
    - name: app
      image: ${registry.host}/app:1.0.0 # {"$imagepolicy": "${ns}:app"}
`;
    const g = await startGitServers({ http: { basicAuth: gitCreds }, files: { "clusters/app.yaml": fleet } });
    try {
      const { kc } = await getCluster();
      await kc.makeApiClient(k8s.CoreV1Api).createNamespacedSecret({ namespace: ns, body: { metadata: { name: "git-auth" }, stringData: gitCreds } });
      const stack = await inlineStack("typed-automation", async () => {
        const common = { kubeconfig: pulumi.secret(kubeconfig), timeout: "90s" };
        const source = new GitRepository("fleet", {
          metadata: { namespace: ns },
          spec: { url: g.urls.http!, interval: "10m", ref: { branch: "main" }, secretRef: { name: "git-auth" } },
          ...common,
        });
        const repo = new ImageRepository("app", {
          metadata: { namespace: ns },
          spec: { image: `${registry.host}/app`, interval: "10m", insecure: true, secretRef: { name: "registry" } },
          ...common,
        });
        const policy = new ImagePolicy("app", {
          metadata: { namespace: ns },
          spec: { imageRepositoryRef: { name: repo.metadata.name }, policy: { semver: { range: ">=1.0.0" } } },
          ...common,
        });
        // After the policy is Ready, so the first run already sees its latest image.
        const auto = new ImageUpdateAutomation("auto", {
          metadata: { namespace: ns },
          spec: {
            sourceRef: { kind: "GitRepository", name: source.metadata.name },
            interval: "10m",
            git: { checkout: { ref: { branch: "main" } }, commit: { author: { name: "fluxbot", email: "fluxbot@example.com" } }, push: { branch: "main" } },
            update: { strategy: "Setters", path: "./clusters" },
          },
          ...common,
        }, { dependsOn: [policy] });
        return { ready: auto.ready, revision: auto.revision, lastPushCommit: auto.status.lastPushCommit, policies: auto.status.observedPolicies };
      });
      const res = await stack.up().catch((e: Error) => { throw withLog(e); });
      const o = res.outputs as { ready: boolean; revision: string; lastPushCommit: string; policies: Record<string, { name: string; tag: string }> };
      const head = execFileSync("git", ["--git-dir", g.barePath, "rev-parse", "refs/heads/main"], { encoding: "utf8" }).trim();
      expect(o.ready).to.equal(true);
      expect(head).to.not.equal(g.initialCommit);
      expect(o.lastPushCommit).to.equal(head);
      expect(o.policies).to.deep.equal({ app: { name: `${registry.host}/app`, tag: "1.1.0" } });
      expect(execFileSync("git", ["--git-dir", g.barePath, "show", "main:clusters/app.yaml"], { encoding: "utf8" }))
        .to.equal(fleet.replace(`${registry.host}/app:1.0.0`, `${registry.host}/app:1.1.0`));
      const live = await getObject("image.toolkit.fluxcd.io/v1", "ImageUpdateAutomation", "auto", ns);
      expect((live!.status as { conditions: Cond[] }).conditions.find((c) => c.type === "Ready")).to.include({ status: "True", reason: "Succeeded" });
      expect(changed((await stack.up()).changes)).to.equal(0);

      // No GitRepository "missing": the controller's own reason and message come back from `up`.
      const waited = await inlineStack("typed-automation-wait", async () => {
        const a = new ImageUpdateAutomation("auto2", {
          metadata: { namespace: ns },
          spec: { sourceRef: { kind: "GitRepository", name: "missing" }, interval: "10m", git: { commit: { author: { email: "fluxbot@example.com" } } } },
          kubeconfig: pulumi.secret(kubeconfig), timeout: "20s",
        });
        return { ready: a.ready };
      });
      const err = await waited.up().then(() => undefined, (e: Error) => e);
      expect(err, "up should fail: the source does not exist").to.be.instanceOf(Error);
      if (process.env.SHOW_ERRORS) console.log(err!.message);
      expect(err!.message).to.match(/ImageUpdateAutomation .*auto2 .*Ready=False/);
      expect(err!.message).to.include(`referenced git repository does not exist: gitrepositories.source.toolkit.fluxcd.io "missing" not found`);
      await waited.destroy();
      await stack.destroy();
      expect(await getObject("image.toolkit.fluxcd.io/v1", "ImageUpdateAutomation", "auto", ns)).to.equal(undefined);
    } finally {
      await g.close();
    }
  });
});
