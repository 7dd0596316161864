/**
 * The automation API, as a CI pipeline would run it: an inline program (no Pulumi.yaml on disk),
 * a local file backend, the gitops plugin named in the project settings, `up`, report, and
 * `destroy` on request. Nothing here needs the Pulumi service or the network.
 *
 *   npx tsc -p examples/tsconfig.json
 *   GITOPS_GIT_URL=http://127.0.0.1:<port>/fleet.git GITOPS_GIT_PASSWORD=... KUBECONFIG=... \
 *     node dist/examples/automation-api/index.js up|preview|destroy
 */
import { LocalWorkspace, PulumiCommand, type InlineProgramArgs } from "@pulumi/pulumi/automation";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Bootstrap } from "../../provider";

export interface PipelineOptions {
  gitUrl: string;
  gitUsername?: string;
  gitPassword: string;
  /** Kubeconfig contents or path. */
  kubeconfig: string;
  clusterPath?: string;
  /** Where the state goes (file backend); a directory. */
  stateDir: string;
  stackName?: string;
  /** PULUMI_HOME for the run (plugins cache). */
  pulumiHome?: string;
  wait?: boolean;
  log?: (line: string) => void;
}

const repoRoot = path.resolve(__dirname, "..", "..", "..");
const tools = process.env.GITOPS_TOOLS ?? path.join(os.homedir(), ".cache", "gitops-tools");

function program(o: PipelineOptions): InlineProgramArgs["program"] {
  return async () => {
    const flux = new Bootstrap("flux", {
      url: o.gitUrl,
      path: o.clusterPath ?? "clusters/ci",
      http: { username: o.gitUsername ?? "gitops", password: pulumi.secret(o.gitPassword), allowInsecureHttp: o.gitUrl.startsWith("http://") },
      kubeconfig: pulumi.secret(o.kubeconfig),
      components: ["source-controller", "kustomize-controller"],
      wait: o.wait ?? true,
      timeout: "3m",
    });
    return { revision: flux.revision, appliedRevision: flux.appliedRevision };
  };
}

export async function pipeline(action: "up" | "preview" | "destroy", o: PipelineOptions): Promise<Record<string, unknown>> {
  fs.mkdirSync(o.stateDir, { recursive: true });
  const pulumiHome = o.pulumiHome ?? path.join(o.stateDir, ".pulumi-home");
  fs.mkdirSync(pulumiHome, { recursive: true });
  const pulumiCommand = await PulumiCommand.get({ root: tools });
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: o.stackName ?? "ci", projectName: "gitops-pipeline", program: program(o) },
    {
      pulumiCommand,
      pulumiHome,
      secretsProvider: "passphrase",
      envVars: {
        PULUMI_BACKEND_URL: `file://${path.resolve(o.stateDir)}`,
        PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "pipeline",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ""}`,
      },
      projectSettings: {
        name: "gitops-pipeline",
        runtime: "nodejs",
        backend: { url: `file://${path.resolve(o.stateDir)}` },
        // How the engine finds the gitops plugin (the same entry a Pulumi.yaml would have).
        ...({ plugins: { providers: [{ name: "gitops", path: path.join(repoRoot, "provider", "bin") }] } } as object),
      },
    },
  );
  const onOutput = o.log ?? (() => undefined);
  if (action === "preview") {
    const r = await stack.preview({ onOutput });
    return { changes: r.changeSummary };
  }
  if (action === "destroy") {
    const r = await stack.destroy({ onOutput });
    return { changes: r.summary.resourceChanges ?? {} };
  }
  const r = await stack.up({ onOutput });
  return { changes: r.summary.resourceChanges ?? {}, ...Object.fromEntries(Object.entries(r.outputs).map(([k, v]) => [k, v.value])) };
}

if (require.main === module) {
  const action = (process.argv[2] ?? "up") as "up" | "preview" | "destroy";
  const need = (k: string) => process.env[k] ?? (() => { throw new Error(`${k} is required`); })();
  pipeline(action, {
    gitUrl: need("GITOPS_GIT_URL"),
    gitUsername: process.env.GITOPS_GIT_USERNAME,
    gitPassword: need("GITOPS_GIT_PASSWORD"),
    kubeconfig: need("KUBECONFIG"),
    stateDir: process.env.GITOPS_STATE_DIR ?? path.join(repoRoot, ".gitops", "pipeline-state"),
    log: (l) => process.stdout.write(l),
  }).then((r) => console.log(JSON.stringify(r, null, 2)), (e: Error) => {
    console.error(e.message);
    process.exit(1);
  });
}
