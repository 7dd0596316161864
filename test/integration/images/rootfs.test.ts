// The images really run: each one's filesystem, pulled back from the registry, runs its node,
// the controller command and the binaries it calls, as user 65534 on a read-only root with
// tmpfs at /tmp (and /data), in mount and pid namespaces of their own (unshare + chroot).
import { expect } from "chai";
import { deployment } from "../../../provider/manifests/controllers";
import { resolveInstallOptions } from "../../../provider/manifests/options";
import { CONTROLLERS, ImageConfig, PREFIX, crane, exportRootfs, pushedImages, runInRootfs } from "../../support/images";
import type { CommandResult } from "../../support/git-cli";

describe("images: the root filesystems run", function () {
  this.timeout(900_000);
  const roots: Record<string, string> = {};
  const configs: Record<string, ImageConfig> = {};

  before(async () => {
    // unshare and chroot need root (this project's test machine is a VM where the tests run as root)
    if (process.getuid?.() !== 0) throw new Error("the rootfs tests need root: unshare --mount --pid and chroot");
    const { registry } = await pushedImages();
    for (const c of CONTROLLERS) {
      const ref = `${registry.host}/${PREFIX}/${c}:v0.1.0`;
      roots[c] = await exportRootfs(ref);
      configs[c] = JSON.parse(await crane(["config", ref])) as ImageConfig;
    }
  });

  const run = (c: string, argv: string[]): Promise<CommandResult> => runInRootfs(roots[c], argv, configs[c].config.Env);
  const ok = async (c: string, argv: string[]): Promise<string> => {
    const r = await run(c, argv);
    expect(r.code, `${c}: ${argv.join(" ")}: ${r.stderr}`).to.equal(0);
    return r.stdout + r.stderr;
  };

  it("node 24 and the controllers command run as 65534; the root is read-only, /tmp writable", async () => {
    for (const c of CONTROLLERS) {
      expect(await ok(c, ["/usr/local/bin/node", "--version"])).to.match(/^v24\./);
      expect(await ok(c, ["/usr/local/bin/node", "/app/dist/cli/main.js", "controllers", "run", "--help"])).to.include("usage: gitops controllers run");
      expect(await ok(c, ["/usr/local/bin/node", "-e", "console.log(process.getuid(), require('os').homedir())"])).to.equal("65534 /tmp\n");
      const w = await run(c, ["/usr/local/bin/node", "-e", "require('fs').writeFileSync('/tmp/x', 'y'); require('fs').writeFileSync('/app/x', 'y')"]);
      expect(w.code).to.not.equal(0);
      expect(w.stderr).to.match(/EROFS|read-only/i);
    }
  });

  it("each finds the tools it calls from GITOPS_TOOLS and `gitops version` names their versions", async () => {
    const v = (c: string) => ok(c, ["/usr/local/bin/node", "/app/dist/cli/main.js", "version"]);
    expect(await v("source-controller")).to.include("helm v3.21.4");
    expect(await v("kustomize-controller")).to.include("kustomize v5.8.1").and.include("sops v3.13.3");
    expect(await v("helm-controller")).to.include("helm v3.21.4");
    expect(await ok("helm-controller", ["/usr/local/bin/helm", "version", "--short"])).to.match(/^v3\.21\.4/);
    expect(await ok("source-controller", ["/usr/local/bin/helm", "version", "--short"])).to.match(/^v3\.21\.4/);
    expect(await ok("kustomize-controller", ["/usr/local/bin/kustomize", "version"])).to.include("v5.8.1");
    expect(await ok("kustomize-controller", ["/usr/local/bin/sops", "--version", "--disable-version-check"])).to.include("3.13.3");
  });

  it("source-controller's git, ssh, gpg and tar work: commit, archive and list in /tmp", async () => {
    expect(await ok("source-controller", ["/usr/bin/git", "--version"])).to.match(/^git version 2\./);
    expect(await ok("source-controller", ["/usr/bin/ssh", "-V"])).to.match(/OpenSSH_9/);
    expect(await ok("source-controller", ["/usr/bin/gpg", "--version"])).to.match(/GnuPG\) 2\./);
    // image-automation-controller commits and pushes with the same git, ssh and gpg
    expect(await ok("image-automation-controller", ["/usr/bin/git", "--version"])).to.match(/^git version 2\./);
    expect(await ok("image-automation-controller", ["/usr/bin/ssh", "-V"])).to.match(/OpenSSH_9/);
    expect(await ok("image-automation-controller", ["/usr/bin/gpg", "--version"])).to.match(/GnuPG\) 2\./);
    const out = await ok("source-controller", ["/bin/sh", "-c", [
      "set -e; cd /tmp; git init -q -b main r; cd r; echo hi > a.txt; git add a.txt",
      "git -c user.name=t -c user.email=t@example.invalid commit -q -m first",
      "git archive --format=tar.gz HEAD > /data/a.tar.gz; tar -tzf /data/a.tar.gz",
      "ssh-keygen -q -t ed25519 -N '' -f /tmp/key && echo key-ok",
    ].join("; ")]);
    expect(out).to.include("a.txt").and.include("key-ok");
  });

  it("the Deployment's args, appended to the entrypoint, are accepted (no other flag is missing)", async () => {
    const o = resolveInstallOptions({});
    for (const c of CONTROLLERS) {
      const container = (deployment(o, c).spec as { template: { spec: { containers: { args: string[] }[] } } }).template.spec.containers[0];
      const args = container.args.map((a) => a.replace("$(RUNTIME_NAMESPACE)", "flux-system"));
      // outside a pod the command stops after parsing, naming the missing in-cluster config
      const r = await run(c, [...configs[c].config.Entrypoint, ...args]);
      expect(r.code, `${c}: ${r.stderr}`).to.equal(2);
      expect(r.stderr, c).to.include("--kubeconfig (or KUBECONFIG) is required outside a pod");
    }
  });
});
