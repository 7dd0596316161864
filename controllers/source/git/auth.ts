// Credentials for git from a Flux GitRepository Secret, turned into environment for the real
// git CLI. Secrets go through GIT_CONFIG_* variables and key files in a private temp dir,
// never through command-line arguments (visible in `ps`) or URLs (visible in logs).
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface GitAuth {
  username?: string;
  password?: string;
  bearerToken?: string;
  /** PEM CA bundle to trust for HTTPS (`ca.crt` or `caFile`). */
  caCert?: string;
  /** Client certificate and key for mutual TLS (`tls.crt`, `tls.key`). */
  tlsCert?: string;
  tlsKey?: string;
  /** SSH private key (`identity`) and host keys (`known_hosts`). */
  identity?: string;
  knownHosts?: string;
  /** Passphrase of an encrypted SSH key (`password` with an ssh:// URL). */
  passphrase?: string;
  /** HTTP(S) proxy from spec.proxySecretRef: `address` with optional `username`/`password`. */
  proxy?: { address: string; username?: string; password?: string };
}

/** Reads spec.proxySecretRef data (`address`, `username`, `password`). */
export function proxyFromSecretData(data: Record<string, string>, secretName: string): NonNullable<GitAuth["proxy"]> {
  if (!data.address) throw new GitConfigError(`invalid proxy secret '${secretName}': key 'address' is missing`);
  let url: URL;
  try { url = new URL(data.address); } catch { throw new GitConfigError(`invalid proxy secret '${secretName}': 'address' is not a URL: ${data.address}`); }
  if (!/^(http|https|socks5):$/.test(url.protocol)) throw new GitConfigError(`invalid proxy secret '${secretName}': 'address' must be http://, https:// or socks5://`);
  return { address: data.address, username: data.username, password: data.password };
}

export class GitConfigError extends Error {}

/** Reads the keys Flux documents for GitRepository Secrets; throws what is missing. */
export function authFromSecretData(url: string, data: Record<string, string>, secretName: string): GitAuth {
  const isSsh = url.startsWith("ssh://");
  const auth: GitAuth = {};
  if (isSsh) {
    if (!data.identity) throw new GitConfigError(`invalid '${secretName}' secret data: required fields 'identity' and 'known_hosts' for an ssh:// URL; 'identity' is missing`);
    if (!data.known_hosts) throw new GitConfigError(`invalid '${secretName}' secret data: required field 'known_hosts' is missing (add the host key of ${hostOf(url)})`);
    auth.identity = data.identity;
    auth.knownHosts = data.known_hosts;
    if (data.password) auth.passphrase = data.password;
    return auth;
  }
  if (data.username !== undefined || data.password !== undefined) {
    if (!data.username || !data.password) throw new GitConfigError(`invalid '${secretName}' secret data: basic auth needs both 'username' and 'password'`);
    auth.username = data.username;
    auth.password = data.password;
  }
  if (data.bearerToken) auth.bearerToken = data.bearerToken;
  const ca = data["ca.crt"] ?? data.caFile;
  if (ca) auth.caCert = ca;
  if (data["tls.crt"] || data["tls.key"]) {
    if (!data["tls.crt"] || !data["tls.key"]) throw new GitConfigError(`invalid '${secretName}' secret data: 'tls.crt' and 'tls.key' must be given together`);
    auth.tlsCert = data["tls.crt"];
    auth.tlsKey = data["tls.key"];
  }
  return auth;
}

export function hostOf(url: string): string {
  try { return new URL(url).host; } catch { return url; }
}

/** A git environment with the credentials applied; `dispose()` removes the key files. */
export interface GitEnv { env: NodeJS.ProcessEnv; dispose(): void }

export function gitEnv(auth: GitAuth | undefined, timeoutSeconds: number): GitEnv {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-gitauth-"));
  fs.chmodSync(dir, 0o700);
  const config: Array<[string, string]> = [
    ["protocol.file.allow", "always"],
    ["http.lowSpeedLimit", "1"],
    ["http.lowSpeedTime", String(Math.max(5, timeoutSeconds))],
    ["advice.detachedHead", "false"],
    ["init.defaultBranch", "main"],
  ];
  const write = (name: string, content: string) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, content.endsWith("\n") ? content : content + "\n", { mode: 0o600 });
    return f;
  };
  if (auth?.bearerToken) config.push(["http.extraHeader", `Authorization: Bearer ${auth.bearerToken}`]);
  else if (auth?.username) {
    const basic = Buffer.from(`${auth.username}:${auth.password ?? ""}`).toString("base64");
    config.push(["http.extraHeader", `Authorization: Basic ${basic}`]);
  }
  if (auth?.caCert) config.push(["http.sslCAInfo", write("ca.crt", auth.caCert)]);
  if (auth?.proxy) {
    const u = new URL(auth.proxy.address);
    if (auth.proxy.username) { u.username = encodeURIComponent(auth.proxy.username); u.password = encodeURIComponent(auth.proxy.password ?? ""); }
    config.push(["http.proxy", u.toString().replace(/\/$/, "")]);
  }
  if (auth?.tlsCert && auth.tlsKey) {
    config.push(["http.sslCert", write("tls.crt", auth.tlsCert)], ["http.sslKey", write("tls.key", auth.tlsKey)]);
  }
  const sshOpts = ["-F", "/dev/null", "-o", "BatchMode=yes", "-o", `ConnectTimeout=${Math.max(5, timeoutSeconds)}`, "-o", "IdentitiesOnly=yes"];
  if (auth?.identity) {
    const key = write("identity", auth.identity);
    // ssh in batch mode cannot ask for a passphrase: decrypt the private copy in place.
    if (auth.passphrase) {
      try {
        execFileSync("ssh-keygen", ["-q", "-p", "-P", auth.passphrase, "-N", "", "-f", key], { stdio: "pipe", env: { PATH: process.env.PATH } });
      } catch {
        fs.rmSync(dir, { recursive: true, force: true });
        throw new GitConfigError("the SSH 'identity' could not be decrypted with the 'password' in the Secret");
      }
    }
    sshOpts.push("-i", key);
  }
  // No known_hosts means no host is trusted: an SSH URL without them fails, never trusts blindly.
  sshOpts.push("-o", `UserKnownHostsFile=${write("known_hosts", auth?.knownHosts ?? "")}`, "-o", "StrictHostKeyChecking=yes");
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "/bin/false",
    SSH_ASKPASS: "/bin/false",
    GIT_SSH_COMMAND: ["ssh", ...sshOpts].map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(" "),
    GIT_CONFIG_COUNT: String(config.length),
    LC_ALL: "C",
  };
  config.forEach(([k, v], i) => { env[`GIT_CONFIG_KEY_${i}`] = k; env[`GIT_CONFIG_VALUE_${i}`] = v; });
  return { env, dispose: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
