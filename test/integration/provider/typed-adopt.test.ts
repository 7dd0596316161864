// Adopting an existing Flux object into a stack (`adopt: true`); refused without it.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { GitRepository } from "../../../provider";
import { newNamespace } from "../../support/cluster";
import { changed, inlineStack } from "./pulumi-harness";
import { ensureCrds } from "./controllers";
import { applyGitRepositoryAsKubectl, getObject, kubeconfigText } from "./fixtures";

describe("typed resource adoption", function () {
  this.timeout(300_000);

  it("refuses to create over a GitRepository made by another tool, and adopts it when asked", async () => {
    await ensureCrds();
    const ns = await newNamespace("imp");
    const spec = { url: "https://example.invalid/repo.git", interval: "5m", ref: { branch: "main" } };
    await applyGitRepositoryAsKubectl(ns, "legacy", spec);
    const kubeconfig = await kubeconfigText();
    let adopt = false;
    const stack = await inlineStack("typed-adopt", async () => {
      new GitRepository("legacy", { metadata: { name: "legacy", namespace: ns }, spec: { ...spec, interval: "1m" }, kubeconfig: pulumi.secret(kubeconfig), waitForReady: false, adopt });
      return {};
    });
    const err = await stack.up().then(() => undefined, (e: Error) => e);
    expect(err?.message).to.include("already exists and was not created by this program").and.include("adopt: true");
    adopt = true;
    await stack.up();
    const live = await getObject<{ spec: { interval: string } }>("source.toolkit.fluxcd.io/v1", "GitRepository", "legacy", ns);
    expect(live!.spec.interval).to.equal("1m");
    expect(changed((await stack.up()).changes)).to.equal(0);
    await stack.destroy();
    expect(await getObject("source.toolkit.fluxcd.io/v1", "GitRepository", "legacy", ns)).to.equal(undefined);
  });
});
