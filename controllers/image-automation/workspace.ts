// The git side of an automation run, on the real git CLI with source-controller's transport
// (auth.ts/client.ts): shallow clone of the checkout ref into a private temp dir, commit
// (optionally signed with gpg or ssh), and one atomic push of the push branch and refspec.
// Nothing reaches the remote before the push, and the push is all-or-nothing.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { GitAuth } from "../source/git/auth";
import { GitError, GitRef, ResolvedRef, checkout, git, resolveRef } from "../source/git/client";

const exec = promisify(execFile);

export interface Signing { type: "gpg" | "ssh"; key: string; passphrase?: string }

export interface CommitSpec { authorName: string; authorEmail: string; message: string; signing?: Signing }

/** A push the remote turned down because it moved on (non-fast-forward or fetch first). */
export class PushRejected extends GitError {}
export class SigningError extends Error {}

export class Workspace {
  private constructor(readonly dir: string, readonly url: string, readonly head: ResolvedRef, private readonly auth: GitAuth | undefined, private readonly timeoutSeconds: number) {}

  /** Clones `ref` of `url` (shallow) and checks out `branch` locally, created from it. */
  static async clone(url: string, ref: GitRef, branch: string | undefined, auth: GitAuth | undefined, timeoutSeconds: number): Promise<Workspace> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-iua-"));
    try {
      const resolved = await resolveRef(url, ref, { auth, timeoutSeconds });
      const head = await checkout(url, resolved, dir, { auth, timeoutSeconds });
      const ws = new Workspace(dir, url, head, auth, timeoutSeconds);
      if (branch) await ws.git(["checkout", "-q", "-B", branch]);
      return ws;
    } catch (e) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  git(args: string[]): Promise<string> {
    return git(args, { auth: this.auth, timeoutSeconds: this.timeoutSeconds, cwd: this.dir });
  }

  /** Stages everything and commits; undefined when the tree did not change. */
  async commit(spec: CommitSpec): Promise<string | undefined> {
    await this.git(["add", "-A"]);
    if ((await this.git(["status", "--porcelain"])).trim() === "") return undefined;
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-iua-commit-"));
    fs.chmodSync(tmp, 0o700);
    try {
      const msgFile = path.join(tmp, "message");
      fs.writeFileSync(msgFile, spec.message);
      const cfg = ["-c", `user.name=${spec.authorName}`, "-c", `user.email=${spec.authorEmail}`, "-c", "commit.gpgsign=false"];
      let sign: string[] = [];
      let cleanup = async () => {};
      if (spec.signing) ({ cfg: sign, cleanup } = await signingConfig(spec.signing, tmp));
      try {
        await this.git([...cfg, ...sign, "commit", "-q", ...(sign.length ? ["-S"] : []), "--no-verify", "-F", msgFile]);
      } finally { await cleanup(); }
      return (await this.git(["rev-parse", "HEAD"])).trim();
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }

  /** One atomic push of HEAD to `branch` (forced when asked) and of `refspec`. */
  async push(branch: string, opts: { force: boolean; refspec?: string; options?: Record<string, string> }): Promise<void> {
    const refspecs = [`${opts.force ? "+" : ""}HEAD:refs/heads/${branch}`];
    if (opts.refspec) refspecs.push(opts.refspec);
    const po = Object.entries(opts.options ?? {}).flatMap(([k, v]) => ["-o", v === "" ? k : `${k}=${v}`]);
    try {
      await this.git(["push", "-q", "--atomic", ...po, "origin", ...refspecs]);
    } catch (e) {
      const msg = (e as Error).message;
      if (/\[rejected\]|non-fast-forward|fetch first|\(stale info\)|failed to update ref|cannot lock ref/.test(msg)) throw new PushRejected(msg, "other", { cause: e });
      throw e;
    }
  }

  close(): void { fs.rmSync(this.dir, { recursive: true, force: true }); }
}

/** git -c settings that sign with the key, and how to clean up after (gpg-agent). */
async function signingConfig(s: Signing, tmp: string): Promise<{ cfg: string[]; cleanup: () => Promise<void> }> {
  if (s.type === "ssh") {
    const key = path.join(tmp, "signing_key");
    fs.writeFileSync(key, s.key.endsWith("\n") ? s.key : `${s.key}\n`, { mode: 0o600 });
    if (s.passphrase) {
      try { await exec("ssh-keygen", ["-q", "-p", "-P", s.passphrase, "-N", "", "-f", key]); } catch {
        throw new SigningError("the SSH signing key 'identity' could not be decrypted with the 'password' in the Secret");
      }
    }
    try { await exec("ssh-keygen", ["-y", "-f", key]); } catch (e) {
      throw new SigningError(`the SSH signing key 'identity' is not a valid private key: ${((e as { stderr?: string }).stderr ?? "").trim()}`);
    }
    return { cfg: ["-c", "gpg.format=ssh", "-c", `user.signingkey=${key}`], cleanup: async () => {} };
  }
  let gpg: string;
  try { gpg = (await exec("sh", ["-c", "command -v gpg"])).stdout.trim(); } catch {
    throw new SigningError("commit signing with an OpenPGP key needs the 'gpg' binary, which this controller's host does not have");
  }
  // A short GNUPGHOME: gpg-agent's socket path must fit in sockaddr_un.
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "g-"));
  fs.chmodSync(home, 0o700);
  const env = { PATH: process.env.PATH, GNUPGHOME: home };
  const cleanup = async () => {
    await exec("gpgconf", ["--kill", "gpg-agent"], { env }).catch(() => undefined);
    fs.rmSync(home, { recursive: true, force: true });
  };
  try {
    const keyFile = path.join(tmp, "git.asc");
    fs.writeFileSync(keyFile, s.key, { mode: 0o600 });
    const passFile = path.join(tmp, "passphrase");
    fs.writeFileSync(passFile, s.passphrase ?? "", { mode: 0o600 });
    const loop = ["--batch", "--pinentry-mode", "loopback", "--passphrase-file", passFile];
    try { await exec(gpg, [...loop, "--import", keyFile], { env }); } catch (e) {
      throw new SigningError(`failed to read the OpenPGP key in 'git.asc': ${((e as { stderr?: string }).stderr ?? "").trim().split("\n").pop()}`);
    }
    const listed = (await exec(gpg, ["--batch", "--with-colons", "--list-secret-keys"], { env })).stdout;
    const fpr = /^fpr:+([0-9A-F]+):/m.exec(listed)?.[1];
    if (!fpr) throw new SigningError("the 'git.asc' of the signing key Secret holds no private OpenPGP key");
    const wrapper = path.join(tmp, "gpg-sign");
    fs.writeFileSync(wrapper, `#!/bin/sh\nGNUPGHOME='${home}' exec '${gpg}' ${loop.map((a) => `'${a}'`).join(" ")} "$@"\n`, { mode: 0o700 });
    return { cfg: ["-c", `gpg.program=${wrapper}`, "-c", `user.signingkey=${fpr}`], cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
