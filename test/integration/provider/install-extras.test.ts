// An Install with componentsExtra and shards through the real engine and the plugin: every object
// the manifests render exists on the API server as rendered, the extra controllers' CRDs are
// Established, their Deployments (and the shards') are Available, and destroy removes them.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { Install } from "../../../provider";
import type { InstallOptions } from "../../../provider/args/install";
import { renderInstall } from "../../../provider/manifests/install";
import type { KubeManifest } from "../../../provider/manifests/objects";
import { fluxNamespace, getObject, kubeconfigText } from "./fixtures";
import { changed, inlineStack } from "./pulumi-harness";

type Live = KubeManifest & { status?: { conditions?: { type: string; status: string }[] } };

describe("Install with componentsExtra and shards", function () {
  this.timeout(300_000);

  it("creates the extra controllers, their CRDs and the shards on the cluster, and removes them on destroy", async () => {
    const kubeconfig = await kubeconfigText();
    const namespace = fluxNamespace();
    const inputs: InstallOptions = {
      namespace, components: ["source-controller", "kustomize-controller"], componentsExtra: ["source-watcher", "image-reflector-controller", "image-automation-controller"], shards: ["blue", "green"],
    };
    const stack = await inlineStack("install-extras", async () => {
      const i = new Install("flux", { ...inputs, kubeconfig: pulumi.secret(kubeconfig), timeout: "2m" });
      return { ns: i.namespace };
    });
    await stack.up();

    const rendered = renderInstall(inputs).objects;
    const get = (o: KubeManifest) => getObject<Live>(o.apiVersion, o.kind, o.metadata.name, o.metadata.namespace);
    for (const o of rendered) {
      const live = await get(o);
      expect(live, `${o.kind}/${o.metadata.name}`).to.not.equal(undefined);
      expect(live!.metadata.labels, `${o.kind}/${o.metadata.name} labels`).to.include(o.metadata.labels ?? {});
      if (o.kind === "Deployment") {
        type Tmpl = { template: { metadata: { labels: object }; spec: { serviceAccountName: string; containers: { image: string; args: string[] }[] } } };
        const [want, got] = [(o.spec as Tmpl).template, (live!.spec as Tmpl).template];
        expect(got.spec.containers[0]!.args, `${o.metadata.name} args`).to.deep.equal(want.spec.containers[0]!.args);
        expect(got.spec.containers[0]!.image).to.equal(want.spec.containers[0]!.image);
        expect(got.spec.serviceAccountName).to.equal(want.spec.serviceAccountName);
        expect(got.metadata.labels).to.deep.equal(want.metadata.labels);
        expect(live!.status?.conditions?.find((c) => c.type === "Available")?.status, `${o.metadata.name} Available`).to.equal("True");
      }
    }
    const names = (kind: string) => rendered.filter((o) => o.kind === kind).map((o) => o.metadata.name);
    expect(names("Deployment")).to.include.members(["source-watcher", "image-reflector-controller", "image-automation-controller", "source-controller-blue", "kustomize-controller-green"]);
    expect(names("Service")).to.include.members(["source-watcher", "source-controller-blue", "source-controller-green"]);
    for (const crd of ["artifactgenerators.source.extensions.fluxcd.io", "imagerepositories.image.toolkit.fluxcd.io", "imagepolicies.image.toolkit.fluxcd.io",
      "imageupdateautomations.image.toolkit.fluxcd.io"]) {
      const live = await getObject<Live>("apiextensions.k8s.io/v1", "CustomResourceDefinition", crd);
      expect(live?.status?.conditions?.find((c) => c.type === "Established")?.status, `${crd} Established`).to.equal("True");
    }
    const role = await getObject<Live & { rules: { apiGroups?: string[] }[] }>("rbac.authorization.k8s.io/v1", "ClusterRole", `crd-controller-${namespace}`);
    expect(role!.rules.flatMap((r) => r.apiGroups ?? [])).to.include("source.extensions.fluxcd.io");
    expect(changed((await stack.up()).changes), "a second up changes nothing").to.equal(0);

    await stack.destroy();
    for (const d of ["source-watcher", "image-reflector-controller", "image-automation-controller", "source-controller-blue"]) {
      expect(await getObject("apps/v1", "Deployment", d, namespace), d).to.equal(undefined);
    }
    for (const crd of ["artifactgenerators.source.extensions.fluxcd.io", "imageupdateautomations.image.toolkit.fluxcd.io"]) {
      expect(await getObject("apiextensions.k8s.io/v1", "CustomResourceDefinition", crd), crd).to.equal(undefined);
    }
  });
});
