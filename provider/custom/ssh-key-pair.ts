/** `gitops:index:SshKeyPair` as a TypeScript resource (implemented by the provider plugin). */
import * as pulumi from "@pulumi/pulumi";
import { token } from "../version";

export interface SshKeyPairArgs {
  /** ecdsa (P-384, Flux's default), ed25519 or rsa. */
  algorithm?: pulumi.Input<"ecdsa" | "ed25519" | "rsa">;
  comment?: pulumi.Input<string>;
}

export class SshKeyPair extends pulumi.CustomResource {
  /** The private key (secret), in a format OpenSSH reads. */
  declare readonly privateKey: pulumi.Output<string>;
  /** `<type> <base64> <comment>`: register it as a deploy key. */
  declare readonly publicKey: pulumi.Output<string>;
  declare readonly fingerprint: pulumi.Output<string>;
  declare readonly algorithm: pulumi.Output<string>;

  constructor(name: string, args: SshKeyPairArgs = {}, opts: pulumi.CustomResourceOptions = {}) {
    super(token("SshKeyPair"), name, { ...args, algorithm: args.algorithm, privateKey: undefined, publicKey: undefined, fingerprint: undefined }, {
      ...opts,
      additionalSecretOutputs: [...(opts.additionalSecretOutputs ?? []), "privateKey"],
    });
  }
}
