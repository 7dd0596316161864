// The upstream flux CLI against the test cluster: returns stdout+stderr, or throws with
// flux's own error output so a failing compatibility test says what flux complained about.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { tool } from "../../cli/tools";

const exec = promisify(execFile);

export type FluxCli = (...args: string[]) => Promise<string>;

export function fluxCli(kubeconfigPath: string): FluxCli {
  return async (...args) => {
    try {
      const { stdout, stderr } = await exec(tool("flux"), [...args, "--kubeconfig", kubeconfigPath], { timeout: 90000 });
      return stdout + stderr;
    } catch (e) {
      const x = e as { stdout?: string; stderr?: string; message: string };
      throw new Error(`flux ${args.join(" ")} failed: ${x.stderr || x.stdout || x.message}`);
    }
  };
}
