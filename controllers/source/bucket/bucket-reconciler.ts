// Bucket: list the objects of an S3-compatible bucket (ListObjectsV2 under spec.prefix), leave
// out what Flux's default exclusions, the bucket's root `.sourceignore` and spec.ignore exclude,
// and take the sha256 of the index (`<key> <etag>\n` per key, sorted) as revision
// `sha256:<hex>`. An unchanged index costs the listing only (no object is downloaded, nothing
// stored); otherwise every selected object is fetched, checked against its listed ETag and
// archived as `bucket/<ns>/<name>/<hex>.tar.gz`. Failures keep the last artifact.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ConditionType as CT, FieldManager, Reason } from "../../api/meta";
import { Bucket, BucketNames, BucketProvider } from "../../api/source/v1/bucket";
import { ReconcileContext } from "../../runtime/controller";
import { parseDuration } from "../../runtime/duration";
import { ObjectKey } from "../../runtime/keys";
import { reconcileObject } from "../../runtime/reconcile-object";
import { Result } from "../../runtime/result";
import { filterFiles } from "../ignore";
import { SecretError, secretData, tlsFromSecret } from "../oci/oci-secrets";
import { SourceFailure, SourceSuccess, markOutdated, reconcileSource } from "../source-result";
import { Storage } from "../../runtime/artifact-storage";
import { EndpointError, S3Client, S3Error, S3Object, endpointUrl } from "./s3-client";
import { AwsCredentials, sha256Hex } from "./sigv4";

export const buckets = { group: BucketNames.group, version: BucketNames.version, plural: BucketNames.plural, kind: BucketNames.kind };

export interface BucketDeps { storage: Storage; /** Parallel object downloads (Flux: 20). */ fetchConcurrency?: number }

type Ctx = ReconcileContext<Bucket>;
const FAILURES = [CT.FetchFailed, CT.StorageOperationFailed];
const SOURCEIGNORE = ".sourceignore";

export function reconcileBucket(deps: BucketDeps) {
  return (key: ObjectKey, ctx: Ctx): Promise<Result> =>
    reconcileObject(key, ctx as never as ReconcileContext<Bucket & { status?: Record<string, unknown> }>, {
      fieldManager: FieldManager.Source,
      finalize: async (obj) => {
        deps.storage.removeAll(BucketNames.kind, obj.metadata.namespace!, obj.metadata.name!);
        return Result.done();
      },
      reconcile: (obj) => reconcileSource(obj as Bucket, ctx, { storage: deps.storage, failureConditions: FAILURES },
        () => produceArtifact(obj as Bucket, ctx, deps)),
    });
}

const stalled = (reason: string, message: string) => new SourceFailure(CT.FetchFailed, reason, message, true);
const bucketFailure = (message: string, cause?: unknown) => new SourceFailure(CT.FetchFailed, Reason.BucketOperationFailed, message, false, { cause });

/** Configuration no retry can fix: unsupported providers and features, a malformed endpoint. */
function checkSpec(obj: Bucket): void {
  const spec = obj.spec;
  const provider = spec.provider ?? BucketProvider.Generic;
  if (provider === BucketProvider.GCP || provider === BucketProvider.Azure) {
    throw stalled(Reason.InvalidProviderConfiguration, `provider '${provider}' is not supported by this controller yet; use an S3-compatible endpoint with provider 'generic' (or 'aws') and static keys in spec.secretRef`);
  }
  if (spec.sts) throw stalled(Reason.InvalidSTSConfiguration, `spec.sts (provider '${spec.sts.provider}') is not supported by this controller yet; remove it and put static keys ('accesskey', 'secretkey') in the Secret of spec.secretRef`);
  if (spec.proxySecretRef) throw stalled(Reason.InvalidProviderConfiguration, "spec.proxySecretRef is not supported by this controller yet; remove it");
  if (spec.serviceAccountName) throw stalled(Reason.InvalidProviderConfiguration, `spec.serviceAccountName (workload identity for provider '${provider}') is not supported by this controller yet; use static keys in spec.secretRef`);
  if (provider === BucketProvider.AWS && !spec.secretRef) {
    throw stalled(Reason.InvalidProviderConfiguration, "provider 'aws' without spec.secretRef needs AWS workload credentials (EC2 instance role, IRSA), which this controller does not support yet; put 'accesskey' and 'secretkey' in a Secret named by spec.secretRef");
  }
  if (provider !== BucketProvider.Generic && spec.certSecretRef) {
    throw stalled(Reason.InvalidProviderConfiguration, `spec.certSecretRef is only supported for the 'generic' provider, not '${provider}'`);
  }
  try { endpointUrl(spec.endpoint, spec.insecure); } catch (e) {
    if (e instanceof EndpointError) throw stalled(Reason.URLInvalid, e.message);
    throw e;
  }
  try { parseDuration(spec.timeout ?? "60s"); } catch (e) { throw stalled(Reason.InvalidProviderConfiguration, `invalid spec.timeout: ${(e as Error).message}`); }
}

async function credentials(obj: Bucket, ctx: Ctx): Promise<AwsCredentials | undefined> {
  const ref = obj.spec.secretRef?.name;
  if (!ref) return undefined;
  const ns = obj.metadata.namespace!;
  let data: Record<string, string>;
  try { data = await secretData(ctx, ns, ref); } catch (e) {
    if (e instanceof SecretError) throw new SourceFailure(CT.FetchFailed, Reason.AuthenticationFailed, e.message);
    throw e;
  }
  if (!data.accesskey || !data.secretkey) {
    throw new SourceFailure(CT.FetchFailed, Reason.AuthenticationFailed, `invalid '${ns}/${ref}' secret data: required fields 'accesskey' and 'secretkey'`);
  }
  return { accessKeyId: data.accesskey.trim(), secretAccessKey: data.secretkey.trim() };
}

async function client(obj: Bucket, ctx: Ctx): Promise<S3Client> {
  const spec = obj.spec;
  const ns = obj.metadata.namespace!;
  const creds = await credentials(obj, ctx);
  let tls;
  try { tls = await tlsFromSecret(ctx, ns, spec.certSecretRef?.name); } catch (e) {
    if (e instanceof SecretError) throw new SourceFailure(CT.FetchFailed, Reason.AuthenticationFailed, `failed to get TLS configuration: ${e.message}`);
    throw e;
  }
  return new S3Client({ endpoint: spec.endpoint, insecure: spec.insecure, bucket: spec.bucketName, region: spec.region, credentials: creds, tls,
    timeoutMs: parseDuration(spec.timeout ?? "60s"), signal: ctx.signal });
}

/** An S3 failure as Flux reports it, with what to fix. */
function s3Failure(e: unknown, obj: Bucket, action: string): SourceFailure {
  if (!(e instanceof S3Error)) return bucketFailure(`${action}: ${(e as Error).message}`, e);
  if (e.kind === "no-bucket") return bucketFailure(`${e.message} at endpoint '${obj.spec.endpoint}' (check spec.bucketName and spec.endpoint)`, e);
  if (e.kind === "auth") {
    const hint = obj.spec.secretRef
      ? `check 'accesskey' and 'secretkey' in Secret '${obj.metadata.namespace}/${obj.spec.secretRef.name}'${e.code === "AuthorizationHeaderMalformed" ? " and spec.region" : ""}`
      : "the bucket is not public: reference a Secret with 'accesskey' and 'secretkey' in spec.secretRef";
    return bucketFailure(`${action}: ${e.message} (${hint})`, e);
  }
  return bucketFailure(`${action}: ${e.message}`, e);
}

/** Root `.sourceignore` contents by endpoint, bucket and ETag: an unchanged one is not fetched again. */
const ignoreCache = new Map<string, string>();
async function rootSourceIgnore(s3: S3Client, listed: S3Object[], prefix: string): Promise<string> {
  let etag = listed.find((o) => o.key === SOURCEIGNORE)?.etag;
  if (etag === undefined && !SOURCEIGNORE.startsWith(prefix)) etag = (await s3.headObject(SOURCEIGNORE))?.etag;
  if (etag === undefined) return "";
  const cacheKey = `${s3.base.origin}/${s3.opts.bucket}@${etag}`;
  const cached = ignoreCache.get(cacheKey);
  if (cached !== undefined) return cached;
  const text = await s3.getText(SOURCEIGNORE);
  if (ignoreCache.size >= 500) ignoreCache.delete(ignoreCache.keys().next().value!);
  ignoreCache.set(cacheKey, text);
  return text;
}

/** Keys that cannot be files in an archive (directory markers, absolute, `..`). */
const unsafeKey = (k: string) => !k || k.endsWith("/") || k.startsWith("/") || k.split("/").some((s) => s === "" || s === "." || s === "..");

/** Flux's index digest: sha256 over `<key> <etag>\n` for every key in byte order. */
export function indexRevision(index: Map<string, string>): string {
  const keys = [...index.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return `sha256:${sha256Hex(keys.map((k) => `${k} ${index.get(k)}\n`).join(""))}`;
}

/** The objects that belong in the artifact, keyed by object key with their ETags. */
async function buildIndex(obj: Bucket, ctx: Ctx, s3: S3Client): Promise<Map<string, string>> {
  const prefix = obj.spec.prefix ?? "";
  let listed: S3Object[];
  try { listed = await s3.listObjects(prefix); } catch (e) {
    throw s3Failure(e, obj, `indexation of objects from provider '${obj.spec.provider ?? "generic"}' failed`);
  }
  let ignoreText: string;
  try { ignoreText = await rootSourceIgnore(s3, listed, prefix); } catch (e) { throw s3Failure(e, obj, `failed to get '${SOURCEIGNORE}' file`); }
  const candidates = listed.filter((o) => o.key !== SOURCEIGNORE);
  const unsafe = candidates.filter((o) => unsafeKey(o.key)).map((o) => o.key);
  if (unsafe.length) ctx.log.debug({ keys: unsafe.slice(0, 10) }, "skipping object keys that are not file paths");
  const etags = new Map(candidates.filter((o) => !unsafeKey(o.key)).map((o) => [o.key, o.etag]));
  // Only the root .sourceignore has rules (as in Flux); others are plain objects.
  const keys = ignoreText ? [...etags.keys(), SOURCEIGNORE] : [...etags.keys()];
  const selected = filterFiles(keys, (f) => (f === SOURCEIGNORE ? ignoreText : ""), obj.spec.ignore).filter((k) => k !== SOURCEIGNORE);
  return new Map(selected.map((k) => [k, etags.get(k)!]));
}

/** Downloads the indexed objects into `dir`, a few at a time, each checked against its listed ETag. */
async function fetchObjects(obj: Bucket, s3: S3Client, index: Map<string, string>, dir: string, concurrency: number): Promise<void> {
  const queue = [...index.entries()];
  let failed = false;
  const worker = async () => {
    for (let item = queue.shift(); item && !failed; item = queue.shift()) {
      const [key, etag] = item;
      const dest = path.join(dir, key);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      let got;
      try { got = await s3.getObject(key, dest); } catch (e) { failed = true; throw s3Failure(e, obj, `failed to fetch objects from bucket '${obj.spec.bucketName}'`); }
      if (got.etag && etag && got.etag !== etag) {
        failed = true;
        throw bucketFailure(`object '${key}' changed while it was fetched (listed ETag '${etag}', fetched '${got.etag}'); retrying`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, queue.length)) }, worker));
}

async function produceArtifact(obj: Bucket, ctx: Ctx, deps: BucketDeps): Promise<SourceSuccess> {
  const spec = obj.spec;
  const status = (obj.status ??= {});
  checkSpec(obj);
  const s3 = await client(obj, ctx);
  const index = await buildIndex(obj, ctx, s3);
  const revision = indexRevision(index);
  const done = { reason: Reason.Succeeded, message: `stored artifact for revision '${revision}'` };
  if (status.artifact && deps.storage.exists(status.artifact) && status.artifact.revision === revision) {
    ctx.log.debug({ revision }, "artifact up-to-date with remote revision");
    status.observedIgnore = spec.ignore;
    return done;
  }
  if (status.artifact?.revision !== revision) markOutdated(obj, Reason.NewRevision, `new upstream revision '${revision}'`);

  const work = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-bucket-"));
  try {
    await fetchObjects(obj, s3, index, work, deps.fetchConcurrency ?? 8);
    const ns = obj.metadata.namespace!;
    const name = obj.metadata.name!;
    const rel = deps.storage.artifactPath(BucketNames.kind, ns, name, `${revision.slice("sha256:".length)}.tar.gz`);
    const artifact = await deps.storage.archive(work, [...index.keys()].sort(), rel, revision);
    status.artifact = artifact;
    status.observedIgnore = spec.ignore;
    try { deps.storage.garbageCollect(BucketNames.kind, ns, name, artifact.path); } catch (e) {
      ctx.log.warn({ err: e }, "garbage collection of old artifacts failed");
    }
    return { ...done, event: { reason: "NewArtifact", message: `stored artifact with ${index.size} fetched files from '${spec.bucketName}' bucket` } };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
