// HelmRepository. `default`: fetch <url>/index.yaml with the repository's credentials, check it
// loads as a Helm index, and store the exact bytes as `index-<sha256>.yaml` with revision
// `sha256:<hex>`; an unchanged index stores nothing. `oci`: nothing to fetch (HelmCharts pull
// from the registry themselves), so the object is Ready without an artifact.
import { ConditionType as CT, FieldManager, Reason } from "../../api/meta";
import { HelmRepository, HelmRepositoryNames, HelmRepositoryType } from "../../api/source/v1/helm-repository";
import { ReconcileContext } from "../../runtime/controller";
import { ObjectKey } from "../../runtime/keys";
import { reconcileObject } from "../../runtime/reconcile-object";
import { Result } from "../../runtime/result";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { HelmFetchError, fetchIndex, helmGetter } from "./helm-getter";
import { IndexError, loadIndex } from "./helm-index";
import { SecretError } from "../oci/oci-secrets";
import { SourceFailure, SourceSuccess, markOutdated, reconcileSource } from "../source-result";
import { humanSize, storeFile } from "../oci/oci-store-file";
import { Storage } from "../../runtime/artifact-storage";

export const helmRepositories = { group: HelmRepositoryNames.group, version: HelmRepositoryNames.version, plural: HelmRepositoryNames.plural, kind: HelmRepositoryNames.kind };

export interface HelmRepositoryDeps { storage: Storage }

type Ctx = ReconcileContext<HelmRepository>;

export function reconcileHelmRepository(deps: HelmRepositoryDeps) {
  return (key: ObjectKey, ctx: Ctx): Promise<Result> =>
    reconcileObject(key, ctx as never as ReconcileContext<HelmRepository & { status?: Record<string, unknown> }>, {
      fieldManager: FieldManager.Source,
      finalize: async (obj) => {
        deps.storage.removeAll(HelmRepositoryNames.kind, obj.metadata.namespace!, obj.metadata.name!);
        return Result.done();
      },
      reconcile: (obj) => reconcileSource(obj as HelmRepository, ctx, { storage: deps.storage, failureConditions: [CT.FetchFailed, CT.StorageOperationFailed], defaultInterval: "1m" },
        () => produce(obj as HelmRepository, ctx, deps)),
    });
}

const stalled = (message: string) => new SourceFailure(CT.FetchFailed, Reason.URLInvalid, message, true);

async function produce(obj: HelmRepository, ctx: Ctx, deps: HelmRepositoryDeps): Promise<SourceSuccess> {
  const spec = obj.spec;
  const isOci = spec.type === HelmRepositoryType.OCI;
  if (isOci !== spec.url.startsWith("oci://")) {
    throw stalled(isOci ? `invalid Helm repository URL: a HelmRepository of type 'oci' needs an 'oci://' URL, got '${spec.url}'`
      : "invalid Helm repository URL: 'oci' URL scheme cannot be used with 'default' HelmRepository type; set spec.type: oci");
  }
  if (isOci) return ociRepository(obj, deps);
  let url: URL;
  try { url = new URL(spec.url); } catch { throw stalled(`invalid Helm repository URL: parse "${spec.url}": invalid URL`); }
  if (!url.host) throw stalled(`invalid Helm repository URL: '${spec.url}' has no host`);

  let getter;
  try { getter = await helmGetter(ctx, obj); } catch (e) {
    if (e instanceof SecretError) throw new SourceFailure(CT.FetchFailed, Reason.AuthenticationFailed, e.message);
    throw e;
  }
  let body: Buffer;
  try { body = await fetchIndex(getter, spec.url); } catch (e) {
    if (e instanceof HelmFetchError) throw new SourceFailure(CT.FetchFailed, Reason.Failed, `failed to fetch Helm repository index: ${e.message}`, false, { cause: e });
    throw e;
  }
  const hex = createHash("sha256").update(body).digest("hex");
  const revision = `sha256:${hex}`;
  const status = (obj.status ??= {});
  const ready = { reason: Reason.Succeeded, message: `stored artifact: revision '${revision}'` };
  if (status.artifact && status.artifact.revision === revision && deps.storage.exists(status.artifact)) {
    ctx.log.debug({ revision }, "artifact up-to-date with remote revision");
    return ready;
  }
  try { loadIndex(body); } catch (e) {
    if (e instanceof IndexError) throw new SourceFailure(CT.FetchFailed, Reason.IndexationFailed, `failed to load Helm repository from index YAML: ${e.message}`, false, { cause: e });
    throw e;
  }
  if (status.artifact?.revision !== revision) markOutdated(obj, Reason.NewRevision, `new index revision '${revision}'`);
  const ns = obj.metadata.namespace!;
  const name = obj.metadata.name!;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-helmrepo-"));
  try {
    const file = path.join(work, "index.yaml");
    fs.writeFileSync(file, body);
    status.artifact = await storeFile(deps.storage, file, deps.storage.artifactPath(HelmRepositoryNames.kind, ns, name, `index-${hex}.yaml`), revision);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  try { deps.storage.garbageCollect(HelmRepositoryNames.kind, ns, name, status.artifact.path); } catch (e) {
    ctx.log.warn({ err: e }, "garbage collection of old artifacts failed");
  }
  return { ...ready, event: { reason: "NewArtifact", message: `fetched index of size ${humanSize(body.length)} from '${spec.url}'` } };
}

/** An OCI HelmRepository only carries the registry address and credentials for HelmCharts. */
function ociRepository(obj: HelmRepository, deps: HelmRepositoryDeps): SourceSuccess {
  if (obj.status?.artifact) {
    deps.storage.removeAll(HelmRepositoryNames.kind, obj.metadata.namespace!, obj.metadata.name!);
    delete obj.status.artifact;
  }
  return { reason: Reason.Succeeded, message: "Helm repository is ready", requeue: false };
}
