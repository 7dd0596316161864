// shards: Flux's sharding guide (fluxcd.io/flux/installation/configuration/sharding) as an input.
// Per shard key a source-, kustomize- and helm-controller `<controller>-<key>` selecting
// `sharding.fluxcd.io/key=<key>`, marked `sharding.fluxcd.io/role: shard`, with the main
// ServiceAccounts and RBAC; the main controllers skip every sharded object.
import { expect } from "chai";
import { renderInstall } from "../../../provider/manifests/install";
import { InvalidInputError, resolveInstallOptions } from "../../../provider/manifests/options";
import { renderBootstrapFiles } from "../../../provider/manifests/sync";
import { objectsFromFiles } from "../../../provider/resources/bootstrap-plan";
import { leaseNameFor } from "../../../controllers/runtime/manager";
import type { KubeManifest } from "../../../provider/manifests/objects";

type Pod = { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec: { serviceAccountName: string; containers: { args: string[]; resources: { limits: Record<string, string> } }[] } };
const pod = (d: KubeManifest) => (d.spec as { template: Pod }).template;
const args = (d: KubeManifest) => pod(d).spec.containers[0]!.args;
const names = (objs: KubeManifest[], kind: string) => objs.filter((o) => o.kind === kind).map((o) => o.metadata.name);
const find = (objs: KubeManifest[], kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name)!;

describe("install manifests: shards", () => {
  const r = renderInstall({ shards: ["shard1", "shard2"] });
  const plain = renderInstall({});

  it("add a source-, kustomize- and helm-controller per shard, and nothing else", () => {
    expect(names(r.objects, "Deployment")).to.deep.equal([
      "source-controller", "kustomize-controller", "helm-controller", "notification-controller",
      "source-controller-shard1", "kustomize-controller-shard1", "helm-controller-shard1",
      "source-controller-shard2", "kustomize-controller-shard2", "helm-controller-shard2",
    ]);
    expect(names(r.objects, "Service")).to.deep.equal(["source-controller", "notification-controller", "webhook-receiver", "source-controller-shard1", "source-controller-shard2"]);
    for (const kind of ["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "NetworkPolicy", "CustomResourceDefinition", "Namespace"]) {
      expect(names(r.objects, kind), kind).to.deep.equal(names(plain.objects, kind));
    }
  });

  it("select each shard's objects by sharding.fluxcd.io/key, and keep them from the main controllers", () => {
    for (const c of ["source-controller", "kustomize-controller", "helm-controller"]) {
      expect(args(find(r.objects, "Deployment", c)).at(-1), c).to.equal("--watch-label-selector=!sharding.fluxcd.io/key");
      expect(args(find(r.objects, "Deployment", c)).slice(0, -1), c).to.deep.equal(args(find(plain.objects, "Deployment", c)));
      for (const shard of ["shard1", "shard2"]) {
        const d = find(r.objects, "Deployment", `${c}-${shard}`);
        expect(args(d).at(-1)).to.equal(`--watch-label-selector=sharding.fluxcd.io/key=${shard}`);
        // Flux's sharding guide: same ServiceAccount, own pod label, the role annotation on the object and its pods.
        expect(pod(d).spec.serviceAccountName).to.equal(c);
        expect((d.spec as { selector: object }).selector).to.deep.equal({ matchLabels: { app: `${c}-${shard}` } });
        expect(pod(d).metadata.labels.app).to.equal(`${c}-${shard}`);
        expect(pod(d).metadata.labels["app.kubernetes.io/component"]).to.equal(c);
        expect(d.metadata.annotations).to.deep.equal({ "sharding.fluxcd.io/role": "shard" });
        expect(pod(d).metadata.annotations["sharding.fluxcd.io/role"]).to.equal("shard");
      }
    }
    expect(args(find(r.objects, "Deployment", "notification-controller")).join(" ")).to.not.include("watch-label-selector");
    expect(find(r.objects, "Deployment", "source-controller").metadata.annotations).to.equal(undefined);
  });

  it("give each source-controller shard its own artifact Service and advertised address (arg 6, as the guide patches)", () => {
    const d = find(r.objects, "Deployment", "source-controller-shard1");
    expect(args(d)[6]).to.equal("--storage-adv-addr=source-controller-shard1.$(RUNTIME_NAMESPACE).svc.cluster.local.");
    const svc = find(r.objects, "Service", "source-controller-shard1");
    expect((svc.spec as { selector: object }).selector).to.deep.equal({ app: "source-controller-shard1" });
    expect(svc.metadata.annotations).to.deep.equal({ "sharding.fluxcd.io/role": "shard" });
  });

  it("shard only the installed controllers among source, kustomize and helm", () => {
    const r2 = renderInstall({ components: ["source-controller", "kustomize-controller"], shards: ["a"] });
    expect(names(r2.objects, "Deployment")).to.deep.equal(["source-controller", "kustomize-controller", "source-controller-a", "kustomize-controller-a"]);
    const withExtras = renderInstall({ shards: ["a"], componentsExtra: ["source-watcher"] });
    expect(names(withExtras.objects, "Deployment")).to.not.include("source-watcher-a");
  });

  it("apply a component's customisation to its shards too, through kustomization.yaml", () => {
    const opts = { shards: ["shard1"], customisation: { resources: { "kustomize-controller": { limits: { memory: "2Gi" } } }, extraArgs: { "kustomize-controller": ["--concurrent=20"] } } };
    const c = renderInstall(opts);
    for (const n of ["kustomize-controller", "kustomize-controller-shard1"]) {
      const d = find(c.objects, "Deployment", n);
      expect(pod(d).spec.containers[0]!.resources.limits.memory, n).to.equal("2Gi");
      expect(args(d), n).to.include("--concurrent=20");
    }
    const files = renderBootstrapFiles({ url: "https://example.com/r.git" }, renderInstall(opts, true));
    const fromGit = objectsFromFiles(files.files, files.dir).install;
    expect(args(find(fromGit, "Deployment", "kustomize-controller-shard1"))).to.include("--concurrent=20").and.include("--watch-label-selector=sharding.fluxcd.io/key=shard1");
  });

  it("reject bad shard keys and duplicates, naming the field", () => {
    const fails = (shards: string[], extra: object = {}) => {
      try { resolveInstallOptions({ shards, ...extra }); } catch (e) { return e as InvalidInputError; }
      throw new Error(`accepted ${JSON.stringify(shards)}`);
    };
    expect(fails(["ok", "Not Valid"]).message).to.match(/^shards\[1\]: 'Not Valid' is not a valid sharding\.fluxcd\.io\/key label value/);
    expect(fails(["-a"]).field).to.equal("shards[0]");
    expect(fails(["a".repeat(64)]).field).to.equal("shards[0]");
    expect(fails([""]).field).to.equal("shards[0]");
    expect(fails(["a", "b", "a"]).message).to.equal("shards[2]: 'a' is listed twice (also shards[0]); each shard key names one set of controllers");
    expect(fails(["a"], { components: ["notification-controller"] }).field).to.equal("shards");
    expect(fails(["a"], { multiTenancy: { watchLabelSelector: "team=a" } }).field).to.equal("multiTenancy.watchLabelSelector");
    expect(resolveInstallOptions({ shards: ["a.b_c-1", "A".repeat(63)] }).shards).to.have.length(2);
  });

  it("leave each shard its own lease, as Flux derives it from the selector (leaderelection.GenerateID)", () => {
    // fluxcd/pkg runtime/leaderelection: GenerateID("foo", "bar") == "foo-fcde2b2e"
    expect(leaseNameFor("foo", "")).to.equal("foo-leader-election");
    expect(leaseNameFor("kustomize-controller", "bar")).to.equal("kustomize-controller-leader-election-fcde2b2e");
    const ids = new Set(["!sharding.fluxcd.io/key", "sharding.fluxcd.io/key=shard1", "sharding.fluxcd.io/key=shard2"].map((s) => leaseNameFor("kustomize-controller", s)));
    expect(ids.size).to.equal(3);
  });
});
