/**
 * Everything a bootstrap will do, computed from its inputs without I/O: the checks a user can
 * fail (with the input's name), the files for git, the objects for the cluster and the
 * credentials Secret. Used by check (preview) and by create/update.
 */
import { bootstrapOptions, type BootstrapOptions } from "../args/bootstrap";
import { renderInstall, type RenderedInstall } from "../manifests/install";
import { applyInstallPatches } from "../manifests/json-patch";
import { parseYamlDocuments, type KubeManifest } from "../manifests/objects";
import { InvalidInputError } from "../manifests/options";
import { ComponentsFile, KustomizationFile, normalisePath, patchesFromKustomization, renderBootstrapFiles, SyncFile, type SyncOptions } from "../manifests/sync";
import { parseDuration } from "../cluster/time";
import { validate, type Failure } from "../schema/validate";

export interface BootstrapInputs extends BootstrapOptions {
  /** Computed by check: repository path → content. */
  files?: Record<string, string>;
}

export interface BootstrapPlan {
  namespace: string;
  branch: string;
  dir: string;
  files: Record<string, string>;
  sync: SyncOptions;
  rendered: RenderedInstall;
  timeoutMs: number;
}

/** Schema and semantic checks; an empty list means the plan can be made. */
export function checkBootstrap(i: BootstrapInputs): Failure[] {
  const clean = Object.fromEntries(Object.entries(i).filter(([k]) => k !== "files" && !k.startsWith("__")));
  const failures = validate(clean, bootstrapOptions, "");
  if (failures.length > 0) return failures;
  const url = i.url ?? "";
  const isSsh = url.startsWith("ssh://");
  const isHttp = url.startsWith("http://");
  if (isSsh && i.http) failures.push({ property: "http", reason: "an ssh:// url takes ssh credentials, not http; remove http or use an https:// url" });
  if (!isSsh && i.ssh) failures.push({ property: "ssh", reason: `a ${url.split(":")[0]}:// url takes http credentials, not ssh; remove ssh or use an ssh:// url` });
  if (isHttp && !i.http?.allowInsecureHttp) {
    failures.push({ property: "http.allowInsecureHttp", reason: "the url uses plain http://, which sends the credentials and manifests unencrypted; use https://, or set http.allowInsecureHttp: true to accept that" });
  }
  if (isSsh && !i.ssh?.privateKey) {
    failures.push({ property: "ssh.privateKey", reason: i.ssh?.generateKey
      ? "ssh.generateKey is handled by the Bootstrap component (it creates an SshKeyPair); give BootstrapGit the key itself"
      : "an ssh:// url needs a private key: set ssh.privateKey (e.g. an SshKeyPair's privateKey), or ssh.generateKey on the Bootstrap component" });
  }
  if (i.http?.bearerToken && (i.http.username || i.http.password)) {
    failures.push({ property: "http.bearerToken", reason: "use either bearerToken or username/password, not both" });
  }
  if (i.registryCredentials && !i.imagePullSecret) {
    failures.push({ property: "imagePullSecret", reason: "registryCredentials needs imagePullSecret: the name of the Secret to create" });
  }
  try {
    normalisePath(i.path);
  } catch (e) {
    failures.push({ property: "path", reason: (e as Error).message });
  }
  if (i.timeout) {
    try {
      parseDuration(i.timeout, "timeout");
    } catch (e) {
      failures.push({ property: "timeout", reason: (e as Error).message });
    }
  }
  try {
    renderInstall(i, true);
  } catch (e) {
    if (e instanceof InvalidInputError) failures.push({ property: e.field, reason: e.reason });
    else failures.push({ property: "customisation", reason: (e as Error).message });
  }
  return failures;
}

/** Whether the inputs carry credentials for a Secret (else the GitRepository has no secretRef). */
export function hasCredentials(i: BootstrapOptions): boolean {
  const h = i.http;
  return !!(i.ssh || h?.username || h?.password || h?.bearerToken || h?.certificateAuthority);
}

export function planBootstrap(i: BootstrapInputs): BootstrapPlan {
  const rendered = renderInstall(i, true);
  // No credentials: no Secret, and no secretRef (a public repository).
  const secretName = i.disableSecretCreation || hasCredentials(i) ? i.secretName ?? rendered.options.namespace : "";
  const out = renderBootstrapFiles({ ...i, secretName }, rendered);
  return {
    namespace: rendered.options.namespace,
    branch: i.branch ?? "main",
    dir: out.dir,
    files: out.files,
    sync: out.sync,
    rendered,
    timeoutMs: parseDuration(i.timeout ?? "5m", "timeout"),
  };
}

/**
 * What the cluster gets, read back from the files as git holds them: gotk-components.yaml with
 * kustomization.yaml's patches applied, then gotk-sync.yaml. So the provider applies exactly
 * what Flux will reconcile from the same commit.
 */
export function objectsFromFiles(files: Record<string, string>, dir: string): { install: KubeManifest[]; sync: KubeManifest[] } {
  const components = files[`${dir}/${ComponentsFile}`];
  const syncText = files[`${dir}/${SyncFile}`];
  if (components === undefined || syncText === undefined) throw new Error(`the files for ${dir} are incomplete`);
  const patches = files[`${dir}/${KustomizationFile}`] ? patchesFromKustomization(files[`${dir}/${KustomizationFile}`]!) : [];
  const install = applyInstallPatches(parseYamlDocuments(components, ComponentsFile), patches);
  return { install, sync: parseYamlDocuments(syncText, SyncFile) };
}

/** The sync objects another bootstrap wrote at the same place, described for a message. */
export function describeSync(text: string): string {
  try {
    const docs = parseYamlDocuments(text, SyncFile);
    const repo = docs.find((d) => d.kind === "GitRepository") as (KubeManifest & { spec?: { url?: string; ref?: { branch?: string } } }) | undefined;
    const ks = docs.find((d) => d.kind === "Kustomization") as (KubeManifest & { spec?: { path?: string } }) | undefined;
    return `GitRepository url ${repo?.spec?.url ?? "?"} branch ${repo?.spec?.ref?.branch ?? "?"}, Kustomization path ${ks?.spec?.path ?? "?"}`;
  } catch {
    return "unparseable content";
  }
}

