// Bad input to Bootstrap: each fails at preview or up with a message that says what to fix,
// pushes nothing it should not, and leaves the stack state consistent.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { Bootstrap } from "../../../provider";
import type { BootstrapArgs } from "../../../provider/components/bootstrap";
import { commitCount, editInGit, fluxNamespace, getObject, gitRepo, gitRepoUser, kubeconfigText, tipOf } from "./fixtures";
import { inlineStack, type TestStack } from "./pulumi-harness";
import { canSync, withControllers } from "./sync";

async function failure(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => undefined, (e: Error) => e);
  expect(err, "the operation should fail").to.be.instanceOf(Error);
  const msg = err!.message;
  if (process.env.SHOW_ERRORS) console.log(msg);
  return msg;
}

/** URNs of the resources a stack holds. */
async function resourcesIn(stack: TestStack): Promise<string[]> {
  const state = await stack.stack.exportStack();
  return ((state.deployment as { resources?: { urn: string }[] }).resources ?? []).map((r) => r.urn);
}

describe("Bootstrap with bad input", function () {
  this.timeout(300_000);
  let kubeconfig: string;
  before(async () => {
    kubeconfig = await kubeconfigText();
  });

  function program(args: Partial<BootstrapArgs> & { url: string }) {
    return async () => {
      const b = new Bootstrap("flux", { kubeconfig: pulumi.secret(kubeconfig), timeout: "20s", ...args });
      return { revision: b.revision };
    };
  }

  it("reports an unreachable git server, pushes nothing and touches neither the cluster nor the state", async () => {
    const ns = fluxNamespace();
    const stack = await inlineStack("bad-unreachable", program({ url: "http://127.0.0.1:9/nowhere.git", namespace: ns, http: { allowInsecureHttp: true } }));
    const msg = await failure(stack.up());
    expect(msg).to.include("cannot be reached").and.include("127.0.0.1:9");
    expect(await getObject("v1", "Namespace", ns)).to.equal(undefined);
    expect((await resourcesIn(stack)).some((u) => u.includes("BootstrapGit"))).to.equal(false);
  });

  it("reports rejected credentials before pushing anything", async () => {
    const git = await gitRepo();
    const before = await commitCount(git);
    const ns = fluxNamespace();
    const stack = await inlineStack("bad-credentials", program({ url: git.urls.http!, namespace: ns, http: { username: gitRepoUser.username, password: pulumi.secret("wrong"), allowInsecureHttp: true } }));
    const msg = await failure(stack.up());
    expect(msg).to.include("rejected the credentials").and.include("http.username/password").and.not.include("ssh.privateKey");
    expect(await commitCount(git)).to.equal(before);
    expect(await getObject("v1", "Namespace", ns)).to.equal(undefined);
  });

  it("refuses a plain http:// url without the explicit opt-in, at preview", async () => {
    const git = await gitRepo();
    const stack = await inlineStack("bad-insecure", program({ url: git.urls.http!, http: { username: gitRepoUser.username, password: gitRepoUser.password } }));
    const msg = await failure(stack.preview());
    expect(msg).to.include("http.allowInsecureHttp").and.include("plain http://");
  });

  it("refuses a path that holds another cluster's sync, pushing nothing", async () => {
    const git = await gitRepo();
    const ns = fluxNamespace();
    const other = [
      "---",
      "apiVersion: source.toolkit.fluxcd.io/v1",
      "kind: GitRepository",
      `metadata: {name: ${ns}, namespace: ${ns}}`,
      "spec: {interval: 1m0s, ref: {branch: main}, url: 'ssh://git@elsewhere.example/other.git'}",
      "---",
      "apiVersion: kustomize.toolkit.fluxcd.io/v1",
      "kind: Kustomization",
      `metadata: {name: ${ns}, namespace: ${ns}}`,
      `spec: {interval: 10m0s, path: ./clusters/prod, prune: true, sourceRef: {kind: GitRepository, name: ${ns}}}`,
      "",
    ].join("\n");
    await git.fixture.commitFiles({ [`clusters/prod/${ns}/gotk-sync.yaml`]: other }, "another cluster's bootstrap");
    const tip = await tipOf(git);
    const stack = await inlineStack("bad-path", program({ url: git.urls.http!, path: "clusters/prod", namespace: ns, http: { ...gitRepoUser, allowInsecureHttp: true } }));
    const msg = await failure(stack.up());
    expect(msg).to.include("already holds the sync of another cluster").and.include("elsewhere.example").and.include("Nothing was pushed");
    expect(await tipOf(git)).to.equal(tip);
  });

  it("rejects invalid typed inputs at preview, naming each field", async () => {
    const stack = await inlineStack("bad-typed", program({
      url: "https://example.invalid/repo.git",
      namespace: "Bad_Namespace",
      logLevel: "verbose" as never,
      components: ["source-controller", "bogus-controller" as never],
      interval: "every minute",
    }));
    const msg = await failure(stack.preview());
    for (const field of ["namespace", "logLevel", "components[1]", "interval"]) expect(msg).to.include(field);
  });

  it("rejects a component set without kustomize-controller, and an unknown extra component", async () => {
    const stack = await inlineStack("bad-components", program({
      url: "https://example.invalid/repo.git",
      components: ["source-controller"],
    }));
    expect(await failure(stack.preview())).to.include("bootstrap needs kustomize-controller");
    const extra = await inlineStack("bad-extra", program({ url: "https://example.invalid/repo.git", componentsExtra: ["image-automation-controller", "flagger" as never] }));
    expect(await failure(extra.preview())).to.include("componentsExtra[1]").and.include("'flagger' is not one of image-reflector-controller, image-automation-controller, source-watcher");
  });

  describe("with the controllers running", () => {
    withControllers();

    it("fails with the Kustomization's own message when the cluster path does not build, and keeps the resource in state", async function () {
      if (!canSync()) this.skip();
      const git = await gitRepo();
      const ns = fluxNamespace();
      await git.fixture.commitFiles({ "clusters/broken/app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [not, a, name]}\n" }, "a broken manifest");
      const stack = await inlineStack("bad-never-ready", program({ url: git.urls.http!, path: "clusters/broken", namespace: ns, http: { ...gitRepoUser, allowInsecureHttp: true } }));
      const msg = await failure(stack.up());
      expect(msg).to.match(new RegExp(`Kustomization ${ns}/${ns} is not Ready at main@sha1:[0-9a-f]{40} after \\d+s: Ready=False`));
      expect(msg).to.include("fix the cause and run pulumi up again");
      // The controller's own condition, word for word, not just its status.
      const ks = await getObject<{ status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] } }>("kustomize.toolkit.fluxcd.io/v1", "Kustomization", ns, ns);
      const ready = ks?.status?.conditions?.find((c) => c.type === "Ready");
      expect(ready, JSON.stringify(ks?.status)).to.include({ status: "False", reason: "BuildFailed" });
      expect(ready!.message).to.include("kustomize build failed").and.include("missing metadata.name");
      expect(msg).to.include(`Ready=False BuildFailed: ${ready!.message}`);
      // Recorded (partially created): a fixed repository and another up complete it.
      expect((await resourcesIn(stack)).some((u) => u.includes("BootstrapGit"))).to.equal(true);
      await editInGit(git, { "clusters/broken/app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fixed, namespace: default}\n" }, "fix it");
      const res = await stack.up();
      expect(res.outputs.revision).to.be.a("string");
      await stack.destroy();
    });
  });
});
