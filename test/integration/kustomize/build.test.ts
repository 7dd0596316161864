// Kustomization build features, checked on the live objects: spec.images (a generated
// kustomization, and one merged into a kustomization.yaml's own images as Flux does),
// namePrefix/nameSuffix (names and the references kustomize rewrites), components (relative
// to spec.path, a missing one ignored with ignoreMissingComponents), and a Namespace built
// together with objects in it (applied first, so they land on the first attempt).
import { expect } from "chai";
import { KubeObject } from "../../../controllers/runtime/keys";
import { eventually, newNamespace, randomSuffix } from "../../support/cluster";
import { onTeardown } from "../../support/teardown";
import {
  Env, configMap, core, createKustomization, deploymentYaml, expectCurrent, gitSource, kustomizations, readyCondition, sharedControllers, waitForReady,
} from "./support";

type Container = { name: string; image: string; envFrom?: Array<{ configMapRef?: { name: string } }> };
type Deploy = KubeObject & { spec: { template: { spec: { containers: Container[] } } } };
type CM = KubeObject & { data?: Record<string, string> };

const podinfoAndSidecar = `        - name: podinfo
          image: ghcr.io/stefanprodan/podinfo:6.5.0
        - name: sidecar
          image: busybox:1.36
`;

const DIGEST = "sha256:24a0c4b4a4c0eb97a1aabb8e29f18e917d05abfe1b7a7c07857230879ce7d3d3";

describe("Kustomization: build features on the cluster", function () {
  this.timeout(120_000);
  let env: Env;
  before(async () => { env = await sharedControllers(); });
  const images = async (ns: string, name: string) => {
    const d = await env.client.get<Deploy>(core.deployments, { namespace: ns, name });
    return Object.fromEntries((d?.spec.template.spec.containers ?? []).map((c) => [c.name, c.image]));
  };

  it("sets container images from spec.images (tag, name and digest)", async () => {
    const ns = await newNamespace("kz-images");
    await gitSource(env.client, ns, {
      "plain/deploy.yaml": deploymentYaml("web", { containers: podinfoAndSidecar }),
      "overlay/kustomization.yaml": "resources:\n  - deploy.yaml\nimages:\n  - name: ghcr.io/stefanprodan/podinfo\n    newName: registry.example.com/podinfo\n    newTag: \"1.0.0\"\n",
      "overlay/deploy.yaml": deploymentYaml("web", { containers: podinfoAndSidecar }),
    });
    await createKustomization(env.client, ns, "plain", {
      path: "./plain", targetNamespace: ns,
      images: [{ name: "ghcr.io/stefanprodan/podinfo", newTag: "6.7.1" }, { name: "busybox", newName: "registry.example.com/tools/busybox", digest: DIGEST }],
    });
    // The kustomization.yaml renames the image; the spec only moves its tag: both apply.
    await env.client.create(core.namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: `${ns}-ovl` } } as never);
    onTeardown(() => env.client.delete(core.namespaces, { namespace: "", name: `${ns}-ovl` }).then(() => undefined, () => undefined));
    await createKustomization(env.client, ns, "overlay", {
      path: "./overlay", targetNamespace: `${ns}-ovl`,
      images: [{ name: "ghcr.io/stefanprodan/podinfo", newTag: "2.0.0" }],
    });
    await waitForReady(env.client, ns, "plain");
    await waitForReady(env.client, ns, "overlay");
    expect(await images(ns, "web")).to.deep.equal({ podinfo: "ghcr.io/stefanprodan/podinfo:6.7.1", sidecar: `registry.example.com/tools/busybox@${DIGEST}` });
    expect(await images(`${ns}-ovl`, "web")).to.deep.equal({ podinfo: "registry.example.com/podinfo:2.0.0", sidecar: "busybox:1.36" });

    // A changed spec.images is a new generation: the live image follows.
    await env.client.patch(kustomizations, { namespace: ns, name: "plain" }, { spec: { images: [{ name: "ghcr.io/stefanprodan/podinfo", newTag: "6.8.0" }] } });
    await waitForReady(env.client, ns, "plain");
    expect(await images(ns, "web")).to.deep.equal({ podinfo: "ghcr.io/stefanprodan/podinfo:6.8.0", sidecar: "busybox:1.36" });
  });

  it("applies namePrefix and nameSuffix to the live names and the references between objects", async () => {
    const ns = await newNamespace("kz-names");
    await gitSource(env.client, ns, {
      "app/config.yaml": configMap("settings", { level: "info" }),
      "app/deploy.yaml": deploymentYaml("web", { containers: "        - name: app\n          image: nginx:1.27\n          envFrom:\n            - configMapRef: { name: settings }\n" }),
    });
    await createKustomization(env.client, ns, "app", { path: "./app", targetNamespace: ns, namePrefix: "pre-", nameSuffix: "-suf" });
    const k = await waitForReady(env.client, ns, "app");
    expect(k.status?.inventory?.entries.map((e) => e.id).sort()).to.deep.equal([`${ns}_pre-settings-suf__ConfigMap`, `${ns}_pre-web-suf_apps_Deployment`]);
    expect(await env.client.get(core.configMaps, { namespace: ns, name: "pre-settings-suf" })).to.not.equal(undefined);
    expect(await env.client.get(core.configMaps, { namespace: ns, name: "settings" })).to.equal(undefined);
    const d = await env.client.get<Deploy>(core.deployments, { namespace: ns, name: "pre-web-suf" });
    expect(d?.spec.template.spec.containers[0].envFrom?.[0].configMapRef?.name, "kustomize rewrites the reference").to.equal("pre-settings-suf");
    expectCurrent(k);
  });

  it("includes spec.components relative to spec.path, ignoring a missing one when told to", async () => {
    const ns = await newNamespace("kz-components");
    await gitSource(env.client, ns, {
      "apps/app/kustomization.yaml": "resources:\n  - config.yaml\n",
      "apps/app/config.yaml": configMap("settings", { env: "base" }),
      "apps/plain/config.yaml": configMap("plain-settings", { env: "base" }),
      "components/monitoring/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
resources:
  - monitor.yaml
patches:
  - target: { kind: ConfigMap }
    patch: |
      - op: add
        path: /data/metrics
        value: enabled
`,
      "components/monitoring/monitor.yaml": configMap("monitor", { scrape: "30s" }),
    });
    await createKustomization(env.client, ns, "app", { path: "./apps/app", targetNamespace: ns, components: ["../../components/monitoring"] });
    await createKustomization(env.client, ns, "plain", {
      path: "./apps/plain", targetNamespace: ns, nameSuffix: "-p", prune: false,
      components: ["../../components/monitoring", "../../components/absent"], ignoreMissingComponents: true,
    });
    await waitForReady(env.client, ns, "app");
    await waitForReady(env.client, ns, "plain");
    const cm = (name: string) => env.client.get<CM>(core.configMaps, { namespace: ns, name }).then((c) => c?.data);
    expect(await cm("settings")).to.deep.equal({ env: "base", metrics: "enabled" });
    expect(await cm("monitor")).to.deep.equal({ scrape: "30s", metrics: "enabled" });
    expect(await cm("plain-settings-p")).to.deep.equal({ env: "base", metrics: "enabled" });
    expect(await cm("monitor-p")).to.deep.equal({ scrape: "30s", metrics: "enabled" });

    // Without ignoreMissingComponents a missing component fails the build.
    await env.client.patch(kustomizations, { namespace: ns, name: "plain" }, { spec: { ignoreMissingComponents: false } });
    const failed = await waitForReady(env.client, ns, "plain", { status: "False", reason: "BuildFailed" });
    expect(readyCondition(failed)?.message).to.match(/^kustomize build failed: .*components\/absent/);
  });

  it("applies a Namespace before the objects built into it", async () => {
    const ns = await newNamespace("kz-own-ns");
    const target = `kz-built-${randomSuffix()}`;
    onTeardown(() => env.client.delete(core.namespaces, { namespace: "", name: target }).then(() => undefined, () => undefined));
    const inTarget = "  namespace: " + target + "\n";
    await gitSource(env.client, ns, {
      "app/namespace.yaml": `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${target}\n`,
      // Objects first in file order: the apply must still create the Namespace before them.
      "app/a-config.yaml": configMap("settings", { v: "1" }, inTarget),
      "app/a-sa.yaml": `apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: runner\n  namespace: ${target}\n`,
    });
    await createKustomization(env.client, ns, "app", { path: "./app", retryInterval: "1m" });
    const k = await waitForReady(env.client, ns, "app", { timeoutMs: 30_000 });
    expect(k.status?.history?.[0]?.totalReconciliations, "applied on the first attempt").to.equal(1);
    expect(k.status?.inventory?.entries.map((e) => e.id).sort()).to.deep.equal([`_${target}__Namespace`, `${target}_runner__ServiceAccount`, `${target}_settings__ConfigMap`]);
    expect(await env.client.get(core.configMaps, { namespace: target, name: "settings" })).to.not.equal(undefined);
    expect(await env.client.get(core.serviceAccounts, { namespace: target, name: "runner" })).to.not.equal(undefined);
    expectCurrent(k);
    // Deleting the Kustomization prunes the Namespace with its objects.
    await env.client.delete(kustomizations, { namespace: ns, name: "app" });
    await eventually(async () => {
      const n = await env.client.get<KubeObject>(core.namespaces, { namespace: "", name: target });
      return !n || n.metadata?.deletionTimestamp;
    }, { what: `Namespace ${target} deleted`, timeoutMs: 30_000 });
  });
});
