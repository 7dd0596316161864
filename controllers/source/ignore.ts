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

/**
 * Keeps the files (relative, '/'-separated) that belong in the artifact. `.sourceignore` files
 * among them add rules for their directory; spec.ignore comes last, so it wins.
 */
export function filterFiles(files: string[], readFile: (rel: string) => string, specIgnore?: string): string[] {
  const rules: string[] = [...(specIgnore === undefined ? DEFAULT_EXCLUSIONS : [".git/"])];
  // Shallower .sourceignore files first, so a subdirectory's rules can override its parent's.
  const ignoreFiles = files.filter((f) => f === SOURCEIGNORE || f.endsWith(`/${SOURCEIGNORE}`))
    .sort((a, b) => a.split("/").length - b.split("/").length || a.localeCompare(b));
  for (const f of ignoreFiles) rules.push(...rebase(lines(readFile(f)), path.posix.dirname(f) === "." ? "" : path.posix.dirname(f)));
  if (specIgnore !== undefined) rules.push(...lines(specIgnore));
  const ig: Ignore = ignore({ allowRelativePaths: true }).add(rules);
  return files.filter((f) => !ig.ignores(f)).sort();
}

/** Lists, by walking the tree, the files of `root` that belong in the artifact. */
export function selectFiles(root: string, specIgnore?: string): string[] {
  const found: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(rel ? path.join(root, rel) : root, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.name === ".git" && !rel) continue;
      if (e.isDirectory()) walk(r);
      else if (e.isFile() || e.isSymbolicLink()) found.push(r);
    }
  };
  walk("");
  return filterFiles(found, (f) => fs.readFileSync(path.join(root, f), "utf8"), specIgnore);
}
