/** `gitops:index:InstallManifests` as a TypeScript resource (implemented by the provider plugin). */
import * as pulumi from "@pulumi/pulumi";
import type { Static } from "../../controllers/api/schema";
import type { installManifestsArgs } from "../resources/install-manifests";
import { token } from "../version";
import type { InputsOf } from "./inputs";
import { withKubernetesProvider, type KubernetesProviderArg } from "./kubernetes-provider";

export type InstallManifestsArgs = InputsOf<Static<typeof installManifestsArgs>> & KubernetesProviderArg;

export class InstallManifests extends pulumi.CustomResource {
  declare readonly namespace: pulumi.Output<string>;
  declare readonly manifests: pulumi.Output<string>;
  declare readonly ready: pulumi.Output<boolean>;

  constructor(name: string, args: InstallManifestsArgs, opts: pulumi.CustomResourceOptions = {}) {
    super(token("InstallManifests"), name, { ...withKubernetesProvider(`Install ${name}`, args), namespace: args.namespace, manifests: undefined, ready: undefined }, {
      ...opts,
      additionalSecretOutputs: [...(opts.additionalSecretOutputs ?? []), "kubeconfig"],
    });
  }
}
