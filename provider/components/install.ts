/**
 * `gitops:index:Install`: the controllers and CRDs without git (like `flux install`), for
 * platforms that manage the sync themselves. Applied at deploy time by the InstallManifests
 * resource of the provider plugin.
 */
import * as pulumi from "@pulumi/pulumi";
import { InstallManifests, type InstallManifestsArgs } from "../custom/install-manifests";
import { token } from "../version";

export type InstallArgs = InstallManifestsArgs;

export class Install extends pulumi.ComponentResource {
  declare readonly namespace: pulumi.Output<string>;
  /** The applied objects, as multi-document YAML. */
  declare readonly manifests: pulumi.Output<string>;
  declare readonly ready: pulumi.Output<boolean>;

  constructor(name: string, args: InstallArgs = {}, opts: pulumi.ComponentResourceOptions = {}) {
    super(token("Install"), name, {}, opts);
    if (opts.urn) return;
    const res = new InstallManifests(name, args, { parent: this });
    Object.assign(this, { namespace: res.namespace, manifests: res.manifests, ready: res.ready });
    this.registerOutputs({ namespace: res.namespace, manifests: res.manifests, ready: res.ready });
  }
}
