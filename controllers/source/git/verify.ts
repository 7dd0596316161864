// Signature verification of the checked-out commit and/or tag with git's own verifiers:
// OpenPGP keys (`*.asc`, or no known suffix) go into a throwaway GnuPG home, SSH keys
// (`*.sshpub`) into an allowed-signers file. Nothing from the user's environment is trusted.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { ResolvedRef } from "./client";

const exec = promisify(execFile);

/** Flux's reasons: VerificationError (keys or Secret), InvalidVerificationMode (stalls: spec
 * asks for a tag it did not check out), InvalidGitObject (unsigned tag), InvalidTagSignature,
 * InvalidCommitSignature. */
export class VerificationError extends Error {
  constructor(message: string, readonly reason = "VerificationError", readonly stalled = false, options?: ErrorOptions) {
    super(message, options);
  }
}

export async function verifyCheckout(dir: string, head: ResolvedRef, mode: string, keys: Record<string, string>): Promise<string> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-verify-"));
  try {
    fs.chmodSync(home, 0o700);
    const pgp = Object.entries(keys).filter(([k]) => !k.endsWith(".sshpub"));
    const ssh = Object.entries(keys).filter(([k]) => k.endsWith(".sshpub"));
    if (pgp.length === 0 && ssh.length === 0) throw new VerificationError("the verification secret holds no public keys (.asc or .sshpub)");
    for (const [name, armored] of pgp) {
      const f = path.join(home, `${name.replace(/[^A-Za-z0-9._-]/g, "_")}.key`);
      fs.writeFileSync(f, armored);
      try {
        await exec("gpg", ["--batch", "--quiet", "--import", f], { env: { ...process.env, GNUPGHOME: home }, timeout: 30000 });
      } catch (e) {
        throw new VerificationError(`key '${name}' in the verification secret is not a valid OpenPGP public key`, "VerificationError", false, { cause: e });
      }
    }
    const signers = path.join(home, "allowed_signers");
    fs.writeFileSync(signers, ssh.map(([, k]) => `* ${k.trim()}`).join("\n") + "\n");
    const env = {
      PATH: process.env.PATH, HOME: home, GNUPGHOME: home, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "gpg.ssh.allowedSignersFile", GIT_CONFIG_VALUE_0: signers, LC_ALL: "C",
    };
    const normalized = mode === "head" ? "HEAD" : mode;
    const verified: string[] = [];
    if (normalized === "Tag" || normalized === "TagAndHEAD") {
      if (!head.tag) throw new VerificationError(`cannot verify tag object's signature if a tag reference is not specified (mode ${mode} needs ref.tag, ref.semver or ref.name refs/tags/...)`, "InvalidVerificationMode", true);
      const tagObj = (await exec("git", ["rev-parse", "FETCH_HEAD"], { cwd: dir, env })).stdout.trim();
      const type = (await exec("git", ["cat-file", "-t", tagObj], { cwd: dir, env })).stdout.trim();
      if (type !== "tag") throw new VerificationError(`cannot verify signature of tag '${head.tag}' since it is not signed (a lightweight tag carries no signature)`, "InvalidGitObject");
      verified.push(`tag '${head.tag}' with key ${await verify(["verify-tag", "--raw", tagObj], dir, env, `tag '${head.tag}'`, "InvalidTagSignature")}`);
    }
    if (normalized === "HEAD" || normalized === "TagAndHEAD") {
      verified.push(`commit '${head.commit}' with key ${await verify(["verify-commit", "--raw", "HEAD"], dir, env, `commit '${head.commit}'`, "InvalidCommitSignature")}`);
    }
    return `verified signature of - ${verified.join(" and ")}`;
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

async function verify(args: string[], dir: string, env: NodeJS.ProcessEnv, what: string, reason: string): Promise<string> {
  try {
    const { stderr } = await exec("git", args, { cwd: dir, env, timeout: 30000 });
    return keyId(stderr) ?? "unknown";
  } catch (e) {
    const stderr = String((e as { stderr?: string }).stderr ?? "");
    const failed = `signature verification of ${what} failed`;
    if (/no signature found|no signature/i.test(stderr) || stderr.trim() === "") throw new VerificationError(`${failed}: no signature found`, reason);
    if (/NO_PUBKEY|No public key|not in allowed|No principal matched/i.test(stderr)) throw new VerificationError(`${failed}: signed by a key not in the verification secret`, reason);
    throw new VerificationError(`${failed}: ${stderr.split("\n").filter(Boolean).slice(-1)[0] ?? "bad signature"}`, reason);
  }
}

function keyId(out: string): string | undefined {
  const pgp = /VALIDSIG ([0-9A-F]{40})/.exec(out);
  if (pgp) return pgp[1].slice(-16);
  const ssh = /(SHA256:[A-Za-z0-9+/=]+)/.exec(out);
  return ssh?.[1];
}
