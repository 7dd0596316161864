/**
 * Writes docs/compatibility.md: every spec field of every kind we serve (the CRD schemas, which
 * the compat test holds to Flux's), whether we support it (unsupported-fields.ts), and which test
 * files set it on an object that passed. "Set by a test" comes from the test run itself:
 * scripts/test.sh runs the main stage with GITOPS_FIELD_COVERAGE_DIR, the test cluster's API
 * server writes an audit log of every write of a toolkit object (request bodies), and the mocha
 * reporter writes when each test ran and whether it passed; this joins the two.
 *
 *   node dist/controllers/api/compat-table.js --coverage <dir> [--out docs/compatibility.md]
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import type { KindVersion } from "./crd";
import { allKinds } from "./registry";
import { fieldLimits } from "./unsupported-fields";

interface Schema { type?: string; description?: string; properties?: Record<string, Schema>; items?: Schema; additionalProperties?: unknown; anyOf?: Schema[] }
interface Span { file: string; title?: string; start: number; end: number; passed: boolean }
interface AuditEvent { verb: string; objectRef?: { apiGroup?: string; resource?: string; subresource?: string }; requestObject?: unknown; requestReceivedTimestamp?: string; responseStatus?: { code?: number } }

/** Deeper fields are listed under their ancestor at this depth (spec.a.b.c). */
const MAX_DEPTH = 4;

/** Field paths of a schema, depth-first: `spec.a`, `spec.a.b`, `spec.list[].x`. */
export function schemaFields(schema: Schema, prefix = "spec", depth = 1): Array<{ path: string; type: string; description: string }> {
  const out: Array<{ path: string; type: string; description: string }> = [];
  for (const [name, sub] of Object.entries(schema.properties ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    const p = `${prefix}.${name}`;
    const item = sub.type === "array" ? sub.items : undefined;
    const type = item ? `[]${item.type ?? "object"}` : sub.type ?? (sub.anyOf ? "int-or-string" : "object");
    out.push({ path: p, type, description: (sub.description ?? "").split("\n")[0] });
    if (depth < MAX_DEPTH) out.push(...schemaFields(item ?? sub, item ? `${p}[]` : p, depth + 1));
  }
  return out;
}

/** Every path set in an object, in the notation of schemaFields, cut at MAX_DEPTH. */
export function setPaths(value: unknown, prefix = "spec", depth = 1, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const v of value) setPaths(v, `${prefix}[]`, depth, out);
    return out;
  }
  if (value === null || typeof value !== "object" || depth > MAX_DEPTH) return out;
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || v === null) continue;
    out.add(`${prefix}.${k}`);
    setPaths(v, `${prefix}.${k}`, depth + 1, out);
  }
  return out;
}

function readJsonLines(file: string): AuditEvent[] {
  const out: AuditEvent[] = [];
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) continue;
    try { out.push(JSON.parse(line) as AuditEvent); } catch { /* a line cut by a killed server */ }
  }
  return out;
}

/** The object a write carried: JSON bodies are logged as objects, apply-patch YAML as a string. */
function bodyOf(e: AuditEvent): { spec?: unknown } | undefined {
  const o = e.requestObject;
  if (typeof o === "string") { try { return parse(o) as { spec?: unknown }; } catch { return undefined; } }
  return o as { spec?: unknown } | undefined;
}

export interface Coverage { byKind: Map<string, Map<string, Set<string>>>; files: number; events: number }

/** kind -> field path -> test files that set it in a passing test (or a passing file's hooks). */
export function readCoverage(dir: string): Coverage {
  const spans: Span[] = [];
  const events: AuditEvent[] = [];
  for (const f of fs.readdirSync(dir)) {
    if (/^tests-\d+\.json$/.test(f)) spans.push(...(JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as Span[]));
    if (/^audit-\d+\.log$/.test(f)) events.push(...readJsonLines(path.join(dir, f)));
  }
  const tests = spans.filter((s) => s.title !== undefined);
  const suites = spans.filter((s) => s.title === undefined);
  const kindOf = new Map(allKinds.map((k) => [`${k.names.group}/${k.names.plural}`, k.names.kind]));
  const byKind = new Map<string, Map<string, Set<string>>>();
  let counted = 0;
  for (const e of events) {
    const ref = e.objectRef;
    if (!ref?.resource || ref.subresource || (e.responseStatus?.code ?? 200) >= 300) continue;
    const kind = kindOf.get(`${ref.apiGroup}/${ref.resource}`);
    const at = Date.parse(e.requestReceivedTimestamp ?? "");
    const body = bodyOf(e);
    if (!kind || !body?.spec || Number.isNaN(at)) continue;
    const inTest = tests.find((t) => t.start <= at && at <= t.end);
    const span = inTest ?? suites.find((s) => s.start <= at && at <= s.end);
    if (!span?.passed) continue;
    counted++;
    const fields = byKind.get(kind) ?? new Map<string, Set<string>>();
    byKind.set(kind, fields);
    for (const p of setPaths(body.spec)) {
      const files = fields.get(p) ?? new Set<string>();
      files.add(span.file.replace(/^dist\//, "").replace(/\.js$/, ".ts"));
      fields.set(p, files);
    }
  }
  return { byKind, files: new Set(spans.map((s) => s.file)).size, events: counted };
}

const cell = (s: string) => s.replace(/\|/g, "\\|");

function kindTable(k: KindVersion, cov: Coverage): { text: string; total: number; tested: number; limited: number } {
  const fields = schemaFields(k.spec as Schema);
  const limits = fieldLimits[k.names.kind] ?? {};
  for (const p of Object.keys(limits)) {
    if (!fields.some((f) => f.path === p)) throw new Error(`unsupported-fields.ts: ${k.names.kind} has no field ${p}`);
  }
  const seen = cov.byKind.get(k.names.kind) ?? new Map<string, Set<string>>();
  const rows = ["| field | type | support | set by tests |", "|---|---|---|---|"];
  let tested = 0;
  for (const f of fields) {
    // An ancestor's limit covers its descendants.
    const limitPath = Object.keys(limits).find((p) => f.path === p || f.path.startsWith(`${p}.`) || f.path.startsWith(`${p}[]`));
    const limit = limitPath ? limits[limitPath] : undefined;
    const files = [...(seen.get(f.path) ?? [])].sort();
    if (files.length) tested++;
    const support = limit ? `${limit.support}: ${limit.note}` : files.length ? "yes" : "yes, no test sets it";
    const shown = files.length > 3 ? `${files.slice(0, 3).map((x) => `\`${path.basename(x)}\``).join(", ")} +${files.length - 3}` : files.map((x) => `\`${path.basename(x)}\``).join(", ");
    const depth = f.path.split(".").length - 2;
    rows.push(`| ${"&nbsp;&nbsp;".repeat(depth)}\`${cell(f.path.slice("spec.".length))}\` | ${cell(f.type)} | ${cell(support)} | ${shown} |`);
  }
  return { text: rows.join("\n"), total: fields.length, tested, limited: fields.filter((f) => Object.keys(limits).some((p) => f.path === p)).length };
}

export function renderCompatibility(cov: Coverage): string {
  const kinds = allKinds.filter((k) => k.storage !== false);
  const parts: string[] = [];
  const summary = ["| kind | apiVersion | spec fields | set by a passing test | limited (see table) |", "|---|---|---|---|---|"];
  for (const k of kinds) {
    const t = kindTable(k, cov);
    summary.push(`| [${k.names.kind}](#${k.names.kind.toLowerCase()}) | ${k.names.apiVersion} | ${t.total} | ${t.tested} | ${t.limited} |`);
    parts.push(`## ${k.names.kind}\n\n\`${k.names.apiVersion}\`\n\n${t.text}\n`);
  }
  return [
    "# Compatibility with Flux's APIs",
    "",
    "Generated by `controllers/api/compat-table.ts` from the CRD schemas (`controllers/api/crds/`, held to Flux's",
    "published CRDs by `test/unit/api/crd-compat.test.ts`), the declared limits (`controllers/api/unsupported-fields.ts`) and",
    "the last full test run (`npm test` rewrites this file): *set by tests* names the test files that wrote an object",
    "with the field set (seen in the API server's audit log) during a test that passed. Fields nested deeper than",
    `${MAX_DEPTH} levels are counted under their ancestor. \"yes, no test sets it\" means the controller reads it but no`,
    "test sets it: treat it as untested.",
    "",
    `Test files in the run: ${cov.files}; toolkit object writes during passing tests: ${cov.events}.`,
    "",
    summary.join("\n"),
    "",
    ...parts,
  ].join("\n");
}

if (require.main === module) {
  const arg = (n: string) => { const i = process.argv.indexOf(`--${n}`); return i >= 0 ? process.argv[i + 1] : undefined; };
  const dir = arg("coverage");
  if (!dir) { console.error("usage: compat-table --coverage <dir> [--out <file>]"); process.exit(2); }
  const text = renderCompatibility(readCoverage(dir));
  const out = arg("out");
  if (out) fs.writeFileSync(out, text); else process.stdout.write(text);
}
