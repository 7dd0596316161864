// A small subset of CEL (cel.dev), enough for Receiver `resourceFilter` / `resources[].filter`
// expressions as Flux documents them (`res`: the object's metadata, `req`: the JSON body) and
// Provider `spec.commitStatusExpr` (`event`, `provider`, `alert`; evaluates to a string).
// Supported: string/int/double/bool/null literals, lists, field access (`a.b`), indexing
// (`a['k']`, `a[0]`), `has(a.b)`, `!`, unary `-`, `* / %`, `+ -` (numbers, strings, lists),
// comparisons, `in`, `&&`, `||`, `? :`, and the functions `size`, `contains`, `startsWith`,
// `endsWith`, `matches`, `lowerAscii`, `upperAscii`, `split`, `join`, `trim`, `first`/`last`
// (optionals, read with `.value()`/`.hasValue()`/`.orValue(x)`), `string`, `int`.
// Not supported: macros (all, exists, map, filter), timestamps, durations, bytes, type checks.

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
    if (/[0-9]/.test(c)) { const m = /^[0-9]+(\.[0-9]+)?/.exec(src.slice(i))!; out.push({ t: "num", v: m[0] }); i += m[0].length; continue; }
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
    if ("+-*/%<>!?:.,()[]".includes(c)) { out.push({ t: "op", v: c }); i++; continue; }
    throw new CelError(`unexpected character '${c}' at ${i}`);
  }
  return out;
}

type Node =
  | { k: "lit"; v: unknown } | { k: "id"; n: string } | { k: "list"; items: Node[] }
  | { k: "sel"; o: Node; f: string } | { k: "idx"; o: Node; i: Node } | { k: "call"; o?: Node; f: string; args: Node[] }
  | { k: "un"; op: string; a: Node } | { k: "bin"; op: string; a: Node; b: Node } | { k: "cond"; c: Node; a: Node; b: Node };

const prec: Record<string, number> = { "||": 1, "&&": 2, "==": 3, "!=": 3, "<": 3, "<=": 3, ">": 3, ">=": 3, in: 3, "+": 4, "-": 4, "*": 5, "/": 5, "%": 5 };

/** Parses `src`; CelError on a syntax error. */
export function parseCel(src: string, names: readonly string[] = ["res", "req"]): Node {
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
        const t = toks[p++];
        if (!t || t.t !== "id") throw new CelError("expected a field or method name after '.'");
        n = isOp("(") ? { k: "call", o: n, f: t.v, args: args() } : { k: "sel", o: n, f: t.v };
      } else if (isOp("[")) { p++; const i = expr(); expect("]"); n = { k: "idx", o: n, i }; } else return n;
    }
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
    throw new CelError(`unexpected '${t.v}'`);
  };
  const n = expr();
  if (p < toks.length) throw new CelError(`unexpected '${toks[p].v}'`);
  checkVars(n, new Set(names));
  return n;
}

function checkVars(n: Node, vars: ReadonlySet<string>): void {
  const check = (x: Node) => checkVars(x, vars);
  switch (n.k) {
    case "id": if (!vars.has(n.n)) throw new CelError(`undeclared reference to '${n.n}' (available: ${[...vars].join(", ")})`); return;
    case "list": n.items.forEach(check); return;
    case "sel": check(n.o); return;
    case "idx": check(n.o); check(n.i); return;
    case "call": if (n.f === "has") { if (n.args.length !== 1 || n.args[0].k !== "sel") throw new CelError("has() takes one field selection"); check(n.args[0].o); return; }
      if (n.o) check(n.o); n.args.forEach(check); return;
    case "un": check(n.a); return;
    case "bin": check(n.a); check(n.b); return;
    case "cond": check(n.c); check(n.a); check(n.b); return;
    default: return;
  }
}

class Optional { constructor(readonly present: boolean, readonly v?: unknown) {} }

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Optional);

function field(o: unknown, f: string | number): unknown {
  if (Array.isArray(o) && typeof f === "number") {
    if (f < 0 || f >= o.length) throw new CelError(`index out of range: ${f}`);
    return o[f];
  }
  if (isMap(o) && Object.prototype.hasOwnProperty.call(o, String(f))) return o[String(f)];
  throw new CelError(`no such key: ${f}`);
}

function str(v: unknown, f: string): string {
  if (typeof v !== "string") throw new CelError(`${f}() needs a string, got ${v === null ? "null" : typeof v}`);
  return v;
}

function evalNode(n: Node, env: Record<string, unknown>): unknown {
  switch (n.k) {
    case "lit": return n.v;
    case "id": return env[n.n];
    case "list": return n.items.map((x) => evalNode(x, env));
    case "sel": return field(evalNode(n.o, env), n.f);
    case "idx": return field(evalNode(n.o, env), evalNode(n.i, env) as string | number);
    case "cond": return truth(evalNode(n.c, env)) ? evalNode(n.a, env) : evalNode(n.b, env);
    case "un": {
      const a = evalNode(n.a, env);
      if (n.op === "!") return !truth(a);
      if (typeof a !== "number") throw new CelError("unary '-' needs a number");
      return -a;
    }
    case "bin": {
      if (n.op === "&&") return truth(evalNode(n.a, env)) && truth(evalNode(n.b, env));
      if (n.op === "||") return truth(evalNode(n.a, env)) || truth(evalNode(n.b, env));
      const a = evalNode(n.a, env); const b = evalNode(n.b, env);
      switch (n.op) {
        case "==": return JSON.stringify(a) === JSON.stringify(b);
        case "!=": return JSON.stringify(a) !== JSON.stringify(b);
        case "in": if (Array.isArray(b)) return b.some((x) => JSON.stringify(x) === JSON.stringify(a)); if (isMap(b)) return Object.prototype.hasOwnProperty.call(b, String(a)); throw new CelError("'in' needs a list or map");
        case "+":
          if (typeof a === "string" && typeof b === "string") return a + b;
          if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
          return num(a) + num(b);
        case "-": return num(a) - num(b);
        case "*": return num(a) * num(b);
        case "/": if (num(b) === 0) throw new CelError("division by zero"); return Number.isInteger(a) && Number.isInteger(b) ? Math.trunc(num(a) / num(b)) : num(a) / num(b);
        case "%": return num(a) % num(b);
        default: {
          if (typeof a !== typeof b || (typeof a !== "number" && typeof a !== "string")) throw new CelError(`'${n.op}' needs two numbers or two strings`);
          const x = a as number | string; const y = b as number | string;
          return n.op === "<" ? x < y : n.op === "<=" ? x <= y : n.op === ">" ? x > y : x >= y;
        }
      }
    }
    case "call": return call(n, env);
  }
}

const num = (v: unknown): number => { if (typeof v !== "number") throw new CelError(`expected a number, got ${typeof v}`); return v; };
const truth = (v: unknown): boolean => { if (typeof v !== "boolean") throw new CelError(`expected a bool, got ${v === null ? "null" : typeof v}`); return v; };

function call(n: Extract<Node, { k: "call" }>, env: Record<string, unknown>): unknown {
  if (n.f === "has") {
    const sel = n.args[0] as Extract<Node, { k: "sel" }>;
    const o = evalNode(sel.o, env);
    return isMap(o) && Object.prototype.hasOwnProperty.call(o, sel.f);
  }
  const target = n.o ? evalNode(n.o, env) : evalNode(n.args[0], env);
  const a = (n.o ? n.args : n.args.slice(1)).map((x) => evalNode(x, env));
  switch (n.f) {
    case "size": return typeof target === "string" ? [...target].length : Array.isArray(target) ? target.length : isMap(target) ? Object.keys(target).length : (() => { throw new CelError("size() needs a string, list or map"); })();
    case "contains": return str(target, n.f).includes(str(a[0], n.f));
    case "startsWith": return str(target, n.f).startsWith(str(a[0], n.f));
    case "endsWith": return str(target, n.f).endsWith(str(a[0], n.f));
    case "matches": return new RegExp(str(a[0], n.f)).test(str(target, n.f));
    case "lowerAscii": return str(target, n.f).replace(/[A-Z]/g, (c) => c.toLowerCase());
    case "upperAscii": return str(target, n.f).replace(/[a-z]/g, (c) => c.toUpperCase());
    case "trim": return str(target, n.f).trim();
    case "split": return str(target, n.f).split(str(a[0], n.f));
    case "join": if (!Array.isArray(target)) throw new CelError("join() needs a list"); return target.map((x) => str(x, n.f)).join(a.length ? str(a[0], n.f) : "");
    case "first": case "last": if (!Array.isArray(target)) throw new CelError(`${n.f}() needs a list`);
      return target.length ? new Optional(true, n.f === "first" ? target[0] : target[target.length - 1]) : new Optional(false);
    case "value": if (!(target instanceof Optional)) throw new CelError("value() needs an optional"); if (!target.present) throw new CelError("optional.none() dereference"); return target.v;
    case "hasValue": if (!(target instanceof Optional)) throw new CelError("hasValue() needs an optional"); return target.present;
    case "orValue": if (!(target instanceof Optional)) throw new CelError("orValue() needs an optional"); return target.present ? target.v : a[0];
    case "string": return typeof target === "string" ? target : JSON.stringify(target);
    case "int": { const v = Math.trunc(Number(target)); if (!Number.isFinite(v)) throw new CelError(`cannot convert to int: ${String(target)}`); return v; }
    default: throw new CelError(`undeclared function '${n.f}' (not in this notification-controller's CEL subset)`);
  }
}

/** Compiles a filter expression; evaluating it gives a boolean (CelError otherwise). */
export function compileFilter(src: string): (vars: { res: unknown; req: unknown }) => boolean {
  const ast = parseCel(src);
  return (v) => {
    const out = evalNode(ast, v);
    if (typeof out !== "boolean") throw new CelError(`the expression must evaluate to a bool, got ${out === null ? "null" : typeof out}`);
    return out;
  };
}

/**
 * Compiles an expression over `names` that evaluates to a string (Provider
 * `spec.commitStatusExpr`: event, provider, alert); CelError otherwise.
 */
export function compileString(src: string, names: readonly string[]): (vars: Record<string, unknown>) => string {
  const ast = parseCel(src, names);
  return (v) => {
    const out = evalNode(ast, v);
    if (typeof out !== "string") throw new CelError(`the expression must evaluate to a string, got ${out === null ? "null" : Array.isArray(out) ? "list" : typeof out}`);
    return out;
  };
}

/** Compiles an expression over `names` that evaluates to a bool (CelError otherwise). */
export function compileBool(src: string, names: readonly string[]): (vars: Record<string, unknown>) => boolean {
  const ast = parseCel(src, names);
  return (v) => {
    const out = evalNode(ast, v);
    if (typeof out !== "boolean") throw new CelError(`the expression must evaluate to a bool, got ${out === null ? "null" : typeof out}`);
    return out;
  };
}

/** Compiles an expression over `names`; evaluating it gives its value (Receiver oidcProviders[].variables). */
export function compileValue(src: string, names: readonly string[]): (vars: Record<string, unknown>) => unknown {
  const ast = parseCel(src, names);
  return (v) => evalNode(ast, v);
}
