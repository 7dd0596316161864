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
