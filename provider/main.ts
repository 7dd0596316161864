// Entry of the executable plugin `pulumi-resource-gitops`: serves the gitops provider over gRPC
// to the Pulumi engine (construct for the components, CRUD for the deploy-time resources).
import { createRequire } from "node:module";
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

/**
 * `pulumi import` sends a ReadRequest with an id and no properties (there is no state yet), and
 * the Node.js provider host reads `getProperties().toJavaScript()` unguarded, so the import
 * failed before reaching our `read`. An absent properties field is read as an empty Struct.
 */
function readImportsWithoutState(): void {
  const fromPulumi = createRequire(require.resolve("@pulumi/pulumi/package.json"));
  const { ReadRequest } = fromPulumi("./proto/provider_pb.js") as { ReadRequest: { prototype: { getProperties(): unknown } } };
  const { Struct } = fromPulumi("google-protobuf/google/protobuf/struct_pb.js") as { Struct: new () => unknown };
  const original = ReadRequest.prototype.getProperties;
  ReadRequest.prototype.getProperties = function (this: unknown) {
    return original.call(this) ?? new Struct();
  };
}

export function serve(args: string[]): Promise<void> {
  readImportsWithoutState();
  return pulumi.provider.main(new GitopsProvider(components), args);
}

if (require.main === module) {
  serve(process.argv.slice(2)).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
