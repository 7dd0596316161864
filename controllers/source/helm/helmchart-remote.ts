// HelmChart from a HelmRepository. `default` type: pick the version from the index stored as the
// repository's artifact and download the archive with the repository's credentials. `oci` type:
// list the chart's tags in the registry (`_` stands for `+`), resolve and pull the chart layer.
// Then, with spec.valuesFiles, merge them into values.yaml and repackage as `<version>+<generation>`.
import * as fs from "node:fs";
import * as path from "node:path";
import { HelmRepository, HelmRepositoryType } from "../../api/source/v1/helm-repository";
import { parseDuration } from "../../runtime/duration";
import { BuildReason, ChartBuildError, chartRoot, mergeValuesFiles, packageChart, readChartMetadata, withBuildMetadata, writeValues } from "./helm-chart-build";
import { HelmFetchError, downloadChart, helmGetter } from "./helm-getter";
import { ChartReferenceError, chartUrl, chartVersion, loadIndex } from "./helm-index";
import { MediaType, OciClient, parseOciUrl } from "../oci/oci-client";
import { SecretError, registryCredentials, tlsFromSecret } from "../oci/oci-secrets";
import { latestMatching } from "../oci/oci-semver";
import { untar } from "../oci/oci-untar";
import { BuildContext, ChartBuild, isCached, valuesMetadata } from "./helmchart-build-context";

const pullError = (e: unknown) => new ChartBuildError(BuildReason.ChartPull, (e as Error).message, { cause: e });
const refError = (m: string, e?: unknown) => new ChartBuildError(BuildReason.ChartReference, `failed to get chart version for remote reference: ${m}`, { cause: e });

export async function buildFromRepository(b: BuildContext, repo: HelmRepository): Promise<ChartBuild> {
  return repo.spec.type === HelmRepositoryType.OCI ? buildFromOci(b, repo) : buildFromIndex(b, repo);
}

async function buildFromIndex(b: BuildContext, repo: HelmRepository): Promise<ChartBuild> {
  const spec = b.obj.spec;
  const index = loadIndex(fs.readFileSync(b.storage.absolute(repo.status!.artifact!.path)));
  let cv;
  try { cv = chartVersion(index, spec.chart, spec.version); } catch (e) {
    if (e instanceof ChartReferenceError) throw refError(e.message, e);
    throw e;
  }
  const version = versionFor(b, cv.version);
  if (isCached(b, cv.name, version)) return { name: cv.name, version, packaged: !!spec.valuesFiles?.length, valuesFiles: spec.valuesFiles ?? [] };
  let getter;
  try { getter = await helmGetter(b.ctx, repo); } catch (e) {
    if (e instanceof SecretError) throw new ChartBuildError(BuildReason.ChartPull, `failed to authenticate with the Helm repository: ${e.message}`);
    throw e;
  }
  let url;
  try { url = chartUrl(repo.spec.url, cv); } catch (e) { throw refError((e as Error).message, e); }
  const file = path.join(b.work, "pulled.tgz");
  let digest;
  try { digest = await downloadChart(getter, url, file); } catch (e) {
    if (e instanceof HelmFetchError) throw new ChartBuildError(BuildReason.ChartPull, `failed to download chart for remote reference: ${e.message}`, { cause: e });
    throw pullError(e);
  }
  if (cv.digest && `sha256:${cv.digest}` !== digest) {
    throw new ChartBuildError(BuildReason.ChartPull, `chart ${url} does not match the digest in the index (index: sha256:${cv.digest}, downloaded: ${digest}); re-index the repository`);
  }
  return finish(b, file, cv.version, version);
}

async function buildFromOci(b: BuildContext, repo: HelmRepository): Promise<ChartBuild> {
  const spec = b.obj.spec;
  const ns = repo.metadata.namespace!;
  let ref;
  try { ref = parseOciUrl(`${repo.spec.url.replace(/\/+$/, "")}/${spec.chart}`); } catch (e) {
    throw new ChartBuildError(BuildReason.ChartReference, `invalid OCI chart reference '${repo.spec.url}/${spec.chart}': ${(e as Error).message}`, { cause: e });
  }
  let oci: OciClient;
  try {
    const credentials = await registryCredentials(b.ctx, ns, ref.registry, { secretName: repo.spec.secretRef?.name, allowBasic: true });
    const tls = await tlsFromSecret(b.ctx, ns, repo.spec.certSecretRef?.name);
    oci = new OciClient(ref, { insecure: repo.spec.insecure, tls, credentials, timeoutMs: parseDuration(repo.spec.timeout ?? "60s"), signal: b.ctx.signal });
  } catch (e) {
    if (e instanceof SecretError) throw new ChartBuildError(BuildReason.ChartPull, `failed to authenticate with the OCI registry: ${e.message}`);
    throw e;
  }
  const want = (spec.version ?? "").trim();
  let tag: string;
  if (want && want !== "*" && /^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]*)?$/.test(want)) tag = want.replace(/\+/g, "_");
  else {
    let tags;
    try { tags = await oci.tags(); } catch (e) { throw pullError(e); }
    const best = latestMatching(tags, want || "*", (t) => t.replace(/_/g, "+"));
    if (!best) throw refError(`no '${spec.chart}' chart with version matching '${want || "*"}' found`);
    tag = best;
  }
  const chartVer = tag.replace(/_/g, "+");
  const version = versionFor(b, chartVer);
  if (isCached(b, spec.chart.split("/").pop()!, version)) return { name: spec.chart.split("/").pop()!, version, packaged: !!spec.valuesFiles?.length, valuesFiles: spec.valuesFiles ?? [] };
  const file = path.join(b.work, "pulled.tgz");
  try {
    const manifest = await oci.manifest(await oci.resolveTag(tag));
    const layer = (manifest.layers ?? []).find((l) => l.mediaType === MediaType.HelmChartContent);
    if (!layer) throw new Error(`${oci.reference}:${tag} is not a Helm chart (no ${MediaType.HelmChartContent} layer)`);
    await oci.blob(layer, file);
  } catch (e) {
    if (e instanceof ChartBuildError) throw e;
    throw new ChartBuildError(BuildReason.ChartPull, `failed to download chart for remote reference: ${(e as Error).message}`, { cause: e });
  }
  return finish(b, file, chartVer, version);
}

/** The artifact version: the chart version, with the generation as metadata when values are merged. */
function versionFor(b: BuildContext, chartVersion: string): string {
  const meta = valuesMetadata(b.obj);
  return meta ? withBuildMetadata(chartVersion, meta) : chartVersion;
}

/** Checks the pulled archive is a chart; merges values and repackages when asked to. */
async function finish(b: BuildContext, file: string, chartVer: string, version: string): Promise<ChartBuild> {
  const spec = b.obj.spec;
  const unpacked = path.join(b.work, "pulled");
  try { await untar(file, unpacked); } catch (e) {
    throw new ChartBuildError(BuildReason.Package, `failed to load downloaded chart: ${(e as Error).message}`, { cause: e });
  }
  const dir = chartRoot(unpacked, "the downloaded file");
  let meta;
  try { meta = readChartMetadata(dir, "the downloaded chart"); } catch (e) {
    throw new ChartBuildError(BuildReason.Package, `failed to load downloaded chart: ${(e as Error).message}`, { cause: e });
  }
  if (!spec.valuesFiles?.length) return { name: meta.name, version: chartVer, packaged: false, valuesFiles: [], file };
  const { values, used } = mergeValuesFiles(dir, spec.valuesFiles, !!spec.ignoreMissingValuesFiles);
  if (used.length) writeValues(dir, values);
  const packaged = await packageChart(dir, meta, path.join(b.work, "out"), b.work, version);
  return { name: meta.name, version, packaged: true, valuesFiles: used, file: packaged };
}
