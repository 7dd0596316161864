/**
 * `gitops:index:SshKeyPair`: an SSH key pair generated once at create and kept (secret) in state,
 * to register as a deploy key (publicKey) before a Bootstrap pushes with it (privateKey).
 * Changing the algorithm or comment replaces it (a key rotation, which the Secret follows).
 */
import type * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { T } from "../../controllers/api/schema";
import { generateSshKeyPair, type KeyAlgorithm } from "../git/keys";
import { validate, type Failure } from "../schema/validate";
import type { ResourceHandler } from "./handler";
import { same, type Props } from "./props";

export const sshKeyPairArgs = T.Object(
  {
    algorithm: T.Optional(T.Enum(["ecdsa", "ed25519", "rsa"], "Key type: ecdsa (P-384, Flux's default), ed25519 or rsa (4096 bits).")),
    comment: T.Optional(T.String("Comment at the end of the public key line; `gitops` by default.")),
  },
  "An SSH key pair for a deploy key.",
);

export class SshKeyPairHandler implements ResourceHandler {
  readonly secretKeys = ["privateKey"];

  async check(_urn: string, _olds: Props, news: Props): Promise<{ inputs: Props; failures: Failure[] }> {
    return { inputs: news, failures: validate(news, sshKeyPairArgs, "") };
  }

  async diff(_id: string, _urn: string, olds: Props, news: Props): Promise<pulumi.provider.DiffResult> {
    const replaces = ["algorithm", "comment"].filter((k) => !same(olds[k] ?? null, news[k] ?? null));
    return { changes: replaces.length > 0, replaces };
  }

  async create(_urn: string, inputs: Props): Promise<{ id: string; outs: Props }> {
    const algorithm = (inputs.algorithm as KeyAlgorithm | undefined) ?? "ecdsa";
    const kp = generateSshKeyPair(algorithm, (inputs.comment as string | undefined) ?? "gitops");
    const blob = Buffer.from(kp.publicKey.split(" ")[1]!, "base64");
    const fingerprint = `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
    return { id: fingerprint, outs: { ...inputs, algorithm, privateKey: kp.privateKey, publicKey: kp.publicKey, fingerprint } };
  }

  async read(id: string, _urn: string, props: Props) {
    return { id, props };
  }

  async update(_id: string, _urn: string, olds: Props): Promise<{ outs: Props }> {
    return { outs: olds };
  }

  async delete(): Promise<void> {}
}
