// GitFixture: a work repository plus bare repositories (the ones the servers expose), all in
// one temp dir, driven by the real git CLI with an isolated environment.
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { CommandOptions, CommandResult, isolatedGitEnv, makeTempDir, removeDir, runGit, tryGit } from "./git-cli";
import { GitTestResource, trackResource, untrackResource } from "./git-registry";

export interface GitFixtureOptions {
  /** Push every change (commit, branch, tag) to all bare repos right away (default true). */
  autoPublish?: boolean;
}

export interface CommitOptions {
  /** Commit on this branch; it is checked out first and created from HEAD when missing. */
  branch?: string;
}

export class GitFixture implements GitTestResource {
  /** The fixture's temp dir. */
  readonly root: string;
  /** Working repository in which commits are made (default branch `main`). */
  readonly workDir: string;
  /** Directory holding the bare repositories; use as GIT_PROJECT_ROOT for HTTP. */
  readonly reposDir: string;
  /** HOME used by every git command of this fixture. */
  readonly home: string;
  /** Isolated environment (HOME, GIT_CONFIG_NOSYSTEM, fixed identity, no prompts). */
  readonly env: NodeJS.ProcessEnv;
  private readonly autoPublish: boolean;
  private readonly bareRepos = new Set<string>();
  private closed = false;

  private constructor(root: string, opts: GitFixtureOptions) {
    this.root = root;
    this.workDir = path.join(root, "work");
    this.reposDir = path.join(root, "repos");
    this.home = path.join(root, "home");
    this.env = isolatedGitEnv(this.home);
    this.autoPublish = opts.autoPublish ?? true;
  }

  /** Create the temp dir and an empty work repository on branch `main`. */
  static async create(opts: GitFixtureOptions = {}): Promise<GitFixture> {
    const fixture = new GitFixture(makeTempDir(), opts);
    trackResource(fixture);
    for (const dir of [fixture.workDir, fixture.reposDir, fixture.home]) fs.mkdirSync(dir, { recursive: true });
    await fixture.git(["init", "-q", "-b", "main", "."]);
    await fixture.git(["config", "commit.gpgsign", "false"]);
    await fixture.git(["config", "tag.gpgsign", "false"]);
    return fixture;
  }

  /** Run git in the work repo (or opts.cwd) with the fixture's env; returns trimmed stdout. */
  git(args: string[], opts: CommandOptions = {}): Promise<string> {
    return runGit(args, { cwd: this.workDir, ...opts, env: { ...this.env, ...opts.env } });
  }

  /** Like git() but resolves with code/stdout/stderr instead of rejecting on failure. */
  tryGit(args: string[], opts: CommandOptions = {}): Promise<CommandResult> {
    return tryGit(args, { cwd: this.workDir, ...opts, env: { ...this.env, ...opts.env } });
  }

  /** A new empty directory inside the fixture (e.g. a clone destination). */
  scratchDir(name: string): string {
    const dir = fs.mkdtempSync(path.join(this.root, `${name.replace(/[^\w.-]/g, "_")}-`));
    return dir;
  }

  /** Absolute path of a bare repo in reposDir. */
  barePath(name = "repo.git"): string {
    return path.join(this.reposDir, name);
  }

  /** `file:///.../repos/<name>` URL of a bare repo. */
  fileUrl(name = "repo.git"): string {
    return pathToFileURL(this.barePath(name)).href;
  }

  /**
   * Create a bare repository `reposDir/<name>` (pushable over HTTP: http.receivepack=true),
   * register it for publishing and push the current branches and tags into it.
   */
  async createBareRepo(name = "repo.git"): Promise<string> {
    const bare = this.barePath(name);
    await runGit(["init", "-q", "--bare", "-b", "main", bare], { env: this.env });
    for (const [key, value] of [
      ["http.receivepack", "true"],
      ["uploadpack.allowReachableSHA1InWant", "true"],
      ["receive.denyDeleteCurrent", "false"],
    ]) {
      await runGit(["config", key, value], { cwd: bare, env: this.env });
    }
    this.bareRepos.add(bare);
    if (await this.hasCommits()) await this.publishTo(bare);
    return bare;
  }

  /**
   * Write (string) or delete (null) files relative to the work tree, commit everything with
   * `message` and return the new commit sha. Publishes when autoPublish is on.
   */
  async commitFiles(files: Record<string, string | null>, message: string, opts: CommitOptions = {}): Promise<string> {
    if (opts.branch) await this.switchTo(opts.branch);
    for (const [rel, content] of Object.entries(files)) {
      const file = path.resolve(this.workDir, rel);
      if (!file.startsWith(this.workDir + path.sep)) throw new Error(`path escapes the work tree: ${rel}`);
      if (content === null) {
        fs.rmSync(file, { force: true, recursive: true });
      } else {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, content);
      }
    }
    await this.git(["add", "-A", "--", "."]);
    await this.git(["commit", "-q", "--allow-empty", "-m", message]);
    const sha = await this.revParse("HEAD");
    await this.maybePublish();
    return sha;
  }

  /** Check out an existing branch, or create it from HEAD. */
  async switchTo(branch: string): Promise<void> {
    const exists = await this.tryGit(["show-ref", "--verify", "--quiet", `refs/heads/${branch}`]);
    await this.git(exists.code === 0 ? ["checkout", "-q", branch] : ["checkout", "-q", "-b", branch]);
  }

  /** Create a branch at `from` (default HEAD) without checking it out. */
  async createBranch(name: string, from = "HEAD"): Promise<string> {
    await this.git(["branch", name, from]);
    await this.maybePublish();
    return this.revParse(name);
  }

  /** Delete a branch locally and in every bare repo. */
  async deleteBranch(name: string): Promise<void> {
    await this.git(["branch", "-D", name]);
    await this.deleteRemoteRef(`refs/heads/${name}`);
  }

  /** Lightweight tag at `ref` (default HEAD); returns the tagged commit sha. */
  async tag(name: string, ref = "HEAD"): Promise<string> {
    await this.git(["tag", name, ref]);
    await this.maybePublish();
    return this.revParse(`${name}^{commit}`);
  }

  /** Annotated tag at `ref` (default HEAD); returns the sha of the tag object. */
  async annotatedTag(name: string, message: string, ref = "HEAD"): Promise<string> {
    await this.git(["tag", "-a", name, "-m", message, ref]);
    await this.maybePublish();
    return this.revParse(`refs/tags/${name}`);
  }

  /** Delete a tag locally and in every bare repo. */
  async deleteTag(name: string): Promise<void> {
    await this.git(["tag", "-d", name]);
    await this.deleteRemoteRef(`refs/tags/${name}`);
  }

  /** Full sha of a revision in the work repo. */
  revParse(ref: string): Promise<string> {
    return this.git(["rev-parse", "--verify", ref]);
  }

  /** Force-push all local branches and tags to every registered bare repo. */
  async publish(): Promise<void> {
    for (const bare of this.bareRepos) await this.publishTo(bare);
  }

  /**
   * Push to any URL (file, http(s), ssh) with extra env (e.g. GIT_SSH_COMMAND) and git -c
   * options (e.g. `http.extraHeader=...`). Default refspec: the current branch.
   */
  async pushTo(url: string, refspecs: string[] = ["HEAD"], env: NodeJS.ProcessEnv = {}, config: string[] = []): Promise<void> {
    const cfg = config.flatMap((c) => ["-c", c]);
    await this.git([...cfg, "push", "-q", url, ...refspecs], { env });
  }

  /** Remove the temp dir (the fixture holds no processes). */
  async close(): Promise<void> {
    this.killSync();
  }

  killSync(): void {
    if (this.closed) return;
    this.closed = true;
    untrackResource(this);
    removeDir(this.root);
  }

  private async hasCommits(): Promise<boolean> {
    return (await this.tryGit(["rev-parse", "--verify", "--quiet", "HEAD"])).code === 0;
  }

  private async maybePublish(): Promise<void> {
    if (this.autoPublish) await this.publish();
  }

  private async publishTo(bare: string): Promise<void> {
    await this.git(["push", "-q", "--force", bare, "refs/heads/*:refs/heads/*", "refs/tags/*:refs/tags/*"]);
  }

  private async deleteRemoteRef(ref: string): Promise<void> {
    if (!this.autoPublish) return;
    for (const bare of this.bareRepos) await this.git(["push", "-q", bare, `:${ref}`]);
  }
}
