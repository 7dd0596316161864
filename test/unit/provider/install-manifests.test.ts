// The install manifests rendered from code: Flux's names, labels, flags and order; typed
// customisation as JSON6902 patches that survive the round trip through kustomization.yaml.
import { expect } from "chai";
import { renderInstall } from "../../../provider/manifests/install";
import { renderBootstrapFiles, patchesFromKustomization, kustomizationFileText } from "../../../provider/manifests/sync";
import { objectsFromFiles, checkBootstrap } from "../../../provider/resources/bootstrap-plan";
import type { KubeManifest } from "../../../provider/manifests/objects";

type Container = { args: string[]; image: string; env: { name: string }[]; resources: { limits: Record<string, string> } };
const container = (d: KubeManifest) => (d.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers[0]!;
const find = (objs: KubeManifest[], kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name);

describe("install manifests", () => {
  it("render the four controllers with Flux's objects, in kustomize's kind order", () => {
    const r = renderInstall({});
    const kinds = r.objects.map((o) => o.kind);
    expect(kinds[0]).to.equal("Namespace");
    expect(kinds.indexOf("CustomResourceDefinition")).to.be.lessThan(kinds.indexOf("Deployment"));
    for (const c of ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"]) {
      expect(find(r.objects, "Deployment", c), c).to.not.equal(undefined);
      expect(find(r.objects, "ServiceAccount", c), c).to.not.equal(undefined);
    }
    for (const n of ["crd-controller-flux-system", "cluster-reconciler-flux-system"]) expect(find(r.objects, "ClusterRoleBinding", n)).to.not.equal(undefined);
    for (const n of ["allow-egress", "allow-scraping", "allow-webhooks"]) expect(find(r.objects, "NetworkPolicy", n)).to.not.equal(undefined);
    for (const n of ["source-controller", "notification-controller", "webhook-receiver"]) expect(find(r.objects, "Service", n)).to.not.equal(undefined);
    for (const o of r.objects) expect(o.metadata.labels?.["app.kubernetes.io/part-of"], `${o.kind}/${o.metadata.name}`).to.equal("flux");
  });

  it("give the controllers Flux's flags, in Flux's positions", () => {
    const r = renderInstall({ namespace: "gitops", clusterDomain: "example.internal", logLevel: "debug", watchAllNamespaces: false });
    expect(container(find(r.objects, "Deployment", "source-controller")!).args).to.deep.equal([
      "--events-addr=http://notification-controller.$(RUNTIME_NAMESPACE).svc.example.internal./",
      "--watch-all-namespaces=false",
      "--log-level=debug",
      "--log-encoding=json",
      "--enable-leader-election",
      "--storage-path=/data",
      "--storage-adv-addr=source-controller.$(RUNTIME_NAMESPACE).svc.example.internal.",
    ]);
    expect(container(find(r.objects, "Deployment", "notification-controller")!).args[0]).to.equal("--watch-all-namespaces=false");
    const noNotify = renderInstall({ components: ["source-controller", "kustomize-controller"] });
    expect(container(find(noNotify.objects, "Deployment", "kustomize-controller")!).args[0]).to.equal("--events-addr=");
    expect(noNotify.objects.some((o) => o.kind === "CustomResourceDefinition" && o.metadata.name.startsWith("helmreleases"))).to.equal(false);
  });

  it("turn typed customisation into patches that kustomization.yaml carries and that apply the same", () => {
    const r = renderInstall({
      customisation: {
        tolerations: [{ key: "dedicated" }],
        resources: { "kustomize-controller": { limits: { memory: "2Gi" } } },
        extraArgs: { "kustomize-controller": ["--concurrent=8"] },
        env: { HTTPS_PROXY: "http://proxy:3128" },
        podAnnotations: { "example.com/team": "platform" },
      },
    });
    const kc = container(find(r.objects, "Deployment", "kustomize-controller")!);
    expect(kc.args).to.include("--concurrent=8");
    expect(kc.resources.limits.memory).to.equal("2Gi");
    expect(kc.env.map((e) => e.name)).to.include("HTTPS_PROXY");
    expect(container(find(r.base, "Deployment", "kustomize-controller")!).args).to.not.include("--concurrent=8");
    const text = kustomizationFileText(r.patches);
    expect(patchesFromKustomization(text)).to.deep.equal(JSON.parse(JSON.stringify(r.patches)));
    const files = renderBootstrapFiles({ url: "https://example.com/r.git" }, renderInstall({ customisation: { extraArgs: { "kustomize-controller": ["--concurrent=8"] } } }, true));
    const fromFiles = objectsFromFiles(files.files, files.dir);
    expect(container(find(fromFiles.install, "Deployment", "kustomize-controller")!).args).to.include("--concurrent=8");
    expect(fromFiles.sync.map((o) => o.kind)).to.deep.equal(["GitRepository", "Kustomization"]);
  });

  it("lock multi-tenancy down with Flux's flags on the controllers that take them, carried by kustomization.yaml", () => {
    const mt = { noCrossNamespaceRefs: true, noRemoteBases: true, defaultServiceAccount: "default", watchLabelSelector: "!sharding.fluxcd.io/key" };
    const r = renderInstall({ multiTenancy: mt, customisation: { extraArgs: { "kustomize-controller": ["--concurrent=8"] } } });
    const args = (c: string) => container(find(r.objects, "Deployment", c)!).args;
    expect(args("kustomize-controller").slice(-5)).to.deep.equal(["--no-cross-namespace-refs=true", "--no-remote-bases=true", "--default-service-account=default",
      "--watch-label-selector=!sharding.fluxcd.io/key", "--concurrent=8"]);
    expect(args("helm-controller")).to.include.members(["--no-cross-namespace-refs=true", "--default-service-account=default"]).and.not.include("--no-remote-bases=true");
    expect(args("notification-controller")).to.include("--no-cross-namespace-refs=true").and.not.include("--default-service-account=default");
    expect(args("source-controller")).to.include("--watch-label-selector=!sharding.fluxcd.io/key").and.not.include("--no-cross-namespace-refs=true");
    expect(container(find(r.base, "Deployment", "kustomize-controller")!).args).to.not.include("--no-remote-bases=true");
    const files = renderBootstrapFiles({ url: "https://example.com/r.git" }, renderInstall({ multiTenancy: mt }, true));
    expect(container(find(objectsFromFiles(files.files, files.dir).install, "Deployment", "kustomize-controller")!).args).to.include("--no-remote-bases=true");
    expect(() => renderInstall({ multiTenancy: { defaultServiceAccount: "Not Valid" } })).to.throw(/multiTenancy\.defaultServiceAccount: 'Not Valid' is not a valid ServiceAccount name/);
  });

  it("write the bootstrap files with Flux's layout and names", () => {
    const f = renderBootstrapFiles({ url: "ssh://git@example.com/fleet.git", path: "./clusters/prod/", branch: "prod", secretName: "flux-git" }, renderInstall({}, true));
    expect(Object.keys(f.files)).to.deep.equal([
      "clusters/prod/flux-system/gotk-components.yaml",
      "clusters/prod/flux-system/gotk-sync.yaml",
      "clusters/prod/flux-system/kustomization.yaml",
    ]);
    const sync = f.files["clusters/prod/flux-system/gotk-sync.yaml"]!;
    expect(sync).to.include("path: ./clusters/prod").and.include("branch: prod").and.include("name: flux-git").and.include("interval: 10m0s");
  });

  it("report each invalid bootstrap input with the field that is wrong", () => {
    const f = checkBootstrap({ url: "http://example.com/r.git", ssh: { privateKey: "x" }, components: ["helm-controller"], registryCredentials: "u:p" });
    const props = f.map((x) => x.property);
    expect(props).to.include.members(["ssh", "http.allowInsecureHttp", "imagePullSecret"]);
    expect(checkBootstrap({ url: "https://example.com/r.git", path: "../escape" }).map((x) => x.property)).to.include("path");
    expect(checkBootstrap({ url: "https://example.com/r.git" })).to.deep.equal([]);
  });
});
