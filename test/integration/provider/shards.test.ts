// shards, end to end. (1) Oracle: Flux's sharding guide, built by the real kustomize over our
// gotk-components.yaml, gives the same shard objects as our `shards` input. (2) The controllers
// as host processes with the shard selectors the install gives them (`gitops controllers run
// --only source,kustomize`, leader election on): GitRepositories and Kustomizations spread over
// three shards and the main instance are each reconciled by exactly their own process.
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { repoRoot, tool } from "../../../cli/tools";
import { KubeClient } from "../../../controllers/runtime/kube";
import { leaseNameFor } from "../../../controllers/runtime/manager";
import { renderInstall } from "../../../provider/manifests/install";
import { parseYamlDocuments, toYamlDocuments, type KubeManifest } from "../../../provider/manifests/objects";
import { eventually, getCluster, newNamespace, randomSuffix } from "../../support/cluster";
import { installCrds, INSTANCE_LABEL } from "../../support/controllers";
import { startGitServers } from "../../support/git-server";
import { onTeardown } from "../../support/teardown";
import { configMap, createKustomization, gitRepositories, hasBin, waitForReady } from "../kustomize/support";

/** clusters/my-cluster/flux-system/shard1/kustomization.yaml of fluxcd.io/flux/installation/configuration/sharding. */
const guideShard1 = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: flux-system
resources:
  - ../gotk-components.yaml
nameSuffix: "-shard1"
commonAnnotations:
  sharding.fluxcd.io/role: "shard"
patches:
  - target:
      kind: (Namespace|CustomResourceDefinition|ClusterRole|ClusterRoleBinding|ServiceAccount|NetworkPolicy)
      labelSelector: "app.kubernetes.io/part-of=flux"
    patch: |
      apiVersion: v1
      kind: all
      metadata:
          name: all
      $patch: delete
  - target:
      labelSelector: "app.kubernetes.io/component=notification-controller"
    patch: |
      apiVersion: v1
      kind: all
      metadata:
        name: all
      $patch: delete
  - target:
      kind: Deployment
      name: (image-reflector-controller|image-automation-controller)
    patch: |
      apiVersion: v1
      kind: Deployment
      metadata:
        name: all
      $patch: delete
  - target:
      kind: Service
      name: source-controller
    patch: |
      - op: replace
        path: /spec/selector/app
        value: source-controller-shard1
  - target:
      kind: Deployment
      name: source-controller
    patch: |
      - op: replace
        path: /spec/selector/matchLabels/app
        value: source-controller-shard1
      - op: replace
        path: /spec/template/metadata/labels/app
        value: source-controller-shard1
      - op: replace
        path: /spec/template/spec/containers/0/args/6
        value: --storage-adv-addr=source-controller-shard1.$(RUNTIME_NAMESPACE).svc.cluster.local.
${["kustomize-controller", "helm-controller"].map((c) => `  - target:
      kind: Deployment
      name: ${c}
    patch: |
      - op: replace
        path: /spec/selector/matchLabels/app
        value: ${c}-shard1
      - op: replace
        path: /spec/template/metadata/labels/app
        value: ${c}-shard1
`).join("")}  - target:
      kind: Deployment
      name: (source-controller|kustomize-controller|helm-controller)
    patch: |
      - op: add
        path: /spec/template/spec/containers/0/args/-
        value: --watch-label-selector=sharding.fluxcd.io/key=shard1
`;

describe("install shards", function () {
  this.timeout(240_000);

  it("renders the objects Flux's sharding guide builds with kustomize", function () {
    if (!hasBin("kustomize")) this.skip();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-shards-"));
    onTeardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.mkdirSync(path.join(dir, "flux-system", "shard1"), { recursive: true });
    fs.writeFileSync(path.join(dir, "flux-system", "gotk-components.yaml"), toYamlDocuments(renderInstall({}).base));
    fs.writeFileSync(path.join(dir, "flux-system", "shard1", "kustomization.yaml"), guideShard1);
    const built = parseYamlDocuments(execFileSync(tool("kustomize"), ["build", "--load-restrictor", "LoadRestrictionsNone", path.join(dir, "flux-system", "shard1")], { encoding: "utf8" }), "kustomize build");
    const ours = renderInstall({ shards: ["shard1"] }).objects.filter((o) => o.metadata.name.endsWith("-shard1"));
    const key = (o: KubeManifest) => `${o.kind}/${o.metadata.name}`;
    // The guide also copies the ResourceQuota (its delete patch does not list the kind): a second
    // quota of the same scope adds nothing, so the install leaves it out.
    expect(built.map(key).filter((k) => k !== "ResourceQuota/critical-pods-flux-system-shard1").sort()).to.deep.equal(ours.map(key).sort());
    for (const o of ours) expect(o, key(o)).to.deep.equal(built.find((b) => key(b) === key(o)));
  });

  describe("controllers as host processes, one per shard and the main one", () => {
    const procs: { name: string; child: ChildProcess; log: () => string }[] = [];
    after(async () => {
      await Promise.all(procs.map(async (p) => {
        if (p.child.exitCode !== null) return;
        const exited = new Promise((r) => p.child.once("exit", r));
        p.child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (p.child.exitCode === null) p.child.kill("SIGKILL");
      }));
    });

    it("reconcile each object with exactly the instance of its shard", async () => {
      await installCrds();
      const { kc, kubeconfigPath } = await getCluster();
      const client = KubeClient.fromKubeConfig(kc);
      const ns = await newNamespace("shards");
      const instance = `shards-${randomSuffix(6)}`;
      const shards = ["shard1", "shard2", "shard3"];
      const rendered = renderInstall({ shards });
      // The selectors the install gives kustomize-controller and its shards, scoped to this test's objects.
      const selectorOf = (deployment: string) => {
        const d = rendered.objects.find((o) => o.kind === "Deployment" && o.metadata.name === deployment)!;
        const flag = (d.spec as { template: { spec: { containers: { args: string[] }[] } } }).template.spec.containers[0]!.args.find((a) => a.startsWith("--watch-label-selector="))!;
        return `${flag.slice("--watch-label-selector=".length)},${INSTANCE_LABEL}=${instance}`;
      };
      const instances = [{ name: "main", shard: undefined as string | undefined }, ...shards.map((s) => ({ name: s, shard: s }))];
      const files: Record<string, string> = {};
      for (const i of instances) for (const n of ["a", "b"]) files[`${i.name}-${n}/cm.yaml`] = configMap(`${i.name}-${n}`, { shard: i.name });
      const git = await startGitServers({ files, http: {} });
      onTeardown(() => git.close());

      for (const i of instances) {
        const selector = selectorOf(i.shard ? `kustomize-controller-${i.shard}` : "kustomize-controller");
        expect(selectorOf(i.shard ? `source-controller-${i.shard}` : "source-controller")).to.equal(selector);
        const storage = fs.mkdtempSync(path.join(os.tmpdir(), `gitops-shard-${i.name}-`));
        onTeardown(() => fs.rmSync(storage, { recursive: true, force: true }));
        let log = "";
        const child = spawn(process.execPath, [path.join(repoRoot, "dist", "cli", "main.js"), "controllers", "run", "--kubeconfig", kubeconfigPath,
          "--only", "source,kustomize", "--storage-path", storage, "--storage-addr", "127.0.0.1:0", "--storage-adv-addr", "127.0.0.1:0",
          "--enable-leader-election", "--watch-label-selector", selector],
        { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, RUNTIME_NAMESPACE: ns } });
        const keep = (d: Buffer) => (log += d.toString());
        child.stdout!.on("data", keep);
        child.stderr!.on("data", keep);
        procs.push({ name: i.name, child, log: () => log });
      }
      const logs = () => procs.map((p) => `--- ${p.name}\n${p.log().slice(-1500)}`).join("\n");

      const labelsOf = (shard?: string) => ({ [INSTANCE_LABEL]: instance, ...(shard ? { "sharding.fluxcd.io/key": shard } : {}) });
      for (const i of instances) {
        await client.create(gitRepositories, {
          apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", metadata: { name: `repo-${i.name}`, namespace: ns, labels: labelsOf(i.shard) },
          spec: { interval: "10m", url: git.urls.http!, ref: { branch: "main" } },
        } as never);
        for (const n of ["a", "b"]) {
          await createKustomization(client, ns, `${i.name}-${n}`, { path: `./${i.name}-${n}`, targetNamespace: ns, sourceRef: { kind: "GitRepository", name: `repo-${i.name}` } }, labelsOf(i.shard));
        }
      }
      for (const i of instances) {
        for (const n of ["a", "b"]) {
          await waitForReady(client, ns, `${i.name}-${n}`, { revisionSha: git.initialCommit, timeoutMs: 90_000 }).catch((e) => { throw new Error(`${(e as Error).message}\n${logs()}`); });
        }
      }

      const records = (log: string) => log.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
      // Who applied: each process logs the Kustomizations it reconciles (Flux's `Kustomization` log key).
      const applied = (log: string) => [...new Set(records(log)
        .map((r) => r.Kustomization as { name?: string; namespace?: string } | undefined)
        .filter((k) => k?.namespace === ns).map((k) => k!.name))].sort();
      for (const p of procs) expect(applied(p.log()), `Kustomizations reconciled by the ${p.name} instance`).to.deep.equal([`${p.name}-a`, `${p.name}-b`]);
      // Who fetched: each GitRepository's artifact is served by its own instance's artifact server.
      for (const p of procs) {
        const advertised = records(p.log()).find((r) => r.msg === "artifact server listening")?.advertised;
        const repo = await client.get<{ metadata?: object; status?: { artifact?: { url: string } } }>(gitRepositories, { namespace: ns, name: `repo-${p.name}` });
        expect(new URL(repo!.status!.artifact!.url).host, `repo-${p.name} served by the ${p.name} instance`).to.equal(advertised);
      }
      // One lease per instance, named from its selector as Flux's controllers name theirs.
      const leases = { group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease" };
      for (const i of instances) {
        const name = leaseNameFor("gitops-controllers-kustomize-source", selectorOf(i.shard ? `kustomize-controller-${i.shard}` : "kustomize-controller"));
        const lease = await eventually(() => client.get<{ metadata?: object; spec?: { holderIdentity?: string } }>(leases, { namespace: ns, name }), { what: `lease ${name}` });
        expect(lease.spec?.holderIdentity, name).to.be.a("string").and.not.equal("");
      }
      expect(procs.every((p) => p.child.exitCode === null), logs()).to.equal(true);
    });
  });
});
