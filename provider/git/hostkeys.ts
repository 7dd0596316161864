/**
 * known_hosts for an ssh:// URL when none was given: one key scan (trust on first use), whose
 * result is kept in the resource state and the cluster Secret so later runs pin it.
 */
import { execFile } from "node:child_process";
import { GitError } from "./session";

export function scanHostKeys(url: string, timeoutSeconds = 15): Promise<string> {
  const u = new URL(url);
  const port = u.port || "22";
  const host = u.hostname.replace(/^\[|\]$/g, "");
  return new Promise((resolve, reject) => {
    execFile("ssh-keyscan", ["-p", port, "-T", String(timeoutSeconds), host], { timeout: (timeoutSeconds + 5) * 1000 }, (err, stdout, stderr) => {
      const lines = String(stdout).split("\n").filter((l) => l.trim() && !l.startsWith("#"));
      if (lines.length === 0) {
        const why = (String(stderr).trim() || err?.message || "no host keys returned").split("\n").slice(-1)[0];
        reject(new GitError("unreachable", `cannot scan the SSH host key of ${host}:${port} (${why}): check the url, or give ssh.knownHosts`));
        return;
      }
      resolve(lines.join("\n") + "\n");
    });
  });
}
