// Bootstrap over SSH: with a given key and pinned known_hosts; and with a generated key pair
// registered as a "deploy key" before the push, with the host key scanned on first use.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as path from "node:path";
import { Bootstrap, SshKeyPair } from "../../../provider";
import { filesAt, fluxNamespace, getObject, gitRepo, kubeconfigText } from "./fixtures";
import { changed, inlineStack } from "./pulumi-harness";
import { waitForSync, withControllers } from "./sync";

describe("Bootstrap over SSH", function () {
  this.timeout(300_000);
  withControllers();

  it("pushes with the given key and pinned known_hosts, and writes identity and known_hosts to the Secret", async () => {
    const git = await gitRepo({ ssh: true });
    const ssh = git.ssh!;
    const kubeconfig = await kubeconfigText();
    const ns = fluxNamespace();
    const stack = await inlineStack("bootstrap-ssh", async () => {
      const b = new Bootstrap("flux", {
        url: git.urls.ssh!,
        namespace: ns,
        path: "clusters/ssh",
        ssh: { privateKey: pulumi.secret(ssh.clientPrivateKeyPem), knownHosts: ssh.knownHostsLine },
        kubeconfig: pulumi.secret(kubeconfig),
        ...waitForSync(),
      });
      return { files: b.files, publicKey: b.publicKey, appliedRevision: b.appliedRevision };
    });
    const res = await stack.up();
    const files = res.outputs.files as Record<string, string>;
    const inGit = await filesAt(git, Object.keys(files));
    expect(inGit[`clusters/ssh/${ns}/gotk-sync.yaml`]).to.include(`url: ${git.urls.ssh}`);
    const secret = await getObject("v1", "Secret", ns, ns);
    expect(Buffer.from(secret!.data!.identity!, "base64").toString()).to.equal(ssh.clientPrivateKeyPem);
    expect(Buffer.from(secret!.data!.known_hosts!, "base64").toString()).to.include(ssh.hostPublicKey);
    expect(res.outputs.publicKey).to.match(/^ssh-ed25519 /);
    expect(changed((await stack.up()).changes)).to.equal(0);
  });

  it("uses a generated SshKeyPair once its public key is authorised, and scans the host key on first use", async () => {
    const git = await gitRepo({ ssh: true });
    const ssh = git.ssh!;
    const kubeconfig = await kubeconfigText();
    const ns = fluxNamespace();
    let withBootstrap = false;
    const stack = await inlineStack("bootstrap-ssh-gen", async () => {
      const key = new SshKeyPair("deploy", { algorithm: "ecdsa" });
      if (!withBootstrap) return { publicKey: key.publicKey };
      const b = new Bootstrap("flux", {
        url: git.urls.ssh!,
        namespace: ns,
        ssh: { privateKey: key.privateKey },
        kubeconfig: pulumi.secret(kubeconfig),
        ...waitForSync(),
      });
      return { publicKey: key.publicKey, knownHosts: b.knownHosts, files: b.files };
    });
    // Step 1: the key only; "register the deploy key" (authorise it on the server).
    const step1 = await stack.up();
    const publicKey = step1.outputs.publicKey as string;
    expect(publicKey).to.match(/^ecdsa-sha2-nistp384 /);
    fs.appendFileSync(path.join((ssh as unknown as { dir: string }).dir, "authorized_keys"), `${publicKey}\n`);
    // Step 2: bootstrap with it.
    withBootstrap = true;
    const step2 = await stack.up();
    expect(step2.outputs.knownHosts).to.include(ssh.hostPublicKey.split(" ")[1]);
    const files = step2.outputs.files as Record<string, string>;
    expect(Object.keys(files)).to.have.length(3);
    const secret = await getObject("v1", "Secret", ns, ns);
    expect(Buffer.from(secret!.data!["identity.pub"]!, "base64").toString().split(" ")[1]).to.equal(publicKey.split(" ")[1]);
  });
});
