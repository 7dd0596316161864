// The controller images for tests: built once per run with the real `npm run images` script
// (scripts/images.sh) and pushed to a real registry (Debian's docker-registry on loopback), and
// a way to run a command inside an image's root filesystem as a pod would: user 65534, read-only
// root, tmpfs at /tmp (and /data), its own mount and pid namespaces (unshare + chroot, as root).
import * as fs from "node:fs";
import * as path from "node:path";
import { repoRoot, tool } from "../../cli/tools";
import { CommandResult, makeTempDir, removeDir, runChecked, runCommand } from "./git-cli";
import { OciRegistry } from "./oci-registry";
import { onTeardown } from "./teardown";

export const CONTROLLERS = ["source", "kustomize", "helm", "notification"] as const;
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
 * emptyDir with fsGroup), /dev and /proc, user 65534, only the given environment.
 */
export function runInRootfs(root: string, argv: string[], env: string[], timeoutMs = 60_000): Promise<CommandResult> {
  const script = [
    'R=$1; shift',
    'mount --bind "$R" "$R" && mount -o remount,bind,ro "$R"',
    'mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"',
    '[ ! -d "$R/data" ] || mount -t tmpfs -o mode=0770,uid=65534,gid=65534 tmpfs "$R/data"',
    'mount --rbind /dev "$R/dev" && mount -t proc proc "$R/proc"',
    'exec env -i "$@"',
  ].join("\n");
  return runCommand("unshare", ["--mount", "--pid", "--fork", "--kill-child", "sh", "-c", script, "sh", root,
    ...env, "/usr/sbin/chroot", "--userspec=65534:65534", root, ...argv], { timeoutMs });
}
