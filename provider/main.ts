// Entry of the executable plugin `pulumi-resource-gitops`: serves the gitops provider over gRPC
// to the Pulumi engine (construct for the components, CRUD for the deploy-time resources).
import * as pulumi from "@pulumi/pulumi";
import { Bootstrap } from "./components/bootstrap";
import { Install } from "./components/install";
import { GitopsProvider } from "./provider";
import { token } from "./version";

/** ssh.generateKey of a remote construct's inputs (they arrive as Outputs). */
async function generateKeyOf(ssh: unknown): Promise<"ecdsa" | "ed25519" | "rsa" | undefined> {
  const value = pulumi.Output.isInstance(ssh) ? await (ssh as unknown as { promise(): Promise<unknown> }).promise() : await ssh;
  const g = (value as { generateKey?: unknown } | undefined)?.generateKey;
  return g === "ecdsa" || g === "ed25519" || g === "rsa" ? g : undefined;
}

const components = {
  [token("Bootstrap")]: async (name: string, inputs: pulumi.Inputs, options: pulumi.ComponentResourceOptions) => {
    const c = new Bootstrap(name, inputs as never, options, await generateKeyOf(inputs.ssh));
    return {
      urn: c.urn,
      state: { revision: c.revision, appliedRevision: c.appliedRevision, files: c.files, publicKey: c.publicKey, knownHosts: c.knownHosts, namespace: c.namespace },
    };
  },
  [token("Install")]: (name: string, inputs: pulumi.Inputs, options: pulumi.ComponentResourceOptions) => {
    const c = new Install(name, inputs as never, options);
    return { urn: c.urn, state: { namespace: c.namespace, manifests: c.manifests, ready: c.ready } };
  },
};

export function serve(args: string[]): Promise<void> {
  return pulumi.provider.main(new GitopsProvider(components), args);
}

if (require.main === module) {
  serve(process.argv.slice(2)).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
