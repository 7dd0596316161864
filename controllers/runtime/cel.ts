// A subset of CEL (cel.dev) for the expressions Flux's APIs take: Receiver `resourceFilter` /
// `resources[].filter` (`res`, `req`), Provider `spec.commitStatusExpr` (`event`, `provider`,
// `alert`; a string), `dependsOn[].readyExpr` (`self`, `dep`; a bool, type-checked as Flux
// compiles it) and Kustomization `healthCheckExprs` (the object's top-level fields are the
// variables, as Flux passes the object itself; parsed, not type-checked).
// Supported: string/int/double/bool/null literals, lists, maps, field access (`a.b`), optional field
// access (`a.?b`, `a[?k]`), indexing (`a['k']`, `a[0]`), `has(a.b)`, the macros `all`,
// `exists`, `exists_one`, `map` (2 and 3 arguments) and `filter` over lists (elements) and maps
// (keys), `!`, unary `-`, `* / %`, `+ -` (numbers, strings, lists), comparisons, `in`, `&&`,
// `||` (commutative over errors, as CEL's), `? :`, and the functions `size`, `contains`,
// `startsWith`, `endsWith`, `matches`, `lowerAscii`, `upperAscii`, `split`, `join`, `trim`,
// `replace`, `substring`, `indexOf`, `lastIndexOf`, `charAt`, `first`/`last` (optionals, read
// with `.value()`/`.hasValue()`/`.orValue(x)`), `optional.of`/`optional.none`, `string`,
// `int`, `double`, `bool`, `dyn`.
// Not supported: timestamps, durations, bytes, unsigned ints, raw and triple-quoted strings, type checks
// (`type()`), the `sets.*` and encoder extensions. An unknown function fails at compile time.

export class CelError extends Error {
  override readonly name = "CelError";
}

type Tok = { t: "num" | "str" | "id" | "op"; v: string };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) { i++; continue; }
    if (/[0-9]/.test(c)) { const m = /^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(src.slice(i))!; out.push({ t: "num", v: m[0] }); i += m[0].length; continue; }
    if (/[A-Za-z_]/.test(c)) { const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!; out.push({ t: "id", v: m[0] }); i += m[0].length; continue; }
    if (c === "'" || c === '"') {
      let j = i + 1; let s = "";
      while (j < src.length && src[j] !== c) {
        if (src[j] === "\\") { const n = src[j + 1]; s += n === "n" ? "\n" : n === "t" ? "\t" : n; j += 2; } else s += src[j++];
      }
      if (j >= src.length) throw new CelError(`unterminated string at ${i}`);
      out.push({ t: "str", v: s }); i = j + 1; continue;
    }
    const two = src.slice(i, i + 2);
    if (["==", "!=", "<=", ">=", "&&", "||"].includes(two)) { out.push({ t: "op", v: two }); i += 2; continue; }
    if ("+-*/%<>!?:.,()[]{}".includes(c)) { out.push({ t: "op", v: c }); i++; continue; }
    throw new CelError(`unexpected character '${c}' at ${i}`);
  }
  return out;
}

const MACROS = ["all", "exists", "exists_one", "map", "filter"] as const;
type Macro = (typeof MACROS)[number];

type Node =
  | { k: "lit"; v: unknown } | { k: "id"; n: string } | { k: "list"; items: Node[] } | { k: "map"; entries: Array<[Node, Node]> }
  | { k: "sel"; o: Node; f: string; opt?: boolean } | { k: "idx"; o: Node; i: Node; opt?: boolean }
  | { k: "call"; o?: Node; f: string; args: Node[] }
  | { k: "macro"; m: Macro; o: Node; v: string; args: Node[] }
  | { k: "un"; op: string; a: Node } | { k: "bin"; op: string; a: Node; b: Node } | { k: "cond"; c: Node; a: Node; b: Node };

const prec: Record<string, number> = { "||": 1, "&&": 2, "==": 3, "!=": 3, "<": 3, "<=": 3, ">": 3, ">=": 3, in: 3, "+": 4, "-": 4, "*": 5, "/": 5, "%": 5 };

/** Functions and methods of the subset, with their static result type. */
const FUNCTIONS: Record<string, Type> = {
  size: "int", contains: "bool", startsWith: "bool", endsWith: "bool", matches: "bool", lowerAscii: "string", upperAscii: "string",
  trim: "string", split: "list", join: "string", replace: "string", substring: "string", indexOf: "int", lastIndexOf: "int", charAt: "string",
  first: "optional", last: "optional", value: "dyn", hasValue: "bool", orValue: "dyn", string: "string", int: "int", double: "double",
  bool: "bool", dyn: "dyn",
};

/**
 * Parses `src`; CelError on a syntax error, an unknown function, or (when `names` is given)
 * a reference to an undeclared variable. Without `names` any identifier is a variable,
 * checked at evaluation.
 */
function parse(src: string, names: readonly string[] | undefined): Node {
  const toks = tokenize(src);
  let p = 0;
  const peek = () => toks[p];
  const isOp = (v: string) => peek() && (peek().t === "op" || peek().t === "id") && peek().v === v;
  const expect = (v: string) => { if (!isOp(v)) throw new CelError(`expected '${v}'${peek() ? ` at '${peek().v}'` : " at the end"}`); p++; };
  const expr = (): Node => {
    const c = binary(1);
    if (isOp("?")) { p++; const a = expr(); expect(":"); const b = expr(); return { k: "cond", c, a, b }; }
    return c;
  };
  const binary = (min: number): Node => {
    let a = unary();
    for (;;) {
      const t = peek();
      const op = t && (t.t === "op" || (t.t === "id" && t.v === "in")) ? t.v : undefined;
      if (!op || prec[op] === undefined || prec[op] < min) return a;
      p++;
      a = { k: "bin", op, a, b: binary(prec[op] + 1) };
    }
  };
  const unary = (): Node => {
    if (isOp("!")) { p++; return { k: "un", op: "!", a: unary() }; }
    if (isOp("-")) { p++; return { k: "un", op: "-", a: unary() }; }
    return postfix(primary());
  };
  const args = (): Node[] => {
    const out: Node[] = [];
    expect("(");
    if (!isOp(")")) { do { out.push(expr()); } while (isOp(",") && ++p); }
    expect(")");
    return out;
  };
  const postfix = (n: Node): Node => {
    for (;;) {
      if (isOp(".")) {
        p++;
        const opt = isOp("?") ? (p++, true) : false;
        const t = toks[p++];
        if (!t || t.t !== "id") throw new CelError("expected a field or method name after '.'");
        if (!opt && isOp("(")) n = call(n, t.v, args());
        else n = { k: "sel", o: n, f: t.v, ...(opt ? { opt } : {}) };
      } else if (isOp("[")) {
        p++;
        const opt = isOp("?") ? (p++, true) : false;
        const i = expr(); expect("]");
        n = { k: "idx", o: n, i, ...(opt ? { opt } : {}) };
      } else return n;
    }
  };
  const call = (o: Node, f: string, a: Node[]): Node => {
    if (!(MACROS as readonly string[]).includes(f)) return { k: "call", o, f, args: a };
    const m = f as Macro;
    const arity = m === "map" ? [2, 3] : [2];
    if (!arity.includes(a.length)) throw new CelError(`${m}() takes ${arity.join(" or ")} arguments, got ${a.length}`);
    if (a[0].k !== "id") throw new CelError(`${m}(): the first argument must be a simple name (as in ${m}(e, ...))`);
    return { k: "macro", m, o, v: a[0].n, args: a.slice(1) };
  };
  const primary = (): Node => {
    const t = toks[p++];
    if (!t) throw new CelError("unexpected end of expression");
    if (t.t === "num") return { k: "lit", v: Number(t.v) };
    if (t.t === "str") return { k: "lit", v: t.v };
    if (t.t === "id") {
      if (t.v === "true" || t.v === "false") return { k: "lit", v: t.v === "true" };
      if (t.v === "null") return { k: "lit", v: null };
      if (isOp("(")) return { k: "call", f: t.v, args: args() };
      return { k: "id", n: t.v };
    }
    if (t.v === "(") { const e = expr(); expect(")"); return e; }
    if (t.v === "[") {
      const items: Node[] = [];
      if (!isOp("]")) { do { items.push(expr()); } while (isOp(",") && ++p); }
      expect("]");
      return { k: "list", items };
    }
    if (t.v === "{") {
      const entries: Array<[Node, Node]> = [];
      if (!isOp("}")) { do { const key = expr(); expect(":"); entries.push([key, expr()]); } while (isOp(",") && ++p); }
      expect("}");
      return { k: "map", entries };
    }
    throw new CelError(`unexpected '${t.v}'`);
  };
  const n = expr();
  if (p < toks.length) throw new CelError(`unexpected '${toks[p].v}'`);
  check(n, names ? new Set(names) : undefined, new Set());
  return n;
}

const isOptionalCtor = (n: Extract<Node, { k: "call" }>) => n.o?.k === "id" && n.o.n === "optional" && (n.f === "of" || n.f === "none");

/** Declared variables (when `vars` is set) and known functions. */
function check(n: Node, vars: ReadonlySet<string> | undefined, bound: ReadonlySet<string>): void {
  const c = (x: Node) => check(x, vars, bound);
  switch (n.k) {
    case "id":
      if (vars && !vars.has(n.n) && !bound.has(n.n)) {
        throw new CelError(`undeclared reference to '${n.n}' (available: ${[...vars, ...bound].join(", ")})`);
      }
      return;
    case "list": n.items.forEach(c); return;
    case "map": n.entries.forEach(([a, b]) => { c(a); c(b); }); return;
    case "sel": c(n.o); return;
    case "idx": c(n.o); c(n.i); return;
    case "macro": c(n.o); n.args.forEach((a) => check(a, vars, new Set([...bound, n.v]))); return;
    case "call":
      if (n.f === "has" && !n.o) {
        if (n.args.length !== 1 || n.args[0].k !== "sel") throw new CelError("has() takes one field selection, as in has(a.b)");
        c(n.args[0].o);
        return;
      }
      if (isOptionalCtor(n)) { n.args.forEach(c); return; }
      if (!(n.f in FUNCTIONS)) throw new CelError(`undeclared function '${n.f}' (not in this controller's CEL subset)`);
      if (n.o) c(n.o);
      n.args.forEach(c);
      return;
    case "un": c(n.a); return;
    case "bin": c(n.a); c(n.b); return;
    case "cond": c(n.c); c(n.a); c(n.b); return;
    default: return;
  }
}

// Static types, enough to refuse what Flux's type-checked compile refuses: a readyExpr that is
// not a bool (field values of the objects are `dyn`, as they are to Flux), or `&&`, `||`, `!`
// over a non-bool literal type.
type Type = "bool" | "int" | "double" | "string" | "list" | "map" | "null" | "optional" | "dyn";

function typeOf(n: Node): Type {
  switch (n.k) {
    case "lit": return n.v === null ? "null" : typeof n.v === "boolean" ? "bool" : typeof n.v === "string" ? "string" : Number.isInteger(n.v) ? "int" : "double";
    case "list": n.items.forEach(typeOf); return "list";
    case "map": n.entries.forEach(([a, b]) => { typeOf(a); typeOf(b); }); return "map";
    case "id": return "dyn";
    case "sel": case "idx": typeOf(n.o); return n.opt ? "optional" : "dyn";
    case "macro": typeOf(n.o); n.args.forEach(typeOf); return n.m === "map" || n.m === "filter" ? "list" : "bool";
    case "call":
      n.args.forEach(typeOf);
      if (n.o) typeOf(n.o);
      if (n.f === "has" && !n.o) return "bool";
      if (isOptionalCtor(n)) return "optional";
      return FUNCTIONS[n.f] ?? "dyn";
    case "un": {
      const a = typeOf(n.a);
      if (n.op === "!") { wantBool("!", a); return "bool"; }
      return a === "int" || a === "double" ? a : "dyn";
    }
    case "bin": {
      const a = typeOf(n.a); const b = typeOf(n.b);
      if (n.op === "&&" || n.op === "||") { wantBool(n.op, a); wantBool(n.op, b); return "bool"; }
      if (prec[n.op] === 3) return "bool";
      if (a === b && a !== "dyn" && a !== "null" && a !== "bool") return a;
      return "dyn";
    }
    case "cond": { wantBool("?:", typeOf(n.c)); const a = typeOf(n.a); const b = typeOf(n.b); return a === b ? a : "dyn"; }
  }
}

function wantBool(op: string, t: Type): void {
  if (t !== "bool" && t !== "dyn") throw new CelError(`found no matching overload for '${op}' applied to '${t}'`);
}

class Optional { constructor(readonly present: boolean, readonly v?: unknown) {} }

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Optional);
const hasOwn = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);
const kindOf = (v: unknown) => v === null || v === undefined ? "null" : Array.isArray(v) ? "list" : v instanceof Optional ? "optional" : isMap(v) ? "map" : typeof v;

/** Variables in scope: the expression's own, then macro variables bound over them. */
class Scope {
  constructor(private readonly vars: Record<string, unknown>, private readonly parent?: Scope) {}
  get(name: string): unknown {
    if (hasOwn(this.vars, name)) return this.vars[name];
    if (this.parent) return this.parent.get(name);
    throw new CelError(`no such attribute: ${name}`);
  }
  bind(name: string, v: unknown): Scope { return new Scope({ [name]: v }, this); }
}

function field(o: unknown, f: unknown): unknown {
  if (Array.isArray(o)) {
    if (typeof f !== "number" || !Number.isInteger(f)) throw new CelError(`a list index must be an int, got ${kindOf(f)}`);
    if (f < 0 || f >= o.length) throw new CelError(`index out of range: ${f}`);
    return o[f];
  }
  if (isMap(o) && hasOwn(o, String(f))) return o[String(f)];
  if (!isMap(o)) throw new CelError(`cannot select '${String(f)}' from a ${kindOf(o)}`);
  throw new CelError(`no such key: ${String(f)}`);
}

/** `a.?b`, `a[?k]`: an optional, empty when the key (or index) is absent. */
function optField(o: unknown, f: unknown): Optional {
  if (o instanceof Optional) return o.present ? optField(o.v, f) : o;
  if (Array.isArray(o)) return typeof f === "number" && f >= 0 && f < o.length ? new Optional(true, o[f]) : new Optional(false);
  if (isMap(o)) return hasOwn(o, String(f)) ? new Optional(true, o[String(f)]) : new Optional(false);
  throw new CelError(`cannot select '${String(f)}' from a ${kindOf(o)}`);
}

function select(o: unknown, f: unknown, opt: boolean | undefined): unknown {
  if (opt) return optField(o, f);
  // A field of an optional is an optional (a.?b.c).
  if (o instanceof Optional) return o.present ? optField(o.v, f) : o;
  return field(o, f);
}

function str(v: unknown, f: string): string {
  if (typeof v !== "string") throw new CelError(`${f}() needs a string, got ${kindOf(v)}`);
  return v;
}

/** CEL equality: by value, maps regardless of key order, numbers across int and double. */
function equals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equals(x, b[i]));
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => hasOwn(b, k) && equals(a[k], b[k]));
  }
  if (a instanceof Optional && b instanceof Optional) return a.present === b.present && (!a.present || equals(a.v, b.v));
  if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
  return false;
}

const num = (v: unknown): number => { if (typeof v !== "number") throw new CelError(`expected a number, got ${kindOf(v)}`); return v; };
const truth = (v: unknown): boolean => { if (typeof v !== "boolean") throw new CelError(`expected a bool, got ${kindOf(v)}`); return v; };

/** Evaluates to a bool, or to the error it raised (for CEL's commutative `&&`, `||`, all, exists). */
function tryBool(n: Node, env: Scope): boolean | CelError {
  try {
    return truth(evalNode(n, env));
  } catch (e) {
    if (e instanceof CelError) return e;
    throw e;
  }
}

function evalNode(n: Node, env: Scope): unknown {
  switch (n.k) {
    case "lit": return n.v;
    case "id": return env.get(n.n);
    case "list": return n.items.map((x) => evalNode(x, env));
    case "map": {
      const out: Record<string, unknown> = {};
      for (const [k, v] of n.entries) {
        const key = evalNode(k, env);
        if (typeof key !== "string" && typeof key !== "number" && typeof key !== "boolean") throw new CelError(`a map key must be a string, int or bool, got ${kindOf(key)}`);
        if (hasOwn(out, String(key))) throw new CelError(`duplicate map key: ${String(key)}`);
        out[String(key)] = evalNode(v, env);
      }
      return out;
    }
    case "sel": return select(evalNode(n.o, env), n.f, n.opt);
    case "idx": return select(evalNode(n.o, env), evalNode(n.i, env), n.opt);
    case "cond": return truth(evalNode(n.c, env)) ? evalNode(n.a, env) : evalNode(n.b, env);
    case "macro": return macro(n, env);
    case "un": {
      const a = evalNode(n.a, env);
      if (n.op === "!") return !truth(a);
      return -num(a);
    }
    case "bin": {
      if (n.op === "&&" || n.op === "||") {
        // false && error == false, true || error == true, in either order.
        const stop = n.op === "||";
        const a = tryBool(n.a, env);
        if (a === stop) return stop;
        const b = tryBool(n.b, env);
        if (b === stop) return stop;
        if (a instanceof CelError) throw a;
        if (b instanceof CelError) throw b;
        return !stop;
      }
      const a = evalNode(n.a, env); const b = evalNode(n.b, env);
      switch (n.op) {
        case "==": return equals(a, b);
        case "!=": return !equals(a, b);
        case "in": if (Array.isArray(b)) return b.some((x) => equals(x, a)); if (isMap(b)) return hasOwn(b, String(a)); throw new CelError(`'in' needs a list or map, got ${kindOf(b)}`);
        case "+":
          if (typeof a === "string" && typeof b === "string") return a + b;
          if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
          return num(a) + num(b);
        case "-": return num(a) - num(b);
        case "*": return num(a) * num(b);
        case "/": if (num(b) === 0) throw new CelError("division by zero"); return Number.isInteger(a) && Number.isInteger(b) ? Math.trunc(num(a) / num(b)) : num(a) / num(b);
        case "%": if (num(b) === 0) throw new CelError("modulus by zero"); return num(a) % num(b);
        default: {
          if (typeof a !== typeof b || (typeof a !== "number" && typeof a !== "string")) throw new CelError(`'${n.op}' needs two numbers or two strings, got ${kindOf(a)} and ${kindOf(b)}`);
          const x = a as number | string; const y = b as number | string;
          return n.op === "<" ? x < y : n.op === "<=" ? x <= y : n.op === ">" ? x > y : x >= y;
        }
      }
    }
    case "call": return call(n, env);
  }
}

function macro(n: Extract<Node, { k: "macro" }>, env: Scope): unknown {
  const target = evalNode(n.o, env);
  const items: unknown[] = Array.isArray(target) ? target : isMap(target) ? Object.keys(target) : (() => { throw new CelError(`${n.m}() needs a list or map, got ${kindOf(target)}`); })();
  const pred = n.args[0];
  const scoped = (x: unknown) => env.bind(n.v, x);
  switch (n.m) {
    case "all": case "exists": {
      // all: any false decides; exists: any true decides; otherwise the first error.
      const decisive = n.m === "exists";
      let err: CelError | undefined;
      for (const x of items) {
        const r = tryBool(pred, scoped(x));
        if (r === decisive) return decisive;
        if (r instanceof CelError) err ??= r;
      }
      if (err) throw err;
      return !decisive;
    }
    case "exists_one": return items.filter((x) => truth(evalNode(pred, scoped(x)))).length === 1;
    case "filter": return items.filter((x) => truth(evalNode(pred, scoped(x))));
    case "map": {
      if (n.args.length === 1) return items.map((x) => evalNode(pred, scoped(x)));
      return items.filter((x) => truth(evalNode(pred, scoped(x)))).map((x) => evalNode(n.args[1], scoped(x)));
    }
  }
}

function call(n: Extract<Node, { k: "call" }>, env: Scope): unknown {
  if (n.f === "has" && !n.o) {
    const sel = n.args[0] as Extract<Node, { k: "sel" }>;
    const o = evalNode(sel.o, env);
    if (o instanceof Optional) return o.present && isMap(o.v) && hasOwn(o.v, sel.f);
    return isMap(o) && hasOwn(o, sel.f);
  }
  if (isOptionalCtor(n)) return n.f === "none" ? new Optional(false) : new Optional(true, evalNode(n.args[0], env));
  const target = n.o ? evalNode(n.o, env) : n.args.length ? evalNode(n.args[0], env) : undefined;
  const a = (n.o ? n.args : n.args.slice(1)).map((x) => evalNode(x, env));
  const int = (v: unknown, what: string) => { if (typeof v !== "number" || !Number.isInteger(v)) throw new CelError(`${n.f}(): ${what} must be an int`); return v; };
  switch (n.f) {
    case "size": return typeof target === "string" ? [...target].length : Array.isArray(target) ? target.length : isMap(target) ? Object.keys(target).length : (() => { throw new CelError(`size() needs a string, list or map, got ${kindOf(target)}`); })();
    case "contains": return str(target, n.f).includes(str(a[0], n.f));
    case "startsWith": return str(target, n.f).startsWith(str(a[0], n.f));
    case "endsWith": return str(target, n.f).endsWith(str(a[0], n.f));
    case "matches": return new RegExp(str(a[0], n.f)).test(str(target, n.f));
    case "lowerAscii": return str(target, n.f).replace(/[A-Z]/g, (c) => c.toLowerCase());
    case "upperAscii": return str(target, n.f).replace(/[a-z]/g, (c) => c.toUpperCase());
    case "trim": return str(target, n.f).trim();
    case "split": return str(target, n.f).split(str(a[0], n.f));
    case "replace": {
      const s = str(target, n.f); const from = str(a[0], n.f); const to = str(a[1], n.f);
      const parts = s.split(from);
      // With a count, only the first `count` occurrences (a negative count: all).
      const count = a.length > 2 ? int(a[2], "the count") : -1;
      return parts.reduce((acc, part, i) => i === 0 ? part : acc + (count < 0 || i <= count ? to : from) + part, "");
    }
    case "substring": {
      const cs = [...str(target, n.f)]; const from = int(a[0], "the start"); const to = a.length > 1 ? int(a[1], "the end") : cs.length;
      if (from < 0 || to > cs.length || from > to) throw new CelError(`substring(${from}, ${to}) out of range for a string of ${cs.length}`);
      return cs.slice(from, to).join("");
    }
    case "indexOf": case "lastIndexOf": {
      const cs = [...str(target, n.f)]; const sub = [...str(a[0], n.f)].join("");
      const s = cs.join("");
      const at = n.f === "indexOf" ? s.indexOf(sub, a.length > 1 ? int(a[1], "the offset") : 0) : s.lastIndexOf(sub);
      return at < 0 ? -1 : [...s.slice(0, at)].length;
    }
    case "charAt": { const cs = [...str(target, n.f)]; const i = int(a[0], "the index"); if (i < 0 || i > cs.length) throw new CelError(`index out of range: ${i}`); return cs[i] ?? ""; }
    case "join": if (!Array.isArray(target)) throw new CelError("join() needs a list"); return target.map((x) => str(x, n.f)).join(a.length ? str(a[0], n.f) : "");
    case "first": case "last": if (!Array.isArray(target)) throw new CelError(`${n.f}() needs a list`);
      return target.length ? new Optional(true, n.f === "first" ? target[0] : target[target.length - 1]) : new Optional(false);
    case "value": if (!(target instanceof Optional)) throw new CelError("value() needs an optional"); if (!target.present) throw new CelError("optional.none() dereference"); return target.v;
    case "hasValue": if (!(target instanceof Optional)) throw new CelError("hasValue() needs an optional"); return target.present;
    case "orValue": if (!(target instanceof Optional)) throw new CelError("orValue() needs an optional"); return target.present ? target.v : a[0];
    case "string": return typeof target === "string" ? target : JSON.stringify(target);
    case "int": { const v = Math.trunc(Number(target)); if (!Number.isFinite(v) || (typeof target === "string" && !/^\s*-?[0-9]+\s*$/.test(target))) throw new CelError(`cannot convert to int: ${String(target)}`); return v; }
    case "double": { const v = Number(target); if (Number.isNaN(v) && target !== "NaN") throw new CelError(`cannot convert to double: ${String(target)}`); return v; }
    case "bool": if (typeof target === "boolean") return target; if (target === "true") return true; if (target === "false") return false; throw new CelError(`cannot convert to bool: ${String(target)}`);
    case "dyn": return target;
    default: throw new CelError(`undeclared function '${n.f}' (not in this controller's CEL subset)`);
  }
}

type Vars = Record<string, unknown>;

/** Compiles a filter expression (`res`, `req`); evaluating it gives a boolean (CelError otherwise). */
export function compileFilter(src: string): (vars: { res: unknown; req: unknown }) => boolean {
  return compileBool(src, ["res", "req"]);
}

/**
 * Compiles an expression over the variables `names` that evaluates to a bool. With
 * `typeChecked`, an expression whose result is not statically a bool is refused at compile
 * time (as Flux compiles readyExpr with a bool output type).
 */
export function compileBool(src: string, names: readonly string[], opts: { typeChecked?: boolean } = {}): (vars: Vars) => boolean {
  const ast = parse(src, names);
  if (opts.typeChecked) {
    const t = typeOf(ast);
    if (t !== "bool") throw new CelError(`CEL expression output type mismatch: expected bool, got ${t}`);
  }
  return (v) => {
    const out = evalNode(ast, new Scope(v));
    if (typeof out !== "boolean") throw new CelError(`the expression must evaluate to a bool, got ${kindOf(out)}`);
    return out;
  };
}

/**
 * Compiles an expression whose variables are the top-level fields of an object (`status`,
 * `metadata`, ...), as Flux evaluates healthCheckExprs; a missing field is an evaluation error.
 */
export function compileObjectBool(src: string): (obj: Vars) => boolean {
  const ast = parse(src, undefined);
  return (obj) => {
    const out = evalNode(ast, new Scope(obj));
    if (typeof out !== "boolean") throw new CelError(`the expression must evaluate to a bool, got ${kindOf(out)}`);
    return out;
  };
}

/**
 * Compiles an expression over `names` that evaluates to a string (Provider
 * `spec.commitStatusExpr`: event, provider, alert); CelError otherwise.
 */
export function compileString(src: string, names: readonly string[]): (vars: Vars) => string {
  const ast = parse(src, names);
  return (v) => {
    const out = evalNode(ast, new Scope(v));
    if (typeof out !== "string") throw new CelError(`the expression must evaluate to a string, got ${kindOf(out)}`);
    return out;
  };
}

/** Compiles an expression over `names`; evaluating it gives its value (Receiver oidcProviders[].variables). */
export function compileValue(src: string, names: readonly string[]): (vars: Vars) => unknown {
  const ast = parse(src, names);
  return (v) => evalNode(ast, new Scope(v));
}
