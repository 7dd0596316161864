// `pulumi import` of a Flux object made by another tool: read by id with the ambient kubeconfig
// (there is no state, so no kubeconfig input yet), inputs recorded from the live spec, then
// managed by the program that declares it, and deleted on destroy.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { GitRepository } from "../../../provider";
import { FieldManager } from "../../../provider/version";
import { getCluster, newNamespace } from "../../support/cluster";
import { changed, inlineStack, type TestStack } from "./pulumi-harness";
import { ensureCrds } from "./controllers";
import { applyGitRepositoryAsKubectl, getObject, kubeconfigText } from "./fixtures";

const GitRepositoryApi = "source.toolkit.fluxcd.io/v1";

type StateResource = { type: string; id?: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown> };

/** The GitRepository resource in the stack's state. */
async function gitRepositoryInState(stack: TestStack): Promise<StateResource | undefined> {
  const state = await stack.stack.exportStack();
  return (state.deployment.resources as StateResource[]).find((r) => r.type === "gitops:index:GitRepository");
}

/** Managed from now on: our field manager owns fields, a second up is a no-op, destroy deletes it. */
async function expectManagedUntilDestroy(stack: TestStack, ns: string, name: string): Promise<void> {
  const live = await getObject<{ metadata: { managedFields: { manager: string }[] } }>(GitRepositoryApi, "GitRepository", name, ns);
  expect(live!.metadata.managedFields.map((f) => f.manager)).to.include(FieldManager);
  expect(changed((await stack.up()).changes)).to.equal(0);
  await stack.destroy();
  expect(await getObject(GitRepositoryApi, "GitRepository", name, ns)).to.equal(undefined);
}

describe("typed resource import (pulumi import)", function () {
  this.timeout(300_000);

  it("imports a GitRepository by namespace/name, records its live spec, and manages it afterwards", async () => {
    await ensureCrds();
    const ns = await newNamespace("pimp");
    const { kubeconfigPath } = await getCluster();
    const spec = { url: "https://example.invalid/team/app.git", interval: "7m", ref: { tag: "v1.2.3" } };
    await applyGitRepositoryAsKubectl(ns, "legacy", spec);
    const kubeconfig = await kubeconfigText();
    const stack = await inlineStack("typed-import", async () => {
      new GitRepository("legacy", { metadata: { name: "legacy", namespace: ns }, spec, kubeconfig: pulumi.secret(kubeconfig), waitForReady: false });
      return {};
    }, { env: { KUBECONFIG: kubeconfigPath } });

    const imported = await stack.stack.import({
      resources: [{ type: "gitops:index:GitRepository", name: "legacy", id: `${ns}/legacy` }],
      protect: false,
      // The Node.js language host built here (sdk module) has no GenerateProgram; the recorded
      // inputs, which the CLI turns into code, are checked in the state instead.
      generateCode: false,
    });
    expect(imported.summary.result).to.equal("succeeded");
    // The live spec, without the CRD's defaults (timeout: 60s is not recorded).
    const res = await gitRepositoryInState(stack);
    expect(res?.id).to.equal(`${ns}/legacy`);
    expect(res?.inputs?.spec).to.deep.equal(spec);

    // The program that declares it takes it over: an update (the connection inputs), no replace.
    const first = await stack.up();
    expect(first.changes.replace ?? 0).to.equal(0);
    expect(first.changes.create ?? 0).to.equal(0);
    await expectManagedUntilDestroy(stack, ns, "legacy");
  });

  it("takes an object over with the import resource option: imported, then updated to the declared inputs", async () => {
    await ensureCrds();
    const ns = await newNamespace("pimp");
    const { kubeconfigPath } = await getCluster();
    const spec = { url: "https://example.invalid/team/opt.git", interval: "5m" };
    await applyGitRepositoryAsKubectl(ns, "opt", spec);
    const kubeconfig = await kubeconfigText();
    const stack = await inlineStack("typed-import-option", async () => {
      new GitRepository("opt", { metadata: { name: "opt", namespace: ns }, spec: { ...spec, interval: "2m" }, kubeconfig: pulumi.secret(kubeconfig), waitForReady: false }, { import: `${ns}/opt` });
      return {};
    }, { env: { KUBECONFIG: kubeconfigPath } });
    const first = await stack.up();
    expect(first.changes).to.include({ import: 1, update: 1 });
    // The state now holds the declared connection, so later operations do not depend on KUBECONFIG.
    expect((await gitRepositoryInState(stack))?.outputs).to.have.property("kubeconfig");
    const live = await getObject<{ spec: { interval: string } }>(GitRepositoryApi, "GitRepository", "opt", ns);
    expect(live!.spec.interval).to.equal("2m");
    await expectManagedUntilDestroy(stack, ns, "opt");
  });

  it("refuses to import an object that does not exist, naming the id", async () => {
    await ensureCrds();
    const ns = await newNamespace("pimp");
    const { kubeconfigPath } = await getCluster();
    const stack = await inlineStack("typed-import-missing", async () => ({}), { env: { KUBECONFIG: kubeconfigPath } });
    const err = await stack.stack
      .import({ resources: [{ type: "gitops:index:GitRepository", name: "ghost", id: `${ns}/ghost` }], protect: false, generateCode: false })
      .then(() => undefined, (e: Error) => e);
    expect(err, "the import should fail").to.be.instanceOf(Error);
    expect(err!.message).to.include(`${ns}/ghost`).and.include("does not exist");
  });
});
