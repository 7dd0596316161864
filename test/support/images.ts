// The controller images for tests: built once per run with the real `npm run images` script
// (scripts/images.sh) and pushed to a real registry (Debian's docker-registry on loopback), and
// a way to run a command inside an image's root filesystem as a pod would: user 65534, read-only
// root, tmpfs at /tmp (and /data), its own mount and pid namespaces (unshare + chroot, as root).
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { repoRoot, tool } from "../../cli/tools";
import type { AnyComponent } from "../../provider/args/install";
import { controllerDefs } from "../../provider/manifests/controllers";
import { CommandResult, makeTempDir, removeDir, runChecked, runCommand } from "./git-cli";
import { OciRegistry } from "./oci-registry";
import { onTeardown } from "./teardown";

/** Every image scripts/images.sh builds, by image name: the install's controller table is its list. */
export const CONTROLLERS = Object.keys(controllerDefs) as AnyComponent[];
export const PREFIX = "gitops-toolkit";

export interface BuiltImage { name: string; tag: string; digest: string; size: number }
export interface BuildResult { out: string; images: Record<string, BuiltImage>; seconds: number; log: string }

/** Runs scripts/images.sh into a fresh directory (removed at teardown). */
export async function buildImages(extraArgs: string[] = []): Promise<BuildResult> {
  const out = makeTempDir();
  onTeardown(() => removeDir(out));
  const t0 = Date.now();
  const r = await runCommand("bash", [path.join(repoRoot, "scripts", "images.sh"), ...extraArgs],
    { cwd: repoRoot, env: { ...process.env, GITOPS_IMAGES_OUT: out }, timeoutMs: 900_000 });
  if (r.code !== 0) throw new Error(`scripts/images.sh failed (${r.code}): ${r.stderr.slice(-3000)}`);
  const images: Record<string, BuiltImage> = {};
  for (const line of fs.readFileSync(path.join(out, "images.txt"), "utf8").trim().split("\n")) {
    const [ref, digest, size] = line.split(" ");
    const [name, tag] = ref.split(":");
    images[name] = { name, tag, digest, size: Number(size) };
  }
  return { out, images, seconds: (Date.now() - t0) / 1000, log: r.stderr };
}

let shared: Promise<{ registry: OciRegistry; build: BuildResult }> | undefined;
/** The run's images, built once and pushed with `--push <registry>/gitops-toolkit`. */
export function pushedImages(): Promise<{ registry: OciRegistry; build: BuildResult }> {
  shared ??= (async () => {
    const registry = await OciRegistry.start();
    const build = await buildImages(["--push", `${registry.host}/${PREFIX}`]);
    return { registry, build };
  })();
  return shared;
}

export const crane = (args: string[], timeoutMs = 120_000): Promise<string> => runChecked(tool("crane"), args, { timeoutMs });

export interface ImageConfig {
  architecture: string; os: string; created: string;
  config: { Entrypoint: string[]; Env: string[]; User: string; WorkingDir?: string; Labels: Record<string, string> };
  rootfs: { diff_ids: string[] };
}

/** The image's filesystem, pulled back from the registry with `crane export` and unpacked. */
export async function exportRootfs(ref: string): Promise<string> {
  const dir = makeTempDir();
  onTeardown(() => removeDir(dir));
  const tar = path.join(dir, "fs.tar");
  await crane(["export", ref, tar]);
  const root = path.join(dir, "root");
  fs.mkdirSync(root);
  await runChecked("tar", ["-xf", tar, "-C", root], { timeoutMs: 120_000 });
  fs.rmSync(tar);
  // what a container runtime provides: mount points for /dev and /proc
  for (const d of ["dev", "proc"]) fs.mkdirSync(path.join(root, d), { recursive: true });
  return root;
}

/**
 * Runs argv in the root filesystem as the pod would run it: new mount and pid namespaces, the root
 * bind-mounted read-only, tmpfs at /tmp (and /data when the image has it, owned by 65534 as an
 * emptyDir with fsGroup), /dev and /proc, user 65534, only the given environment. `hostDir` is
 * bind-mounted read-only at /tmp/host (a kubeconfig, as a pod gets its ServiceAccount files).
 * The network namespace is the host's, so loopback servers are reachable.
 */
function rootfsArgs(root: string, argv: string[], env: string[], hostDir?: string): string[] {
  const script = [
    'R=$1; H=$2; shift 2',
    'mount --bind "$R" "$R" && mount -o remount,bind,ro "$R"',
    'mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"',
    '[ ! -d "$R/data" ] || mount -t tmpfs -o mode=0770,uid=65534,gid=65534 tmpfs "$R/data"',
    '[ -z "$H" ] || { mkdir "$R/tmp/host" && mount --bind "$H" "$R/tmp/host" && mount -o remount,bind,ro "$R/tmp/host"; }',
    'mount --rbind /dev "$R/dev" && mount -t proc proc "$R/proc"',
    'exec env -i "$@"',
  ].join("\n");
  return ["--mount", "--pid", "--fork", "--kill-child", "sh", "-c", script, "sh", root, hostDir ?? "",
    ...env, "/usr/sbin/chroot", "--userspec=65534:65534", root, ...argv];
}

export function runInRootfs(root: string, argv: string[], env: string[], timeoutMs = 60_000): Promise<CommandResult> {
  return runCommand("unshare", rootfsArgs(root, argv, env), { timeoutMs });
}

/**
 * The same, as a long-running process in a process group of its own. Stop it with stopInRootfs:
 * unshare ignores SIGTERM and its --kill-child does not survive chroot's change of user, so the
 * signal goes to the whole group (tini passes it to node, as in a pod).
 */
export function spawnInRootfs(root: string, argv: string[], env: string[], hostDir?: string): ChildProcess {
  const child = spawn("unshare", rootfsArgs(root, argv, env, hostDir), { stdio: ["ignore", "pipe", "pipe"], detached: true });
  onTeardown(() => { try { process.kill(-child.pid!, "SIGKILL"); } catch { /* gone */ } });
  return child;
}

/** SIGTERM to the group, SIGKILL after graceMs; resolves with the exit code. */
export async function stopInRootfs(child: ChildProcess, graceMs = 15_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exit = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  try { process.kill(-child.pid!, "SIGTERM"); } catch { /* gone */ }
  const timer = setTimeout(() => { try { process.kill(-child.pid!, "SIGKILL"); } catch { /* gone */ } }, graceMs);
  try { return await exit; } finally { clearTimeout(timer); }
}
