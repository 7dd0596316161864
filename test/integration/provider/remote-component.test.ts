// The executable plugin path: the generated TypeScript SDK (sdk/nodejs) constructs Bootstrap
// and Install remotely (construct runs in pulumi-resource-gitops, started by the engine), as a
// Python or Go program would; and the typed resources' CRUD runs in the same plugin.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { fluxNamespace, getObject, gitRepo, gitRepoUser, kubeconfigText } from "./fixtures";
import { changed, generatedSdk, inlineStack } from "./pulumi-harness";
import { canSync, waitForSync, withControllers } from "./sync";

// The generated SDK is compiled with its own tsconfig (generatedSdk()); typed loosely here so the
// repository build does not compile generated code under its stricter options.
type Ctor = new (name: string, args: Record<string, unknown>, opts?: pulumi.ComponentResourceOptions) => Record<string, pulumi.Output<unknown>>;
type Sdk = { Bootstrap: Ctor; Install: Ctor };

describe("generated SDK and remote components", function () {
  this.timeout(400_000);
  withControllers();
  let gitops: Sdk;
  before(async function () {
    this.timeout(120_000);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    gitops = require(await generatedSdk()) as Sdk;
  });

  it("bootstraps through a remote Bootstrap component, then changes nothing on a second up", async () => {
    const git = await gitRepo();
    const kubeconfig = await kubeconfigText();
    const ns = fluxNamespace();
    const stack = await inlineStack("remote-bootstrap", async () => {
      const b = new gitops.Bootstrap("flux", {
        url: git.urls.http!,
        namespace: ns,
        path: "clusters/remote",
        http: { username: gitRepoUser.username, password: gitRepoUser.password, allowInsecureHttp: true },
        kubeconfig,
        ...waitForSync(),
      });
      return { revision: b.revision, appliedRevision: b.appliedRevision, files: b.files };
    });
    const res = await stack.up();
    expect(Object.keys(res.outputs.files as object)).to.have.length(3);
    if (canSync()) expect(res.outputs.appliedRevision).to.equal(`main@sha1:${res.outputs.revision}`);
    expect(await getObject("apps/v1", "Deployment", "kustomize-controller", ns)).to.not.equal(undefined);
    expect(changed((await stack.up()).changes)).to.equal(0);
    await stack.destroy();
  });

  it("installs through a remote Install component", async () => {
    const kubeconfig = await kubeconfigText();
    const ns = fluxNamespace();
    const stack = await inlineStack("remote-install", async () => {
      const i = new gitops.Install("flux", { namespace: ns, components: ["source-controller", "kustomize-controller"], kubeconfig: pulumi.secret(kubeconfig) });
      return { ready: i.ready, namespace: i.namespace };
    });
    const res = await stack.up();
    expect(res.outputs.ready).to.equal(true);
    expect(res.outputs.namespace).to.equal(ns);
    expect(await getObject("apps/v1", "Deployment", "source-controller", ns)).to.not.equal(undefined);
    await stack.destroy();
    expect(await getObject("apps/v1", "Deployment", "source-controller", ns)).to.equal(undefined);
  });
});
