// A Helm repository index (index.yaml): loading and checking it as Helm does, picking a chart
// version (exact match first, then the highest in a SemVer range, stable versions only unless
// the range names a pre-release) and resolving the chart's download URL against the repository.
import { parse } from "yaml";
import { latestMatching, SemverRangeError } from "../oci/oci-semver";

export interface ChartVersion {
  name: string;
  version: string;
  urls?: string[];
  digest?: string;
  apiVersion?: string;
  [k: string]: unknown;
}

export interface HelmIndex { apiVersion: string; entries: Record<string, ChartVersion[]>; generated?: string }

export class IndexError extends Error {}
/** A chart or version the index does not have (Flux: InvalidChartReference). */
export class ChartReferenceError extends Error {}

/** Parses and checks an index; IndexError says what is wrong with it. */
export function loadIndex(text: string | Buffer): HelmIndex {
  let doc: unknown;
  try { doc = parse(text.toString(), { maxAliasCount: 1000 }); } catch (e) {
    throw new IndexError(`error unmarshaling JSON: ${(e as Error).message.split("\n")[0]}`, { cause: e });
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new IndexError("no API version specified (the file is not a Helm repository index)");
  const idx = doc as Partial<HelmIndex>;
  if (!idx.apiVersion) throw new IndexError("no API version specified (the file is not a Helm repository index)");
  const entries: Record<string, ChartVersion[]> = {};
  for (const [name, versions] of Object.entries(idx.entries ?? {})) {
    if (!Array.isArray(versions)) continue;
    // Helm skips entries it cannot use rather than failing the whole index.
    entries[name] = versions.filter((v): v is ChartVersion => !!v && typeof v === "object" && typeof v.version === "string")
      .map((v) => ({ ...v, name: v.name ?? name, version: String(v.version) }));
  }
  return { apiVersion: idx.apiVersion, entries, generated: idx.generated };
}

/** The chart version `constraint` selects ("" and "*" mean the latest stable version). */
export function chartVersion(index: HelmIndex, name: string, constraint: string | undefined): ChartVersion {
  const versions = index.entries[name];
  if (!versions) {
    const known = Object.keys(index.entries).sort();
    throw new ChartReferenceError(`no chart name found (the index has no chart '${name}'${known.length ? `; it has: ${known.slice(0, 20).join(", ")}` : ""})`);
  }
  if (versions.length === 0) throw new ChartReferenceError(`no chart version found for ${name}`);
  const want = (constraint ?? "").trim();
  if (want && want !== "*") {
    const exact = versions.find((v) => v.version === want);
    if (exact) return exact;
  }
  let best: ChartVersion | undefined;
  try { best = latestMatching(versions, want || "*", (v) => v.version); } catch (e) {
    if (e instanceof SemverRangeError) throw new ChartReferenceError(e.message, { cause: e });
    throw e;
  }
  if (!best) throw new ChartReferenceError(`no '${name}' chart with version matching '${want || "*"}' found`);
  return best;
}

/** Absolute URL of a chart version's first download URL (relative URLs resolve against the repository). */
export function chartUrl(repoUrl: string, cv: ChartVersion): string {
  const u = cv.urls?.[0];
  if (!u) throw new ChartReferenceError(`chart '${cv.name}' has no downloadable URLs`);
  return new URL(u, repoUrl.replace(/\/*$/, "/")).toString();
}
