// The components with Pulumi's mocked runtime: what they register, with which inputs and
// options, and that nothing touches git or a cluster at construction.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";

interface Registered { type: string; name: string; inputs: Record<string, unknown> }
const registered: Registered[] = [];

// In a hook, not at import: one mocha process also runs the automation-API tests, whose inline
// programs reset the runtime (the provider module creates nothing at import, so order is free).
const useMocks = () => pulumi.runtime.setMocks(
  {
    newResource(args) {
      registered.push({ type: args.type, name: args.name, inputs: args.inputs });
      const state: Record<string, unknown> = { ...args.inputs };
      if (args.type === "gitops:index:SshKeyPair") Object.assign(state, { privateKey: "PRIVATE", publicKey: "ecdsa-sha2-nistp384 AAAA test" });
      if (args.type === "gitops:index:BootstrapGit") Object.assign(state, { revision: "abc", appliedRevision: "main@sha1:abc", files: {}, namespace: "flux-system" });
      return { id: `${args.name}-id`, state };
    },
    call: () => ({}),
  },
  "project",
  "stack",
  false,
);

import * as gitops from "../../../provider";

const value = <T>(o: pulumi.Output<T>) => new Promise<T>((r) => o.apply(r));

describe("Bootstrap component (mocked runtime)", () => {
  before(useMocks);
  beforeEach(() => (registered.length = 0));

  it("registers one BootstrapGit child with the inputs and exposes its outputs", async () => {
    const b = new gitops.Bootstrap("flux", { url: "https://example.com/fleet.git", path: "clusters/dev" });
    expect(await value(b.revision)).to.equal("abc");
    const child = registered.find((r) => r.type === "gitops:index:BootstrapGit")!;
    expect(child.inputs.url).to.equal("https://example.com/fleet.git");
    expect(registered.map((r) => r.type)).to.not.include("gitops:index:SshKeyPair");
  });

  it("creates an SshKeyPair for ssh.generateKey and hands its private key to the bootstrap", async () => {
    const b = new gitops.Bootstrap("flux", { url: "ssh://git@example.com/fleet.git", ssh: { generateKey: "ecdsa" } });
    expect(await value(b.publicKey)).to.match(/^ecdsa-sha2-nistp384/);
    await value(b.revision);
    const child = registered.find((r) => r.type === "gitops:index:BootstrapGit")!;
    expect((child.inputs.ssh as { privateKey?: string }).privateKey).to.equal("PRIVATE");
    expect(registered.find((r) => r.type === "gitops:index:SshKeyPair")!.inputs.algorithm).to.equal("ecdsa");
  });

  it("refuses a Bootstrap without a url, naming it", () => {
    expect(() => new gitops.Bootstrap("flux", {} as never)).to.throw(/url is required/);
  });
});

describe("kubernetesProvider as the cluster connection (mocked runtime)", () => {
  before(useMocks);
  beforeEach(() => (registered.length = 0));

  it("hands the Provider's kubeconfig and context to the plugin's resources, not the Provider itself", async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const kubernetes = require("@pulumi/kubernetes") as typeof import("@pulumi/kubernetes");
    const cluster = new kubernetes.Provider("cluster", { kubeconfig: "apiVersion: v1\nkind: Config\n", context: "prod" });
    const b = new gitops.Bootstrap("flux", { url: "https://example.com/fleet.git", kubernetesProvider: cluster });
    await value(b.revision);
    const child = registered.find((r) => r.type === "gitops:index:BootstrapGit")!;
    // The mocked engine hands secrets over in their wire form: { <secret signature>, value }.
    const kubeconfig = child.inputs.kubeconfig as { value?: unknown };
    expect(Object.values(kubeconfig), "kubeconfig is a secret").to.include("1b47061264138c4ac30d75fd1eb44270");
    expect(kubeconfig.value).to.equal("apiVersion: v1\nkind: Config\n");
    expect(child.inputs.context).to.equal("prod");
    expect(child.inputs).to.not.have.property("kubernetesProvider");
    const repo = new gitops.GitRepository("app", { spec: { url: "https://example.com/app.git", interval: "1m" }, kubernetesProvider: cluster });
    await value(repo.urn);
    expect(registered.find((r) => r.type === "gitops:index:GitRepository")!.inputs.context).to.equal("prod");
  });

  it("refuses kubernetesProvider together with kubeconfig, naming both", async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const kubernetes = require("@pulumi/kubernetes") as typeof import("@pulumi/kubernetes");
    const cluster = new kubernetes.Provider("cluster2", {});
    expect(() => new gitops.Install("flux", { kubeconfig: "x", kubernetesProvider: cluster })).to.throw(/either kubernetesProvider or kubeconfig/);
  });
});
