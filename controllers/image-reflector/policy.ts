// The three ImagePolicy choices and filterTags, with Flux's semantics and messages:
// semver picks the highest tag that is a strict SemVer (optional `v`) in the range;
// alphabetical and numerical pick the last tag in the given order. filterTags.pattern is a
// regular expression matched anywhere in the tag; extract is a Go-style template ($1, $name, ${name}).
import * as semver from "semver";
import type { ImagePolicySpec } from "../api/image/v1/image-policy";
import { SemverRangeError, latestMatching, validateRange } from "../source/oci/oci-semver";

/** A policy no retry can fix (Stalled, reason InvalidPolicy). */
export class InvalidPolicyError extends Error {}

export type Policer = (tags: string[]) => string;

export function policerFromSpec(p: ImagePolicySpec["policy"]): Policer {
  const chosen = [p.semver, p.alphabetical, p.numerical].filter((x) => x !== undefined).length;
  if (chosen !== 1) throw new InvalidPolicyError("invalid policy: given ImagePolicyChoice object is invalid (set exactly one of semver, alphabetical, numerical)");
  const empty = (tags: string[]) => { if (tags.length === 0) throw new Error("version list argument cannot be empty"); };
  if (p.semver) {
    const range = p.semver.range;
    try { validateRange(range); } catch (e) {
      if (e instanceof SemverRangeError) throw new InvalidPolicyError(`invalid policy: improper constraint: ${range}`);
      throw e;
    }
    return (tags) => {
      empty(tags);
      const strict = tags.filter((t) => semver.valid(t.replace(/^v/, "")) !== null);
      const best = latestMatching(strict, range, (t) => t);
      if (best === undefined) throw new Error("unable to determine latest version from provided list");
      return best;
    };
  }
  if (p.alphabetical) {
    const desc = p.alphabetical.order === "desc";
    return (tags) => {
      empty(tags);
      const sorted = [...tags].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      return desc ? sorted[0] : sorted[sorted.length - 1];
    };
  }
  const desc = p.numerical!.order === "desc";
  return (tags) => {
    empty(tags);
    let latest = "";
    let pv = 0;
    tags.forEach((t, i) => {
      const v = Number(t);
      if (t.trim() === "" || Number.isNaN(v)) throw new Error(`failed to parse invalid numeric value '${t}'`);
      if (i > 0 && ((!desc && v < pv) || (desc && v > pv))) return;
      latest = t;
      pv = v;
    });
    return latest;
  };
}

/** filterTags: tags the pattern matches, each mapped to its extract (or itself). */
export function filterTags(tags: string[], pattern = "", extract = ""): Map<string, string> {
  let re: RegExp;
  // Go's named groups (?P<name>...) are JavaScript's (?<name>...).
  try { re = new RegExp(pattern.replace(/\(\?P</g, "(?<")); } catch (e) {
    throw new InvalidPolicyError(`invalid policy: failed to filter tags: invalid regular expression pattern '${pattern}': ${(e as Error).message}`);
  }
  const out = new Map<string, string>();
  for (const tag of tags) {
    const m = re.exec(tag);
    if (!m) continue;
    const value = extract === "" ? tag : extract.replace(/\$(?:\{(\w+)\}|(\w+)|(\$))/g, (_s, braced?: string, bare?: string, dollar?: string) => {
      if (dollar) return "$";
      const name = (braced ?? bare)!;
      const g = /^\d+$/.test(name) ? m[Number(name)] : m.groups?.[name];
      return g ?? "";
    });
    out.set(value, tag);
  }
  return out;
}
