// SemVer ranges as Flux writes them (Masterminds syntax: commas mean AND, `||` OR, `1.2.x`,
// `~`, `^`, hyphen ranges), evaluated with node-semver. Shared by OCIRepository tags and
// HelmChart versions. Pre-releases count only when the range itself names one, as in Flux.
import * as semver from "semver";

export class SemverRangeError extends Error {}

/** A version string as Masterminds reads it: optional `v`, partial `1.2` means `1.2.0`. */
export function parseVersion(v: string): semver.SemVer | undefined {
  const s = v.trim().replace(/^v/, "");
  const full = semver.parse(s, { loose: true });
  if (full) return full;
  if (/^\d+(\.\d+)?$/.test(s)) return semver.coerce(s) ?? undefined;
  return undefined;
}

interface Range { range: semver.Range; includePrerelease: boolean }

function toRange(expr: string): Range {
  const text = expr.trim() === "" ? "*" : expr.replace(/,/g, " ");
  const includePrerelease = /\d-[0-9A-Za-z]/.test(text);
  try {
    return { range: new semver.Range(text, { loose: true, includePrerelease }), includePrerelease };
  } catch (e) {
    throw new SemverRangeError(`semver '${expr}' parse error: improper constraint: ${expr}`, { cause: e });
  }
}

/** Throws SemverRangeError when `expr` is not a valid range. */
export function validateRange(expr: string): void { toRange(expr); }

/** The highest of `candidates` satisfying `expr`, or undefined. `map` turns a candidate into its version text. */
export function latestMatching<T>(candidates: T[], expr: string, map: (c: T) => string): T | undefined {
  const { range, includePrerelease } = toRange(expr);
  let best: { c: T; v: semver.SemVer } | undefined;
  for (const c of candidates) {
    const v = parseVersion(map(c));
    if (!v) continue;
    if (!semver.satisfies(v, range, { loose: true, includePrerelease })) continue;
    if (!best || semver.compareBuild(v, best.v) > 0) best = { c, v };
  }
  return best?.c;
}
