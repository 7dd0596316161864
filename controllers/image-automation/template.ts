// The commit message template: the subset of Go's text/template that Flux's docs use, with
// the same syntax and output. Actions `{{ }}` with `{{-`/`-}}` trimming and comments;
// pipelines with `|`, parentheses, variables (`$x := ...`, `$x = ...`, `$`), field and
// method chains (`.Changed.Objects`), `if`/`else if`/`else`, `range` (slices, maps in key
// order, `$k, $v :=`, `else`), `with`; Go's builtins (and, or, not, len, index, print,
// printf, println, eq, ne, lt, le, gt, ge) and Sprig's hermetic string functions Flux
// templates commonly use (lower, upper, contains, replace, trunc, join, sha256sum, ...).
// `define`, `template`, `block`, `break` and `continue` are rejected as unsupported.
import { createHash } from "node:crypto";

export class TemplateParseError extends Error {}
export class TemplateExecError extends Error {}

/** A Go struct value: printed `{a b}`, fields by name; `String()` wins when present. */
export interface GoStruct { readonly __struct: readonly string[] }
export const goStruct = <T extends object>(fields: readonly string[], v: T): T & GoStruct => Object.assign(Object.create(null), v, { __struct: fields }) as T & GoStruct;

type Node =
  | { t: "text"; s: string }
  | { t: "action"; pipe: Pipe; line: number }
  | { t: "if" | "with"; pipe: Pipe; list: Node[]; else?: Node[]; line: number }
  | { t: "range"; pipe: Pipe; list: Node[]; else?: Node[]; line: number };
interface Pipe { decl: string[]; assign: boolean; cmds: Operand[][] }
type Operand =
  | { k: "field"; base?: Operand; chain: string[] }
  | { k: "var"; name: string; chain: string[] }
  | { k: "ident"; name: string }
  | { k: "lit"; v: unknown }
  | { k: "pipe"; pipe: Pipe; chain: string[] };

// ---- lexing and parsing ---------------------------------------------------------------

interface Action { body: string; line: number }
type Piece = { text: string } | Action;

function split(src: string): Piece[] {
  const out: Piece[] = [];
  let i = 0;
  let line = 1;
  const lineAt = (pos: number) => line + (src.slice(i, pos).match(/\n/g)?.length ?? 0);
  while (i < src.length) {
    const open = src.indexOf("{{", i);
    if (open < 0) { out.push({ text: src.slice(i) }); break; }
    let text = src.slice(i, open);
    let bodyStart = open + 2;
    if (src.startsWith("{{- ", open) || src.startsWith("{{-\t", open) || src.startsWith("{{-\n", open) || src.startsWith("{{-\r", open)) { text = text.replace(/[ \t\r\n]+$/, ""); bodyStart++; }
    out.push({ text });
    const l = lineAt(open);
    let close: number;
    if (src.slice(bodyStart).trimStart().startsWith("/*")) {
      const end = src.indexOf("*/", bodyStart);
      close = end < 0 ? -1 : src.indexOf("}}", end);
    } else close = findClose(src, bodyStart);
    if (close < 0) throw new TemplateParseError(`template: commit message:${l}: unclosed action`);
    let body = src.slice(bodyStart, close);
    let next = close + 2;
    if (/[ \t\r\n]-$/.test(body)) { body = body.slice(0, -1); const m = /^[ \t\r\n]*/.exec(src.slice(next))!; next += m[0].length; }
    line = lineAt(next);
    i = next;
    if (!body.trim().startsWith("/*")) out.push({ body, line: l });
  }
  return out;
}

/** The `}}` closing the action, skipping string literals. */
function findClose(src: string, from: number): number {
  for (let i = from; i < src.length; i++) {
    const c = src[i];
    if (c === '"' || c === "`" || c === "'") {
      for (i++; i < src.length && src[i] !== c; i++) if (src[i] === "\\" && c !== "`") i++;
      continue;
    }
    if (c === "}" && src[i + 1] === "}") return i;
  }
  return -1;
}

type Tok = { k: "field" | "var" | "ident" | "str" | "num" | "op"; v: string; chain?: string[] };

function tokenize(body: string, line: number): Tok[] {
  const toks: Tok[] = [];
  const err = (m: string) => new TemplateParseError(`template: commit message:${line}: ${m}`);
  let i = 0;
  const chainAt = (): string[] => {
    const chain: string[] = [];
    while (body[i] === "." && /[A-Za-z_]/.test(body[i + 1] ?? "")) {
      const m = /^\.([A-Za-z_]\w*)/.exec(body.slice(i))!;
      chain.push(m[1]);
      i += m[0].length;
    }
    return chain;
  };
  while (i < body.length) {
    const c = body[i];
    if (/\s/.test(c)) { i++; continue; }
    if (c === ".") {
      if (/[A-Za-z_]/.test(body[i + 1] ?? "")) { toks.push({ k: "field", v: "", chain: chainAt() }); continue; }
      i++; toks.push({ k: "field", v: "", chain: [] }); continue;
    }
    if (c === "$") {
      const m = /^\$\w*/.exec(body.slice(i))!;
      i += m[0].length;
      toks.push({ k: "var", v: m[0], chain: chainAt() });
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      for (; j < body.length && body[j] !== '"'; j++) if (body[j] === "\\") j++;
      if (j >= body.length) throw err("unterminated quoted string");
      try { toks.push({ k: "str", v: JSON.parse(body.slice(i, j + 1)) as string }); } catch { throw err(`invalid syntax in string ${body.slice(i, j + 1)}`); }
      i = j + 1; continue;
    }
    if (c === "`") {
      const j = body.indexOf("`", i + 1);
      if (j < 0) throw err("unterminated raw quoted string");
      toks.push({ k: "str", v: body.slice(i + 1, j) }); i = j + 1; continue;
    }
    if (c === "'") {
      const m = /^'(\\.|[^'])'/.exec(body.slice(i));
      if (!m) throw err("unterminated character constant");
      toks.push({ k: "num", v: String(JSON.parse(`"${m[1]}"`).codePointAt(0)) }); i += m[0].length; continue;
    }
    const num = /^-?\d+(\.\d+)?/.exec(body.slice(i));
    if (num) { toks.push({ k: "num", v: num[0] }); i += num[0].length; continue; }
    if (body.startsWith(":=", i)) { toks.push({ k: "op", v: ":=" }); i += 2; continue; }
    if ("()|,=".includes(c)) {
      toks.push({ k: "op", v: c }); i++;
      if (c === ")") { const chain = chainAt(); if (chain.length) toks.push({ k: "op", v: ".chain", chain }); }
      continue;
    }
    const id = /^[A-Za-z_]\w*/.exec(body.slice(i));
    if (id) { toks.push({ k: "ident", v: id[0] }); i += id[0].length; continue; }
    throw err(`unexpected ${JSON.stringify(c)} in command`);
  }
  return toks;
}

function parsePipe(toks: Tok[], line: number, allowDecl: "one" | "two" | "none" = "one"): Pipe {
  const err = (m: string) => new TemplateParseError(`template: commit message:${line}: ${m}`);
  let pos = 0;
  const decl: string[] = [];
  let assign = false;
  // `$x :=`, `$x =`, and for range `$k, $v :=`.
  const look = toks.findIndex((t) => t.k === "op" && (t.v === ":=" || t.v === "="));
  if (look > 0 && toks.slice(0, look).every((t, i) => (i % 2 === 0 ? t.k === "var" && !t.chain?.length : t.k === "op" && t.v === ","))) {
    for (let i = 0; i < look; i += 2) decl.push(toks[i].v);
    if (decl.length > (allowDecl === "two" ? 2 : 1) || (allowDecl === "none")) throw err("too many declarations in command");
    assign = toks[look].v === "=";
    pos = look + 1;
  }
  const cmds: Operand[][] = [];
  let cur: Operand[] = [];
  const operand = (): Operand => {
    const t = toks[pos++];
    if (!t) throw err("missing value for command");
    if (t.k === "field") return { k: "field", chain: t.chain! };
    if (t.k === "var") return { k: "var", name: t.v, chain: t.chain! };
    if (t.k === "str") return { k: "lit", v: t.v };
    if (t.k === "num") return { k: "lit", v: Number(t.v) };
    if (t.k === "ident") {
      if (t.v === "true" || t.v === "false") return { k: "lit", v: t.v === "true" };
      if (t.v === "nil") return { k: "lit", v: null };
      if (!Object.hasOwn(FUNCS, t.v)) throw err(`function "${t.v}" not defined`);
      return { k: "ident", name: t.v };
    }
    if (t.k === "op" && t.v === "(") {
      let depth = 1;
      const start = pos;
      for (; pos < toks.length && depth > 0; pos++) {
        if (toks[pos].k === "op" && toks[pos].v === "(") depth++;
        if (toks[pos].k === "op" && toks[pos].v === ")") depth--;
      }
      if (depth > 0) throw err("unclosed left paren");
      const inner = parsePipe(toks.slice(start, pos - 1), line, "none");
      const chain = toks[pos]?.k === "op" && toks[pos].v === ".chain" ? toks[pos++].chain! : [];
      return { k: "pipe", pipe: inner, chain };
    }
    throw err(`unexpected "${t.v}" in operand`);
  };
  while (pos < toks.length) {
    const t = toks[pos];
    if (t.k === "op" && t.v === "|") {
      if (cur.length === 0) throw err("missing command");
      cmds.push(cur); cur = []; pos++; continue;
    }
    if (t.k === "op" && t.v === ")") throw err("unexpected right paren");
    cur.push(operand());
  }
  if (cur.length === 0) { if (cmds.length > 0 || decl.length > 0) throw err("missing command"); }
  else cmds.push(cur);
  return { decl, assign, cmds };
}

export interface Template { nodes: Node[] }

export function parseTemplate(src: string): Template {
  const pieces = split(src);
  let i = 0;
  const parseList = (until: string[]): { list: Node[]; end: string; endPipe?: Action } => {
    const list: Node[] = [];
    while (i < pieces.length) {
      const p = pieces[i++];
      if ("text" in p) { if (p.text) list.push({ t: "text", s: p.text }); continue; }
      const body = p.body.trim();
      const kw = /^(\w+)\b\s*([\s\S]*)$/.exec(body);
      const word = kw?.[1];
      if (word === "end" || word === "else") {
        if (!until.includes(word)) throw new TemplateParseError(`template: commit message:${p.line}: unexpected {{${word}}}`);
        return { list, end: word, endPipe: { body: kw![2], line: p.line } };
      }
      if (word === "if" || word === "with" || word === "range") list.push(parseBlock(word, kw![2], p.line));
      else if (word && ["define", "template", "block", "break", "continue"].includes(word)) {
        throw new TemplateParseError(`template: commit message:${p.line}: {{${word}}} is not supported by this controller's template engine`);
      } else {
        if (body === "") throw new TemplateParseError(`template: commit message:${p.line}: missing value for command`);
        list.push({ t: "action", pipe: parsePipe(tokenize(p.body, p.line), p.line), line: p.line });
      }
    }
    if (until.length) throw new TemplateParseError("template: commit message: unexpected EOF");
    return { list, end: "" };
  };
  const parseBlock = (word: "if" | "with" | "range", rest: string, line: number): Node => {
    if (rest.trim() === "") throw new TemplateParseError(`template: commit message:${line}: missing value for ${word}`);
    const pipe = parsePipe(tokenize(rest, line), line, word === "range" ? "two" : "one");
    const body = parseList(["end", "else"]);
    const node = { t: word, pipe, list: body.list, line } as Node & { else?: Node[] };
    if (body.end === "else") {
      const elseRest = body.endPipe!.body.trim();
      const chained = /^(if|with)\b\s*([\s\S]*)$/.exec(elseRest);
      if (chained) {
        // `{{else if x}}` is `{{else}}{{if x}}...{{end}}` sharing this block's {{end}}.
        node.else = [parseBlock(chained[1] as "if" | "with", chained[2], body.endPipe!.line)];
      } else {
        if (elseRest !== "") throw new TemplateParseError(`template: commit message:${body.endPipe!.line}: unexpected "${elseRest}" in else`);
        node.else = parseList(["end"]).list;
      }
    }
    return node;
  };
  return { nodes: parseList([]).list };
}

// ---- values and functions ---------------------------------------------------------------

const isStruct = (v: unknown): v is GoStruct & Record<string, unknown> => typeof v === "object" && v !== null && "__struct" in v;

function hasStringer(v: unknown): v is { String(): string } {
  return typeof v === "object" && v !== null && typeof (v as { String?: unknown }).String === "function";
}

/** fmt's %v. */
export function goFormat(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  if (hasStringer(v)) return v.String();
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(goFormat).join(" ")}]`;
  if (v instanceof Map) return `map[${sortedKeys(v).map((k) => `${goFormat(k)}:${goFormat(v.get(k))}`).join(" ")}]`;
  if (isStruct(v)) return `{${v.__struct.map((f) => goFormat(v[f])).join(" ")}}`;
  return String(v);
}

function sortedKeys(m: Map<unknown, unknown>): unknown[] {
  const key = (k: unknown) => (isStruct(k) ? k.__struct.map((f) => String(k[f])).join("\u0000") : k as string | number);
  return [...m.keys()].sort((a, b) => { const x = key(a), y = key(b); return x < y ? -1 : x > y ? 1 : 0; });
}

function truth(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  return true;
}

function printf(format: string, ...args: unknown[]): string {
  let n = 0;
  return format.replace(/%([-+# 0]*\d*(?:\.\d+)?)([svdqxXtf%])/g, (_m, _flags: string, verb: string) => {
    if (verb === "%") return "%";
    if (n >= args.length) return `%!${verb}(MISSING)`;
    const a = args[n++];
    switch (verb) {
      case "q": return JSON.stringify(goFormat(a));
      case "d": return typeof a === "number" ? String(Math.trunc(a)) : `%!d(${typeof a}=${goFormat(a)})`;
      case "x": return typeof a === "number" ? a.toString(16) : Buffer.from(goFormat(a)).toString("hex");
      case "X": return typeof a === "number" ? a.toString(16).toUpperCase() : Buffer.from(goFormat(a)).toString("hex").toUpperCase();
      default: return goFormat(a);
    }
  }) + (n < args.length ? `%!(EXTRA ${args.slice(n).map(goFormat).join(", ")})` : "");
}

/** Go's fmt.Sprint: spaces only between operands when neither is a string. */
function sprint(args: unknown[]): string {
  let out = "";
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== "string" && typeof args[i - 1] !== "string") out += " ";
    out += goFormat(a);
  });
  return out;
}

const str = (v: unknown) => (typeof v === "string" ? v : goFormat(v));
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v instanceof Map ? [...v.values()] : []);
const cmp = (a: unknown, b: unknown) => (typeof a === typeof b ? (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0 : NaN);
const eq = (a: unknown, b: unknown) => (isStruct(a) && isStruct(b) ? goFormat(a) === goFormat(b) : a === b);

const FUNCS: Record<string, (...a: unknown[]) => unknown> = {
  // Go builtins (and/or are evaluated lazily in exec; these are fallbacks).
  and: (...a) => a.find((x) => !truth(x)) ?? a[a.length - 1],
  or: (...a) => a.find((x) => truth(x)) ?? a[a.length - 1],
  not: (a) => !truth(a),
  len: (a) => (typeof a === "string" ? Buffer.byteLength(a) : Array.isArray(a) ? a.length : a instanceof Map ? a.size : (() => { throw new TemplateExecError(`len of type ${typeof a}`); })()),
  index: (a, ...keys) => keys.reduce<unknown>((v, k) => (v instanceof Map ? v.get(k) : Array.isArray(v) ? v[k as number] : undefined), a),
  print: (...a) => sprint(a),
  printf: (f, ...a) => printf(str(f), ...a),
  println: (...a) => a.map(goFormat).join(" ") + "\n",
  eq: (a, ...b) => b.some((x) => eq(a, x)),
  ne: (a, b) => !eq(a, b),
  lt: (a, b) => cmp(a, b) < 0,
  le: (a, b) => cmp(a, b) <= 0,
  gt: (a, b) => cmp(a, b) > 0,
  ge: (a, b) => cmp(a, b) >= 0,
  // Sprig (hermetic), the string and list helpers.
  lower: (s) => str(s).toLowerCase(),
  upper: (s) => str(s).toUpperCase(),
  title: (s) => str(s).replace(/\b\w/g, (c) => c.toUpperCase()),
  trim: (s) => str(s).trim(),
  trimAll: (c, s) => { const cs = str(c); let x = str(s); while (x && cs.includes(x[0])) x = x.slice(1); while (x && cs.includes(x[x.length - 1])) x = x.slice(0, -1); return x; },
  trimPrefix: (p, s) => (str(s).startsWith(str(p)) ? str(s).slice(str(p).length) : str(s)),
  trimSuffix: (p, s) => (str(p) && str(s).endsWith(str(p)) ? str(s).slice(0, -str(p).length) : str(s)),
  contains: (sub, s) => str(s).includes(str(sub)),
  hasPrefix: (p, s) => str(s).startsWith(str(p)),
  hasSuffix: (p, s) => str(s).endsWith(str(p)),
  replace: (o, n, s) => str(s).split(str(o)).join(str(n)),
  repeat: (n, s) => str(s).repeat(Number(n)),
  substr: (a, b, s) => str(s).slice(Number(a), Number(b) < 0 ? undefined : Number(b)),
  trunc: (n, s) => { const x = str(s); const c = Number(n); return c >= 0 ? x.slice(0, c) : x.slice(Math.max(0, x.length + c)); },
  abbrev: (n, s) => { const x = str(s); const w = Number(n); return x.length <= w ? x : x.slice(0, Math.max(0, w - 3)) + "..."; },
  indent: (n, s) => str(s).split("\n").map((l) => " ".repeat(Number(n)) + l).join("\n"),
  nindent: (n, s) => "\n" + str(s).split("\n").map((l) => " ".repeat(Number(n)) + l).join("\n"),
  quote: (...a) => a.map((x) => JSON.stringify(str(x))).join(" "),
  squote: (...a) => a.map((x) => `'${str(x)}'`).join(" "),
  toString: (v: unknown) => str(v),
  join: (sep, l) => list(l).map(str).join(str(sep)),
  splitList: (sep, s) => str(s).split(str(sep)),
  list: (...a) => a,
  first: (l) => list(l)[0],
  last: (l) => list(l)[list(l).length - 1],
  default: (d, v) => (truth(v) ? v : d),
  empty: (v) => !truth(v),
  sha256sum: (s) => createHash("sha256").update(str(s)).digest("hex"),
  sha1sum: (s) => createHash("sha1").update(str(s)).digest("hex"),
  b64enc: (s) => Buffer.from(str(s)).toString("base64"),
  add: (...a) => a.reduce<number>((x, y) => x + Number(y), 0),
  sub: (a, b) => Number(a) - Number(b),
  toJson: (v) => JSON.stringify(v instanceof Map ? Object.fromEntries(v) : v),
};

// ---- execution ------------------------------------------------------------------------

function typeName(v: unknown): string {
  if (v instanceof Map) return "map";
  if (Array.isArray(v)) return "slice";
  if (isStruct(v)) return `struct {${v.__struct.join(", ")}}`;
  return v === null || v === undefined ? "nil" : typeof v;
}

function field(v: unknown, name: string, line: number, path: string): unknown {
  if (v instanceof Map) return v.has(name) ? v.get(name) : undefined;
  if (typeof v === "object" && v !== null) {
    const f = (v as Record<string, unknown>)[name];
    if (typeof f === "function") return (f as () => unknown).call(v);
    if (name in v) return f;
  }
  throw new TemplateExecError(`template: commit message:${line}: executing "commit message" at <${path}>: can't evaluate field ${name} in type ${typeName(v)}`);
}

export function executeTemplate(t: Template, data: unknown): string {
  let out = "";
  const scopes: Array<Map<string, unknown>> = [new Map([["$", data]])];
  const lookup = (name: string, line: number) => {
    for (let i = scopes.length - 1; i >= 0; i--) if (scopes[i].has(name)) return scopes[i].get(name);
    throw new TemplateExecError(`template: commit message:${line}: undefined variable "${name}"`);
  };
  const chainOf = (v: unknown, chain: string[], line: number, prefix: string) => {
    let cur = v;
    let p = prefix;
    for (const f of chain) { p += `.${f}`; cur = field(cur, f, line, p); }
    return cur;
  };
  const evalOperand = (o: Operand, dot: unknown, line: number): unknown => {
    switch (o.k) {
      case "lit": return o.v;
      case "field": return chainOf(dot, o.chain, line, "");
      case "var": return chainOf(lookup(o.name, line), o.chain, line, o.name);
      case "pipe": return chainOf(evalPipe(o.pipe, dot, line), o.chain, line, "(...)");
      case "ident": return FUNCS[o.name]();
    }
  };
  const evalCmd = (cmd: Operand[], dot: unknown, line: number, piped?: { v: unknown }): unknown => {
    const [head, ...rest] = cmd;
    if (head.k === "ident") {
      if (head.name === "and" || head.name === "or") {
        const args = [...rest.map((a) => () => evalOperand(a, dot, line)), ...(piped ? [() => piped.v] : [])];
        let last: unknown;
        for (const a of args) { last = a(); if (head.name === "and" ? !truth(last) : truth(last)) return last; }
        return last;
      }
      const args = rest.map((a) => evalOperand(a, dot, line));
      if (piped) args.push(piped.v);
      try { return FUNCS[head.name](...args); } catch (e) {
        throw new TemplateExecError(`template: commit message:${line}: executing "commit message" at <${head.name}>: error calling ${head.name}: ${(e as Error).message}`);
      }
    }
    if (rest.length > 0 || piped) throw new TemplateExecError(`template: commit message:${line}: can't give argument to non-function`);
    return evalOperand(head, dot, line);
  };
  const evalPipe = (p: Pipe, dot: unknown, line: number): unknown => {
    let v: { v: unknown } | undefined;
    for (const cmd of p.cmds) v = { v: evalCmd(cmd, dot, line, v) };
    const value = v?.v;
    if (p.decl.length === 1) {
      if (p.assign) {
        const s = [...scopes].reverse().find((m) => m.has(p.decl[0]));
        if (!s) throw new TemplateExecError(`template: commit message:${line}: undefined variable "${p.decl[0]}"`);
        s.set(p.decl[0], value);
      } else scopes[scopes.length - 1].set(p.decl[0], value);
    }
    return value;
  };
  const run = (nodes: Node[], dot: unknown) => {
    for (const n of nodes) {
      if (n.t === "text") { out += n.s; continue; }
      if (n.t === "action") {
        const v = evalPipe(n.pipe, dot, n.line);
        if (n.pipe.decl.length === 0) out += v === undefined ? "<no value>" : goFormat(v);
        continue;
      }
      scopes.push(new Map());
      try {
        if (n.t === "if" || n.t === "with") {
          const v = evalPipe(n.pipe, dot, n.line);
          if (truth(v)) run(n.list, n.t === "with" ? v : dot);
          else if (n.else) run(n.else, dot);
          continue;
        }
        const decl = n.pipe.decl;
        const v = evalPipe({ ...n.pipe, decl: [] }, dot, n.line);
        let items: Array<[unknown, unknown]>;
        if (Array.isArray(v)) items = v.map((x, i) => [i, x]);
        else if (v instanceof Map) items = sortedKeys(v).map((k) => [k, v.get(k)]);
        else if (typeof v === "number") items = Array.from({ length: Math.max(0, v) }, (_x, i) => [i, i]);
        else if (v === null || v === undefined) items = [];
        else throw new TemplateExecError(`template: commit message:${n.line}: range can't iterate over ${goFormat(v)}`);
        if (items.length === 0) { if (n.else) run(n.else, dot); continue; }
        for (const [k, x] of items) {
          scopes.push(new Map());
          if (decl.length === 1) scopes[scopes.length - 1].set(decl[0], x);
          if (decl.length === 2) { scopes[scopes.length - 1].set(decl[0], k); scopes[scopes.length - 1].set(decl[1], x); }
          try { run(n.list, x); } finally { scopes.pop(); }
        }
      } finally { scopes.pop(); }
    }
  };
  run(t.nodes, data);
  return out;
}
