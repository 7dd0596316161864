// The helm CLI flags of a HelmRelease's install, upgrade, rollback and uninstall options, as
// Flux's helm-controller sets the same switches on helm's actions. Takes ownership of existing
// objects unless disableTakeOwnership, and waits for Jobs unless disableWaitForJobs (Flux's
// defaults). What the helm v3 CLI cannot express is listed in controllers/api/unsupported-fields.ts.
import type { HelmRelease } from "../api/helm/v2/helm-release";

type Opts = { disableHooks?: boolean; disableOpenAPIValidation?: boolean; disableSchemaValidation?: boolean; disableTakeOwnership?: boolean;
  disableWait?: boolean; disableWaitForJobs?: boolean; force?: boolean; cleanupOnFail?: boolean; crds?: string; skipCRDs?: boolean; recreate?: boolean };

function common(o: Opts): string[] {
  const f: string[] = [];
  if (o.disableHooks) f.push("--no-hooks");
  if (!o.disableWait && !o.disableWaitForJobs) f.push("--wait-for-jobs");
  return f;
}

/** Flags for `helm upgrade --install` running the install (`isInstall`) or the upgrade of spec. */
export function releaseFlags(hr: HelmRelease, isInstall: boolean): string[] {
  const o = ((isInstall ? hr.spec.install : hr.spec.upgrade) ?? {}) as Opts & { preserveValues?: boolean };
  const f = common(o);
  if (o.disableOpenAPIValidation) f.push("--disable-openapi-validation");
  if (o.disableSchemaValidation) f.push("--skip-schema-validation");
  if (!o.disableTakeOwnership) f.push("--take-ownership");
  if (isInstall && (o.skipCRDs || o.crds === "Skip")) f.push("--skip-crds");
  if (!isInstall) {
    if (o.force) f.push("--force");
    if (o.cleanupOnFail) f.push("--cleanup-on-fail");
  }
  return f;
}

/** upgrade.preserveValues: the last release's values, with the HelmRelease's merged over them. */
export const preserveValues = (hr: HelmRelease, isInstall: boolean): boolean => !isInstall && hr.spec.upgrade?.preserveValues === true;

export function rollbackFlags(hr: HelmRelease): string[] {
  const o = (hr.spec.rollback ?? {}) as Opts;
  const f = common(o);
  if (o.force) f.push("--force");
  if (o.recreate) f.push("--recreate-pods");
  if (o.cleanupOnFail) f.push("--cleanup-on-fail");
  return f;
}

export function uninstallFlags(hr: HelmRelease): string[] {
  const o = (hr.spec.uninstall ?? {}) as Opts & { deletionPropagation?: string };
  const f: string[] = [];
  if (o.disableHooks) f.push("--no-hooks");
  f.push(`--cascade=${o.deletionPropagation === "orphan" ? "orphan" : o.deletionPropagation === "foreground" ? "foreground" : "background"}`);
  return f;
}
