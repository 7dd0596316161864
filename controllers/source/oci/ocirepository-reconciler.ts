// OCIRepository: resolve spec.ref to a manifest digest (a HEAD when it is a tag: an unchanged
// digest costs no pull), and when the digest or the build inputs changed pull the manifest,
// select a layer, unpack it (ignore rules as for GitRepository) or copy it, and store it as
// `<digest>.tar.gz` with revision `<tag>@sha256:<digest>` and the manifest's annotations as
// artifact metadata. Failures keep the last artifact.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ConditionType as CT, FieldManager, Reason } from "../../api/meta";
import { OCILayerOperation, OCIRepository, OCIRepositoryNames } from "../../api/source/v1/oci-repository";
import { ReconcileContext } from "../../runtime/controller";
import { parseDuration } from "../../runtime/duration";
import { deepEqual } from "../../runtime/json-merge";
import { ObjectKey } from "../../runtime/keys";
import { reconcileObject } from "../../runtime/reconcile-object";
import { Result } from "../../runtime/result";
import { selectFiles } from "../ignore";
import { Descriptor, Manifest, OciClient, OciError, OciRepositoryRef, OciUrlError, parseOciUrl } from "./oci-client";
import { SecretError, registryCredentials, tlsFromSecret } from "./oci-secrets";
import { SemverRangeError, latestMatching, validateRange } from "./oci-semver";
import { SourceFailure, SourceSuccess, markOutdated, reconcileSource } from "../source-result";
import { storeFile } from "./oci-store-file";
import { untar } from "./oci-untar";
import { Storage } from "../../runtime/artifact-storage";

export const ociRepositories = { group: OCIRepositoryNames.group, version: OCIRepositoryNames.version, plural: OCIRepositoryNames.plural, kind: OCIRepositoryNames.kind };

export interface OCIRepositoryDeps { storage: Storage }

type Ctx = ReconcileContext<OCIRepository>;
const FAILURES = [CT.FetchFailed, CT.StorageOperationFailed, CT.SourceVerified];

export function reconcileOCIRepository(deps: OCIRepositoryDeps) {
  return (key: ObjectKey, ctx: Ctx): Promise<Result> =>
    reconcileObject(key, ctx as never as ReconcileContext<OCIRepository & { status?: Record<string, unknown> }>, {
      fieldManager: FieldManager.Source,
      finalize: async (obj) => {
        deps.storage.removeAll(OCIRepositoryNames.kind, obj.metadata.namespace!, obj.metadata.name!);
        return Result.done();
      },
      reconcile: (obj) => reconcileSource(obj as OCIRepository, ctx, { storage: deps.storage, failureConditions: FAILURES },
        () => produceArtifact(obj as OCIRepository, ctx, deps)),
    });
}

const stalled = (reason: string, message: string) => new SourceFailure(CT.FetchFailed, reason, message, true);

/** Configuration that no retry can fix. */
function checkSpec(obj: OCIRepository): OciRepositoryRef {
  const spec = obj.spec;
  let repo: OciRepositoryRef;
  try { repo = parseOciUrl(spec.url); } catch (e) {
    if (e instanceof OciUrlError) throw stalled(Reason.URLInvalid, `URL validation failed for '${spec.url}': ${e.message}`);
    throw e;
  }
  if (spec.provider && spec.provider !== "generic") {
    throw stalled(Reason.InvalidProviderConfiguration, `provider '${spec.provider}' is not supported by this controller yet; use 'generic' with spec.secretRef or spec.serviceAccountName`);
  }
  if (spec.verify) {
    throw new SourceFailure(CT.SourceVerified, Reason.VerificationError, `signature verification (spec.verify, provider '${spec.verify.provider ?? "cosign"}') is not supported by this controller yet; remove spec.verify`, true);
  }
  if (spec.proxySecretRef) throw stalled(Reason.InvalidProviderConfiguration, "spec.proxySecretRef is not supported by this controller yet; remove it");
  const d = spec.ref?.digest;
  if (d && !/^sha256:[0-9a-f]{64}$/.test(d)) throw stalled(Reason.URLInvalid, `invalid spec.ref.digest '${d}': must be 'sha256:' followed by 64 hex digits`);
  if (!d && spec.ref?.semver) {
    try { validateRange(spec.ref.semver); } catch (e) {
      if (e instanceof SemverRangeError) throw stalled(Reason.ReadOperationFailed, `failed to determine the artifact tag for '${spec.url}': ${e.message}`);
      throw e;
    }
    if (spec.ref.semverFilter) {
      try { new RegExp(spec.ref.semverFilter); } catch { throw stalled(Reason.ReadOperationFailed, `invalid spec.ref.semverFilter '${spec.ref.semverFilter}': not a regular expression`); }
    }
  }
  return repo;
}

async function client(obj: OCIRepository, ctx: Ctx, repo: OciRepositoryRef): Promise<OciClient> {
  const spec = obj.spec;
  const ns = obj.metadata.namespace!;
  let credentials;
  try {
    credentials = await registryCredentials(ctx, ns, repo.registry, { secretName: spec.secretRef?.name, serviceAccountName: spec.serviceAccountName });
  } catch (e) {
    if (e instanceof SecretError) throw new SourceFailure(CT.FetchFailed, Reason.AuthenticationFailed, `failed to get credential: ${e.message}`);
    throw e;
  }
  let tls;
  try { tls = await tlsFromSecret(ctx, ns, spec.certSecretRef?.name); } catch (e) {
    if (e instanceof SecretError) throw new SourceFailure(CT.FetchFailed, Reason.AuthenticationFailed, `failed to generate transport for '${spec.url}': ${e.message}`);
    throw e;
  }
  return new OciClient(repo, { insecure: spec.insecure, tls, credentials, timeoutMs: parseDuration(spec.timeout ?? "60s"), signal: ctx.signal });
}

/** An OCI failure with Flux's reason; a plain-HTTP registry gets the hint about spec.insecure. */
function ociFailure(e: unknown, prefix: string, reason: string = Reason.OCIPullFailed): SourceFailure {
  if (!(e instanceof OciError)) return new SourceFailure(CT.FetchFailed, reason, `${prefix}: ${(e as Error).message}`, false, { cause: e });
  let msg = e.message;
  if (/does not speak HTTPS/.test(msg)) msg += "; set spec.insecure: true for a plain-HTTP registry";
  return new SourceFailure(CT.FetchFailed, e.kind === "auth" ? Reason.AuthenticationFailed : reason, `${prefix}: ${msg}`, false, { cause: e });
}

/** The revision spec.ref points at: `<tag>@sha256:<hex>`, or `sha256:<hex>` for a digest. */
async function resolveRevision(obj: OCIRepository, oci: OciClient): Promise<{ revision: string; digest: string; tag?: string }> {
  const ref = obj.spec.ref ?? {};
  if (ref.digest) return { revision: ref.digest, digest: ref.digest };
  let tag = ref.tag ?? "latest";
  if (ref.semver) {
    try {
      const filter = ref.semverFilter ? new RegExp(ref.semverFilter) : undefined;
      const tags = (await oci.tags()).filter((t) => !filter || filter.test(t));
      const best = latestMatching(tags, ref.semver, (t) => t);
      if (!best) throw new OciError(`no match found for semver: ${ref.semver}`, "notfound");
      tag = best;
    } catch (e) { throw ociFailure(e, `failed to determine the artifact tag for '${obj.spec.url}'`, Reason.ReadOperationFailed); }
  }
  try {
    const digest = await oci.resolveTag(tag);
    return { revision: `${tag}@${digest}`, digest, tag };
  } catch (e) { throw ociFailure(e, "failed to determine artifact digest"); }
}

function selectLayer(obj: OCIRepository, manifest: Manifest): Descriptor {
  const fail = (m: string) => new SourceFailure(CT.FetchFailed, Reason.OCILayerOperationFailed, m);
  if (manifest.manifests) throw fail(`the artifact at '${obj.spec.url}' is an image index (a multi-platform image), not a single-manifest OCI artifact such as 'flux push artifact' makes`);
  const layers = manifest.layers ?? [];
  if (layers.length === 0) throw fail("no layers found in artifact");
  const mt = obj.spec.layerSelector?.mediaType;
  if (!mt) return layers[0];
  const found = layers.find((l) => l.mediaType === mt);
  if (!found) throw fail(`failed to find layer with media type '${mt}' in artifact (it has: ${layers.map((l) => l.mediaType).join(", ")})`);
  return found;
}

async function produceArtifact(obj: OCIRepository, ctx: Ctx, deps: OCIRepositoryDeps): Promise<SourceSuccess> {
  const spec = obj.spec;
  const status = (obj.status ??= {});
  const repo = checkSpec(obj);
  const oci = await client(obj, ctx, repo);
  const { revision, digest, tag } = await resolveRevision(obj, oci);
  const upToDate = { reason: Reason.Succeeded, message: `stored artifact for digest '${revision}'` };
  if (status.artifact && deps.storage.exists(status.artifact) && status.artifact.revision === revision
    && (status.observedIgnore ?? undefined) === (spec.ignore ?? undefined)
    && deepEqual(status.observedLayerSelector ?? {}, spec.layerSelector ?? {})) {
    ctx.log.debug({ revision }, "artifact up-to-date with remote revision");
    return upToDate;
  }
  if (status.artifact?.revision !== revision) markOutdated(obj, Reason.NewRevision, `new revision '${revision}' for '${oci.reference}${tag ? `:${tag}` : `@${digest}`}'`);

  let manifest: Manifest;
  try { manifest = await oci.manifest(digest); } catch (e) { throw ociFailure(e, `failed to pull artifact from '${spec.url}'`); }
  const layer = selectLayer(obj, manifest);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-oci-"));
  try {
    const blob = path.join(work, "layer.tgz");
    try { await oci.blob(layer, blob); } catch (e) { throw ociFailure(e, `failed to pull artifact from '${spec.url}'`); }
    const ns = obj.metadata.namespace!;
    const name = obj.metadata.name!;
    const rel = deps.storage.artifactPath(OCIRepositoryNames.kind, ns, name, `${digest}.tar.gz`);
    let artifact;
    if ((spec.layerSelector?.operation ?? OCILayerOperation.Extract) === OCILayerOperation.Copy) {
      artifact = await storeFile(deps.storage, blob, rel, revision);
    } else {
      const dir = path.join(work, "content");
      try { await untar(blob, dir); } catch (e) {
        throw new SourceFailure(CT.FetchFailed, Reason.OCILayerOperationFailed, `failed to extract layer contents from artifact: ${(e as Error).message} (is layer ${layer.mediaType} a gzipped tarball? otherwise use layerSelector.operation: copy)`, false, { cause: e });
      }
      artifact = await deps.storage.archive(dir, selectFiles(dir, spec.ignore), rel, revision);
    }
    if (manifest.annotations && Object.keys(manifest.annotations).length) artifact.metadata = manifest.annotations;
    status.artifact = artifact;
    status.observedIgnore = spec.ignore;
    status.observedLayerSelector = spec.layerSelector;
    try { deps.storage.garbageCollect(OCIRepositoryNames.kind, ns, name, artifact.path); } catch (e) {
      ctx.log.warn({ err: e }, "garbage collection of old artifacts failed");
    }
    return { ...upToDate, event: { reason: "NewArtifact", message: newArtifactMessage(obj, revision, manifest.annotations) } };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function newArtifactMessage(obj: OCIRepository, revision: string, annotations: Record<string, string> | undefined): string {
  const msg = `stored artifact with revision '${revision}' from '${obj.spec.url}'`;
  const source = annotations?.["org.opencontainers.image.source"];
  const rev = annotations?.["org.opencontainers.image.revision"];
  return source && rev ? `${msg}, origin source '${source}', origin revision '${rev}'` : msg;
}
