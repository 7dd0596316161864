// Kustomization kubeConfig.secretRef: objects are applied to the cluster of a kubeconfig
// stored in a Secret (here the same test cluster, reached through that kubeconfig); a
// missing Secret is a ReconciliationFailed naming it.
import { expect } from "chai";
import * as fs from "node:fs";
import { newNamespace } from "../../support/cluster";
import { Env, configMap, core, createKustomization, gitSource, readyCondition, sharedControllers, waitForReady } from "./support";

describe("Kustomization: remote cluster kubeconfig", function () {
  this.timeout(120_000);
  let env: Env;
  before(async () => { env = await sharedControllers(); });

  it("applies through the kubeconfig in spec.kubeConfig.secretRef", async () => {
    const ns = await newNamespace("kz-remote");
    await gitSource(env.client, ns, { "app/cm.yaml": configMap("remote-cm", { v: "1" }) });
    await createKustomization(env.client, ns, "app", { path: "./app", targetNamespace: ns, retryInterval: "2s", kubeConfig: { secretRef: { name: "prod-kubeconfig" } } });
    const k = await waitForReady(env.client, ns, "app", { status: "False", reason: "ReconciliationFailed" });
    expect(readyCondition(k)?.message).to.equal(`unable to read KubeConfig secret '${ns}/prod-kubeconfig': secrets "prod-kubeconfig" not found`);
    await env.client.create(core.secrets, { apiVersion: "v1", kind: "Secret", metadata: { name: "prod-kubeconfig", namespace: ns },
      stringData: { "value.yaml": fs.readFileSync(env.kubeconfigPath, "utf8") } } as never);
    await waitForReady(env.client, ns, "app", { timeoutMs: 30_000 });
    expect(await env.client.get(core.configMaps, { namespace: ns, name: "remote-cm" })).to.not.equal(undefined);
  });
});
