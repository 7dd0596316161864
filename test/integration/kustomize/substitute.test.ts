// Kustomization postBuild: substitute and substituteFrom (ConfigMap, Secret, optional),
// defaults, the `substitute: disabled` opt-out, substituteStrategy Always, the reaction to a
// watched ConfigMap, numbers kept strings with Flux's ${quote} idiom, and the failures: a
// missing source object, a missing variable in strict mode (StrictPostBuildSubstitutions).
import { expect } from "chai";
import { KubeObject } from "../../../controllers/runtime/keys";
import { eventually, newNamespace } from "../../support/cluster";
import {
  Env, INSTANCE_LABEL, core, createKustomization, expectCurrent, gitSource, kustomizations, readyCondition,
  sharedControllers, startControllers, waitForReady,
} from "./support";

type CM = KubeObject & { data?: Record<string, string> };

const template = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  labels:
    env: \${cluster_env:=dev}
data:
  region: "\${cluster_region}"
  owner: "\${owner}"
  token: "\${token}"
  replicas: \${quote}\${replicas}\${quote}
  escaped: "$\${not_a_var}"
  missing: "[\${nope}]"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: raw
  annotations:
    kustomize.toolkit.fluxcd.io/substitute: disabled
data:
  script: "echo \${HOME}"
`;

describe("Kustomization: post-build substitution", function () {
  this.timeout(120_000);
  let env: Env;
  before(async () => { env = await sharedControllers(); });
  const cm = (ns: string, name: string) => env.client.get<CM>(core.configMaps, { namespace: ns, name });

  it("substitutes inline variables and ones from ConfigMaps and Secrets", async () => {
    const ns = await newNamespace("kz-subst");
    await gitSource(env.client, ns, { "app/cm.yaml": template });
    await env.client.create(core.configMaps, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "vars", namespace: ns, labels: { "reconcile.fluxcd.io/watch": "Enabled" } }, data: { cluster_region: "eu-west-1", owner: "from-cm" } } as never);
    await env.client.create(core.secrets, { apiVersion: "v1", kind: "Secret", metadata: { name: "secret-vars", namespace: ns }, stringData: { token: "s3cr3t", owner: "from-secret" } } as never);
    await createKustomization(env.client, ns, "app", {
      path: "./app", targetNamespace: ns,
      postBuild: {
        substitute: { replicas: "3", quote: '"' },
        substituteFrom: [{ kind: "ConfigMap", name: "vars" }, { kind: "Secret", name: "secret-vars" }, { kind: "ConfigMap", name: "absent", optional: true }],
      },
    });
    const k = await waitForReady(env.client, ns, "app");
    const settings = await cm(ns, "settings");
    expect(settings?.data).to.deep.equal({ region: "eu-west-1", owner: "from-secret", token: "s3cr3t", replicas: "3", escaped: "${not_a_var}", missing: "[]" });
    expect(settings?.metadata?.labels?.env).to.equal("dev");
    expect((await cm(ns, "raw"))?.data?.script).to.equal("echo ${HOME}");
    expectCurrent(k);

    // A change to the watched ConfigMap is applied without waiting for the interval.
    await env.client.patch(core.configMaps, { namespace: ns, name: "vars" }, { data: { cluster_region: "us-east-2" } });
    await eventually(async () => (await cm(ns, "settings"))?.data?.region === "us-east-2", { what: "re-substituted", timeoutMs: 20_000 });
  });

  it("applies defaults with substituteStrategy Always and no variables", async () => {
    const ns = await newNamespace("kz-subst-always");
    await gitSource(env.client, ns, { "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: d\ndata:\n  env: ${cluster_env:=dev}\n" });
    await createKustomization(env.client, ns, "app", { path: "./app", targetNamespace: ns, postBuild: { substituteStrategy: "Always" } });
    await waitForReady(env.client, ns, "app");
    expect((await cm(ns, "d"))?.data?.env).to.equal("dev");
  });

  it("fails the build when a substituteFrom object is missing, and converges once it exists", async () => {
    const ns = await newNamespace("kz-subst-missing");
    await gitSource(env.client, ns, { "app/cm.yaml": template });
    await createKustomization(env.client, ns, "app", { path: "./app", targetNamespace: ns, retryInterval: "2s", postBuild: { substituteFrom: [{ kind: "ConfigMap", name: "cluster-vars" }] } });
    const k = await waitForReady(env.client, ns, "app", { status: "False", reason: "BuildFailed" });
    expect(readyCondition(k)?.message).to.equal(`substitute from 'ConfigMap/cluster-vars' error: configmaps "cluster-vars" not found`);
    expect(await cm(ns, "settings")).to.equal(undefined);
    await env.client.create(core.configMaps, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cluster-vars", namespace: ns }, data: { cluster_region: "x" } } as never);
    await waitForReady(env.client, ns, "app", { timeoutMs: 30_000 });
  });

  it("refuses a missing variable in strict mode, naming the object and the variable", async () => {
    const strict = await startControllers({ instance: "strict", withSource: true, kustomize: { featureGates: { StrictPostBuildSubstitutions: true } } });
    const ns = await newNamespace("kz-subst-strict");
    const labels = { [INSTANCE_LABEL]: "strict" };
    await gitSource(strict.client, ns, { "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  a: ${defined}\n  b: ${undefined_var}\n" }, "repo", labels);
    await createKustomization(strict.client, ns, "app", { path: "./app", targetNamespace: ns, postBuild: { substitute: { defined: "alpha" } } }, labels);
    const k = await waitForReady(strict.client, ns, "app", { status: "False", reason: "BuildFailed" });
    expect(readyCondition(k)?.message).to.equal(`post build failed for 'ConfigMap.v1.[noGrp]/s': envsubst error: variable substitution failed: variable not set (strict mode): "undefined_var"`);
    expect(await cm(ns, "s")).to.equal(undefined);
    await strict.client.patch(kustomizations, { namespace: ns, name: "app" }, { spec: { postBuild: { substitute: { defined: "alpha", undefined_var: "beta" } } } });
    await waitForReady(strict.client, ns, "app");
    expect((await cm(ns, "s"))?.data).to.deep.equal({ a: "alpha", b: "beta" });
  });
});
