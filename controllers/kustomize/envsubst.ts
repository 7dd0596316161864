// Bash-style variable expansion of `${...}` expressions, as Flux's post-build substitution
// (fluxcd/pkg envsubst) does it: ${var}, ${var:=default}, ${var:-default}, ${var=default},
// ${var:offset[:length]}, ${var/pattern/repl} (and //, /#, /%), ${var#p}, ${var##p},
// ${var%p}, ${var%%p}, ${#var}, ${var^}, ${var^^}, ${var,}, ${var,,}. `$$` is an escaped `$`
// (so `$${var}` stays `${var}`); a bare `$var` is left alone.

export class EnvsubstError extends Error {
  override readonly name = "EnvsubstError";
}

/** Returns the value and whether the variable is set (non-strict lookups say always set). */
export type Lookup = (name: string) => [string, boolean];

const DEFAULT_OPS = new Set(["-", "+", "=", "?", ":-", ":+", ":=", ":?"]);
const isIdent = (c: string) => /[\p{L}\p{N}_]/u.test(c);

export function envsubst(input: string, lookup: Lookup): string {
  return new Parser(input, lookup).text();
}

class Parser {
  #i = 0;
  constructor(readonly s: string, readonly lookup: Lookup) {}

  /** Top-level text: `$$` escapes a dollar, `${` opens an expression. */
  text(): string {
    let out = "";
    while (this.#i < this.s.length) {
      const c = this.s[this.#i];
      if (c === "$" && this.s[this.#i + 1] === "{") {
        this.#i += 2;
        out += this.expr();
      } else if (c === "$" && this.s[this.#i + 1] === "$") {
        out += "$";
        this.#i += 2;
      } else {
        out += c;
        this.#i += 1;
      }
    }
    return out;
  }

  expr(): string {
    if (this.peek() === "#") {
      this.#i += 1;
      const name = this.ident();
      this.close();
      return String(Buffer.byteLength(this.value(name, "#"), "utf8"));
    }
    const name = this.ident();
    if (!name) throw new EnvsubstError("unable to parse variable name");
    const c = this.peek();
    if (c === ":" && "=-?+".includes(this.s[this.#i + 1] ?? "")) return this.defaultFn(name, `:${this.s[this.#i + 1]}`, 2);
    if (c === "=") return this.defaultFn(name, "=", 1);
    if (c === ":") return this.substr(name);
    if (c === "," || c === "^") return this.casing(name);
    if (c === "/") return this.replace(name);
    if (c === "#" || c === "%") return this.trim(name, c);
    if (c !== "}") throw new EnvsubstError("missing closing brace");
    this.#i += 1;
    return this.value(name, "");
  }

  defaultFn(name: string, op: string, len: number): string {
    this.#i += len;
    let dflt = "";
    while (this.peek() !== "}") {
      if (this.#i >= this.s.length) throw new EnvsubstError("unable to parse substitution within function");
      dflt += this.param((c) => c !== "}", false);
    }
    this.#i += 1;
    const v = this.value(name, op);
    return v === "" ? dflt : v;
  }

  substr(name: string): string {
    this.#i += 1;
    const pos = this.param((c) => c !== ":" && c !== "}", false);
    let len: string | undefined;
    if (this.peek() === ":") {
      this.#i += 1;
      len = this.param((c) => c !== "}", false);
    }
    this.close();
    return substring(this.value(name, ":"), pos, len);
  }

  casing(name: string): string {
    let op = this.s[this.#i++];
    if (this.peek() === op) { op += op; this.#i += 1; }
    this.close();
    const v = this.value(name, op);
    const first = (f: (x: string) => string) => (v ? f(v[0]) + v.slice(1) : v);
    return op === "^^" ? v.toUpperCase() : op === "^" ? first((x) => x.toUpperCase()) : op === ",," ? v.toLowerCase() : first((x) => x.toLowerCase());
  }

  replace(name: string): string {
    this.#i += 1;
    let op = "/";
    if ("/#%".includes(this.peek())) op += this.s[this.#i++];
    const pattern = this.param((c) => c !== "/", true);
    if (this.peek() !== "/") throw new EnvsubstError("bad substitution");
    this.#i += 1;
    const repl = this.peek() === "}" ? undefined : this.param((c) => c !== "}", true);
    this.close();
    const v = this.value(name, op);
    if (op === "/#") return repl !== undefined && v.startsWith(pattern) ? repl + v.slice(pattern.length) : v;
    if (op === "/%") return repl !== undefined && v.endsWith(pattern) ? v.slice(0, v.length - pattern.length) + repl : v;
    if (!pattern) return v;
    return op === "//" ? v.split(pattern).join(repl ?? "") : v.replace(pattern, () => repl ?? "");
  }

  trim(name: string, c: string): string {
    let op = this.s[this.#i++];
    if (this.peek() === c) { op += c; this.#i += 1; }
    const pattern = this.param((x) => x !== "}", false);
    this.close();
    const v = this.value(name, op);
    const re = globToRegExp(pattern);
    const fromStart = c === "#";
    const longest = op.length === 2;
    const cands = [...Array(v.length + 1).keys()];
    const order = longest ? cands.reverse() : cands;
    for (const n of order) {
      if (n === 0) continue;
      const piece = fromStart ? v.slice(0, n) : v.slice(v.length - n);
      if (re.test(piece)) return fromStart ? v.slice(n) : v.slice(0, v.length - n);
    }
    return v;
  }

  /** Text up to a stop character, or one nested `${...}`; `\/`, `\\` and `$$` escape. */
  param(accept: (c: string) => boolean, backslash: boolean): string {
    if (this.s.startsWith("${", this.#i)) {
      this.#i += 2;
      return this.expr();
    }
    let out = "";
    while (this.#i < this.s.length) {
      const c = this.s[this.#i];
      if (c === "$" && this.s[this.#i + 1] === "{") break;
      if (c === "$" && this.s[this.#i + 1] === "$") { out += "$"; this.#i += 2; continue; }
      if (backslash && c === "\\" && (this.s[this.#i + 1] === "/" || this.s[this.#i + 1] === "\\")) { out += this.s[this.#i + 1]; this.#i += 2; continue; }
      if (!accept(c)) break;
      out += c;
      this.#i += 1;
    }
    return out;
  }

  ident(): string {
    const start = this.#i;
    while (this.#i < this.s.length && isIdent(this.s[this.#i])) this.#i += 1;
    return this.s.slice(start, this.#i);
  }

  close(): void {
    if (this.peek() !== "}") throw new EnvsubstError("bad substitution");
    this.#i += 1;
  }

  peek(): string { return this.s[this.#i] ?? ""; }

  value(name: string, op: string): string {
    const [v, set] = this.lookup(name);
    if (!set && !DEFAULT_OPS.has(op)) throw new EnvsubstError(`variable not set (strict mode): "${name}"`);
    return v;
  }
}

function substring(v: string, posText: string, lenText?: string): string {
  let pos = /^[-+]?\d+$/.test(posText) ? Number(posText) : NaN;
  if (Number.isNaN(pos)) return v;
  if (pos < 0) pos = Math.max(0, v.length + pos);
  if (lenText === undefined) return pos < v.length ? v.slice(pos) : "";
  const len = /^[-+]?\d+$/.test(lenText) ? Number(lenText) : NaN;
  if (Number.isNaN(len)) return v;
  if (len < 0) {
    const end = v.length + len;
    return end < pos ? "" : v.slice(pos, end);
  }
  return pos + len >= v.length ? (pos < v.length ? v.slice(pos) : "") : v.slice(pos, pos + len);
}

/** Shell glob (`*`, `?`, `[...]`) to an anchored RegExp. */
function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end < 0) { re += "\\["; continue; }
      re += `[${glob.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\")}]`;
      i = end;
    } else if (c === "\\" && i + 1 < glob.length) re += `\\${glob[++i]}`;
    else re += c.replace(/[.+^${}()|\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`, "s");
}
