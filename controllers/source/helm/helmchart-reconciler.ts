// HelmChart: get the source (HelmRepository, GitRepository or Bucket) and its artifact from this
// controller's storage, build the chart (helmchart-remote.ts, helmchart-local.ts), and store it
// as `<name>-<version>.tgz` with the chart version as revision. Build errors carry Flux's
// reasons: invalid references and values files stall; pulls and packaging are retried.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ConditionType as CT, FieldManager, Reason } from "../../api/meta";
import { BucketNames } from "../../api/source/v1/bucket";
import { GitRepositoryNames } from "../../api/source/v1/git-repository";
import { HelmChart, HelmChartNames } from "../../api/source/v1/helm-chart";
import { HelmRepository, HelmRepositoryNames, HelmRepositoryType } from "../../api/source/v1/helm-repository";
import { Artifact } from "../../api/meta";
import { ReconcileContext } from "../../runtime/controller";
import { KubeObject, ObjectKey } from "../../runtime/keys";
import { reconcileObject } from "../../runtime/reconcile-object";
import { Result } from "../../runtime/result";
import { ChartBuildError } from "./helm-chart-build";
import { BuildContext, ChartBuild, summary } from "./helmchart-build-context";
import { buildFromSourceArtifact } from "./helmchart-local";
import { buildFromRepository } from "./helmchart-remote";
import { SourceFailure, SourceSuccess, markOutdated, reconcileSource } from "../source-result";
import { storeFile } from "../oci/oci-store-file";
import { Storage } from "../../runtime/artifact-storage";

const ref = (n: { group: string; version: string; plural: string; kind: string }) => ({ group: n.group, version: n.version, plural: n.plural, kind: n.kind });
export const helmCharts = ref(HelmChartNames);
/** The kinds a HelmChart can take its chart from. */
export const chartSources: Record<string, ReturnType<typeof ref>> = {
  [HelmRepositoryNames.kind]: ref(HelmRepositoryNames),
  [GitRepositoryNames.kind]: ref(GitRepositoryNames),
  [BucketNames.kind]: ref(BucketNames),
};

export interface HelmChartDeps { storage: Storage }

type Ctx = ReconcileContext<HelmChart>;
type SourceObject = KubeObject & { spec?: { type?: string }; status?: { artifact?: Artifact } };

export function reconcileHelmChart(deps: HelmChartDeps) {
  return (key: ObjectKey, ctx: Ctx): Promise<Result> =>
    reconcileObject(key, ctx as never as ReconcileContext<HelmChart & { status?: Record<string, unknown> }>, {
      fieldManager: FieldManager.Source,
      finalize: async (obj) => {
        deps.storage.removeAll(HelmChartNames.kind, obj.metadata.namespace!, obj.metadata.name!);
        return Result.done();
      },
      reconcile: (obj) => reconcileSource(obj as HelmChart, ctx, { storage: deps.storage, failureConditions: [CT.FetchFailed, CT.BuildFailed, CT.StorageOperationFailed] },
        () => produce(obj as HelmChart, ctx, deps)),
    });
}

async function getSource(obj: HelmChart, ctx: Ctx, storage: Storage): Promise<SourceObject> {
  const { kind, name } = obj.spec.sourceRef;
  const res = chartSources[kind];
  if (!res) throw new SourceFailure(CT.FetchFailed, "UnsupportedSourceKind", `failed to get source: unsupported source kind '${kind}', must be one of: ${Object.keys(chartSources).join(", ")}`, true);
  const src = await ctx.client.get<SourceObject>(res, { namespace: obj.metadata.namespace!, name }, { signal: ctx.signal });
  if (!src) throw new SourceFailure(CT.FetchFailed, "SourceUnavailable", `failed to get source: ${res.plural}.${res.group} "${name}" not found`);
  const isOciRepo = kind === HelmRepositoryNames.kind && src.spec?.type === HelmRepositoryType.OCI;
  if (!isOciRepo && (!src.status?.artifact || !storage.exists(src.status.artifact))) {
    throw new SourceFailure(CT.FetchFailed, Reason.NoSourceArtifact, `no artifact available for ${kind} source '${name}'`);
  }
  return src;
}

async function produce(obj: HelmChart, ctx: Ctx, deps: HelmChartDeps): Promise<SourceSuccess> {
  const status = (obj.status ??= {});
  const source = await getSource(obj, ctx, deps.storage);
  const srcArtifact = source.status?.artifact;
  if (srcArtifact) status.observedSourceArtifactRevision = srcArtifact.revision;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-helmchart-"));
  try {
    const b: BuildContext = { obj, ctx, storage: deps.storage, work };
    let build: ChartBuild;
    try {
      build = obj.spec.sourceRef.kind === HelmRepositoryNames.kind
        ? await buildFromRepository(b, source as HelmRepository)
        : await buildFromSourceArtifact(b, { kind: obj.spec.sourceRef.kind, namespace: obj.metadata.namespace!, name: obj.spec.sourceRef.name, path: srcArtifact!.path, revision: srcArtifact!.revision });
    } catch (e) {
      if (e instanceof ChartBuildError) throw new SourceFailure(e.why.build ? CT.BuildFailed : CT.FetchFailed, e.why.reason, e.message, e.why.persistent, { cause: e });
      throw e;
    }
    const message = summary(build);
    const reason = build.packaged ? Reason.ChartPackageSucceeded : Reason.ChartPullSucceeded;
    status.observedChartName = build.name;
    status.observedValuesFiles = obj.spec.ignoreMissingValuesFiles ? build.valuesFiles : undefined;
    if (!build.file) return { reason, message };
    if (status.artifact?.revision !== build.version) markOutdated(obj, Reason.NewChart, message);
    const ns = obj.metadata.namespace!;
    const name = obj.metadata.name!;
    status.artifact = await storeFile(deps.storage, build.file, deps.storage.artifactPath(HelmChartNames.kind, ns, name, `${build.name}-${build.version}.tgz`), build.version);
    try { deps.storage.garbageCollect(HelmChartNames.kind, ns, name, status.artifact.path); } catch (e) {
      ctx.log.warn({ err: e }, "garbage collection of old artifacts failed");
    }
    return { reason, message, event: { reason, message } };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
