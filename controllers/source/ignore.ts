// Which files of a checkout go into the artifact: Flux's default exclusions, `.sourceignore`
// files anywhere in the tree, then spec.ignore (which replaces the defaults). gitignore syntax.
import * as fs from "node:fs";
import * as path from "node:path";
import ignore, { Ignore } from "ignore";

export const DEFAULT_EXCLUSIONS = [
  ".git/", ".gitignore", ".gitmodules", ".gitattributes",
  "*.jpg", "*.jpeg", "*.gif", "*.png", "*.wmv", "*.flv", "*.tar.gz", "*.zip",
  ".github/", ".circleci/", ".travis.yml", ".gitlab-ci.yml", "appveyor.yml", ".drone.yml",
  "cloudbuild.yaml", "codeship-services.yml", "codeship-steps.yml",
  "**/.goreleaser.yml", "**/.sops.yaml", "**/.flux.yaml",
];

const SOURCEIGNORE = ".sourceignore";

/** Rewrites patterns of a `.sourceignore` in subdirectory `dir` so they match from the root. */
export function rebase(patterns: string[], dir: string): string[] {
  if (!dir) return patterns;
  return patterns.map((line) => {
    const neg = line.startsWith("!");
    let p = neg ? line.slice(1) : line;
    const anchored = p.startsWith("/") || p.replace(/\/$/, "").includes("/");
    p = p.replace(/^\//, "");
    const rooted = anchored ? `${dir}/${p}` : `${dir}/**/${p}`;
    return (neg ? "!" : "") + rooted;
  });
}

function lines(text: string): string[] {
  return text.split(/\r?\n/).filter((l) => l.trim() !== "" && !l.startsWith("#"));
}

/** Lists the files (relative, sorted, '/'-separated) that belong in the artifact of `root`. */
export function selectFiles(root: string, specIgnore?: string): string[] {
  const base = specIgnore === undefined ? DEFAULT_EXCLUSIONS : [".git/"];
  const rules: string[] = [...base];
  const found: string[] = [];
  // Walk once; .sourceignore rules of a directory apply to what is below it, so collect them
  // as we go and filter at the end with the complete rule set (spec.ignore last: it wins).
  const walk = (rel: string) => {
    const abs = rel ? path.join(root, rel) : root;
    const entries = fs.readdirSync(abs, { withFileTypes: true });
    const si = entries.find((e) => e.name === SOURCEIGNORE && e.isFile());
    if (si) rules.push(...rebase(lines(fs.readFileSync(path.join(abs, SOURCEIGNORE), "utf8")), rel));
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.name === ".git" && !rel) continue;
      if (e.isDirectory()) walk(r);
      else if (e.isFile() || e.isSymbolicLink()) found.push(r);
    }
  };
  walk("");
  if (specIgnore !== undefined) rules.push(...lines(specIgnore));
  const ig: Ignore = ignore({ allowRelativePaths: true }).add(rules);
  return found.filter((f) => !ig.ignores(f)).sort();
}
