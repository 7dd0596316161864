/**
 * `gitops:index:BootstrapGit` as a TypeScript resource: registered by the Bootstrap component,
 * implemented by the provider plugin (provider/resources/bootstrap-git.ts) at deploy time.
 */
import * as pulumi from "@pulumi/pulumi";
import type { BootstrapOptions } from "../args/bootstrap";
import { token } from "../version";
import type { InputsOf } from "./inputs";
import { withKubernetesProvider, type KubernetesProviderArg } from "./kubernetes-provider";

export type BootstrapGitArgs = InputsOf<BootstrapOptions> & KubernetesProviderArg;

export const bootstrapSecretOutputs = ["ssh", "http", "kubeconfig", "registryCredentials"];

export class BootstrapGit extends pulumi.CustomResource {
  declare readonly revision: pulumi.Output<string>;
  declare readonly appliedRevision: pulumi.Output<string>;
  declare readonly files: pulumi.Output<Record<string, string>>;
  declare readonly publicKey: pulumi.Output<string | undefined>;
  declare readonly knownHosts: pulumi.Output<string | undefined>;
  declare readonly namespace: pulumi.Output<string>;

  constructor(name: string, args: BootstrapGitArgs, opts: pulumi.CustomResourceOptions = {}) {
    const props: pulumi.Inputs = {
      ...withKubernetesProvider(`Bootstrap ${name}`, args),
      revision: undefined,
      appliedRevision: undefined,
      files: undefined,
      publicKey: undefined,
      knownHosts: undefined,
      namespace: args.namespace,
    };
    super(token("BootstrapGit"), name, props, {
      ...opts,
      additionalSecretOutputs: [...(opts.additionalSecretOutputs ?? []), ...bootstrapSecretOutputs],
      replaceOnChanges: [...(opts.replaceOnChanges ?? []), "namespace"],
    });
  }
}
