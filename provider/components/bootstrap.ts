/**
 * `gitops:index:Bootstrap`: installs the controllers and makes them reconcile themselves from
 * git, like `flux bootstrap git` and Flux's Terraform `flux_bootstrap_git`, with credentials as
 * resource inputs and the cluster connection late-bound. Nothing happens at construction: the
 * work is done at deploy time by the BootstrapGit resource of the provider plugin. With
 * `ssh.generateKey`, an SshKeyPair child holds the key and `publicKey` is its public half.
 */
import * as pulumi from "@pulumi/pulumi";
import { BootstrapGit, type BootstrapGitArgs } from "../custom/bootstrap-git";
import { SshKeyPair } from "../custom/ssh-key-pair";
import { token } from "../version";

export type BootstrapArgs = BootstrapGitArgs;

type KeyAlgorithm = "ecdsa" | "ed25519" | "rsa";

/** `ssh.generateKey` when it is a plain value (TypeScript programs); construct resolves it otherwise. */
function plainGenerateKey(args: BootstrapArgs): KeyAlgorithm | undefined {
  const ssh = args.ssh as { generateKey?: unknown } | undefined;
  if (!ssh || pulumi.Output.isInstance(ssh) || ssh instanceof Promise) return undefined;
  const g = ssh.generateKey;
  return typeof g === "string" ? (g as KeyAlgorithm) : undefined;
}

export class Bootstrap extends pulumi.ComponentResource {
  /** The commit that holds the bootstrap files. */
  declare readonly revision: pulumi.Output<string>;
  /** What the root Kustomization applied: `<branch>@sha1:<commit>`. */
  declare readonly appliedRevision: pulumi.Output<string>;
  /** Repository path → content of the files managed in git. */
  declare readonly files: pulumi.Output<Record<string, string>>;
  /** Public key to register as a deploy key (ssh). */
  declare readonly publicKey: pulumi.Output<string | undefined>;
  declare readonly knownHosts: pulumi.Output<string | undefined>;
  declare readonly namespace: pulumi.Output<string>;

  /** `generateKey` is for the plugin's construct, which resolves it from an Output first. */
  constructor(name: string, args: BootstrapArgs, opts: pulumi.ComponentResourceOptions = {}, generateKey?: KeyAlgorithm) {
    super(token("Bootstrap"), name, {}, opts);
    if (opts.urn) return;
    if (!args || args.url === undefined) throw new Error("Bootstrap: url is required (the git repository to bootstrap into)");
    const algorithm = generateKey ?? plainGenerateKey(args);
    let gitArgs: BootstrapArgs = args;
    let key: SshKeyPair | undefined;
    if (algorithm) {
      key = new SshKeyPair(`${name}-deploy-key`, { algorithm, comment: pulumi.interpolate`gitops-${args.namespace ?? "flux-system"}` }, { parent: this });
      const ssh = pulumi.output(args.ssh!).apply((s) => ({ ...(s ?? {}), generateKey: undefined }));
      gitArgs = { ...args, ssh: pulumi.all([ssh, key.privateKey]).apply(([s, privateKey]) => ({ ...s, privateKey })) };
    }
    const git = new BootstrapGit(name, gitArgs, { parent: this, dependsOn: key ? [key] : [] });
    const outputs = {
      revision: git.revision,
      appliedRevision: git.appliedRevision,
      files: git.files,
      publicKey: key ? key.publicKey : git.publicKey,
      knownHosts: git.knownHosts,
      namespace: git.namespace,
    };
    Object.assign(this, outputs);
    this.registerOutputs(outputs);
  }
}
