// Property-based bad input for the parsers the reconcilers call on spec fields: whatever the
// text, each either answers or throws its own validation error (which the reconciler turns
// into Ready=False with that message), never a TypeError, a RangeError or a stack overflow.
// GITOPS_PROPERTY_RUNS and GITOPS_PROPERTY_SEED as in crd-inputs.test.ts.
import { expect } from "chai";
import fc from "fast-check";
import { parseDuration } from "../../controllers/runtime/duration";
import { MAX_TIMER_MS, systemClock } from "../../controllers/runtime/clock";
import { CelError, compileBool, compileObjectBool } from "../../controllers/runtime/cel";
import { SemverRangeError, latestMatching, validateRange } from "../../controllers/source/oci/oci-semver";
import { GitError, latestSemverTag } from "../../controllers/source/git/client";
import { ChartReferenceError, chartVersion } from "../../controllers/source/helm/helm-index";
import { filterFiles } from "../../controllers/source/ignore";
import { EnvsubstError, envsubst } from "../../controllers/kustomize/envsubst";
import { fcParams } from "./support";

const digits = fc.oneof(fc.nat().map(String), fc.bigInt({ min: 0n, max: 10n ** 40n }).map(String), fc.constantFrom("0", "1.5", ".5", "5."));
const durationText = fc.oneof(fc.string(), fc.array(fc.tuple(digits, fc.constantFrom("ns", "us", "µs", "ms", "s", "m", "h", "d", "")), { minLength: 1, maxLength: 4 })
  .map((a) => a.map(([n, u]) => n + u).join("")), fc.constantFrom("0", "-1s", "+1s", "", " ", "1e3s", "NaNs", "Infinityh"));
const rangeText = fc.oneof(fc.string(), fc.array(fc.oneof(fc.constantFrom(">=", "<", "~", "^", "=", "!=", "||", ",", " - ", "x", "*", "v", "-rc.1", "+b", ".", " "), digits),
  { minLength: 1, maxLength: 10 }).map((a) => a.join("")));
const versions = fc.array(fc.oneof(fc.string({ maxLength: 12 }), fc.tuple(fc.nat(20), fc.nat(20), fc.nat(20)).map(([a, b, c]) => `${a}.${b}.${c}`), fc.constantFrom("v1.0.0", "1.0.0-rc.1", "1.2")), { maxLength: 6 });
const celText = fc.oneof(fc.string(), fc.array(fc.constantFrom("self", "dep", "status", "data", ".", "==", "!=", "&&", "||", "!", "(", ")", "[", "]", "?", ":", "'x'", "1", "1.5",
  "true", "null", "has(", "size(", "exists(", "e", ",", "+", "-", "*", "/", "%", "in", "\"", "conditions", "filter(", "map(", "all(", "int(", "9223372036854775807", "1e999", "{", "}"),
{ minLength: 1, maxLength: 16 }).map((a) => a.join(" ")));

/** Runs `f`; an exception must be one of `allowed` (the validation errors a reconciler reports). */
function answersOrRefuses(f: () => unknown, ...allowed: Array<new (...a: never[]) => Error>): void {
  try { f(); } catch (e) {
    if (!allowed.some((A) => e instanceof A)) throw new Error(`threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`, { cause: e });
  }
}

export const pureTally = { inputs: 0 };

describe("property: spec-field parsers never throw anything but their validation error", () => {
  after(() => console.log(`[property] pure parsers: ${pureTally.inputs} inputs tried, 0 unexpected exceptions`));
  const count = <T extends unknown[]>(f: (...a: T) => void) => (...a: T) => { pureTally.inputs++; f(...a); };

  it("parseDuration: a finite number of ms within Go's range, or 'invalid duration'", () => {
    fc.assert(fc.property(durationText, count((s) => {
      let ms: number;
      try { ms = parseDuration(s); } catch (e) {
        expect((e as Error).message).to.match(/^invalid duration/);
        return;
      }
      expect(Number.isFinite(ms), `${s} -> ${ms}`).to.equal(true);
      expect(Math.abs(ms)).to.be.at.most(9_223_372_036_855);
    })), fcParams(2000));
  });

  it("systemClock: a delay past Node's 2^31-1 ms timer limit does not fire early (nor warn)", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on("warning", onWarning);
    let fired = 0;
    const cancels = [MAX_TIMER_MS + 1, 720 * 3_600_000, 9_223_372_036_854, Infinity].map((ms) => systemClock.setTimer(() => fired++, ms));
    await new Promise((r) => setTimeout(r, 100));
    cancels.forEach((c) => c());
    process.off("warning", onWarning);
    expect(fired, "timers fired at once").to.equal(0);
    expect(warnings).to.not.include("TimeoutOverflowWarning");
  });

  it("semver ranges (OCI tags, Helm chart versions, git tags): a match, none, or the range's parse error", () => {
    fc.assert(fc.property(rangeText, versions, count((r, vs) => {
      answersOrRefuses(() => validateRange(r), SemverRangeError);
      answersOrRefuses(() => latestMatching(vs, r, (v) => v), SemverRangeError);
      answersOrRefuses(() => latestSemverTag(vs, r), GitError);
      answersOrRefuses(() => chartVersion({ apiVersion: "v1", entries: { app: vs.map((version) => ({ name: "app", version, urls: [] })) } } as never, "app", r), ChartReferenceError);
    })), fcParams(1000));
  });

  it("ignore globs (spec.ignore, .sourceignore): a file list, never an exception", () => {
    const files = ["a.yaml", "app/b.yaml", "app/.sourceignore", ".git/config", "deep/x/y.json", "ü.yaml", "[x].yaml"];
    const globText = fc.array(fc.oneof(fc.string(), fc.array(fc.constantFrom("*", "**", "?", "!", "/", "[a-z]", "[!", "\\", "#", " ", "app", ".yaml", ".."), { minLength: 1, maxLength: 5 })
      .map((a) => a.join(""))), { maxLength: 5 }).map((a) => a.join("\n"));
    fc.assert(fc.property(globText, globText, count((spec, sourceignore) => {
      const out = filterFiles(files, () => sourceignore, spec);
      expect(out.every((f) => files.includes(f))).to.equal(true);
    })), fcParams(1000));
  });

  it("CEL (healthCheckExprs, readyExpr): compiles and evaluates to a value, or a CelError", () => {
    const obj = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" }, data: { v: "1" }, status: { conditions: [{ type: "Ready", status: "True" }] } };
    fc.assert(fc.property(celText, count((src) => {
      answersOrRefuses(() => compileObjectBool(src)(obj), CelError);
      answersOrRefuses(() => compileBool(src, ["self", "dep"], { typeChecked: true })({ self: obj, dep: obj }), CelError);
    })), fcParams(2000));
  });

  it("postBuild substitution (envsubst): text, or an EnvsubstError", () => {
    const tmpl = fc.array(fc.oneof(fc.string(), fc.constantFrom("${", "}", "$", "$$", "${v}", "${v:=d}", "${v:-", "${#v}", "${v:1:2}", "${v/a/b}", "${v^^}", "${v%%x}", ":", "-", "=")), { maxLength: 8 })
      .map((a) => a.join(""));
    fc.assert(fc.property(tmpl, fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 8 })), count((t, vars) => {
      answersOrRefuses(() => envsubst(t, (n) => (Object.hasOwn(vars, n) ? [vars[n], true] : ["", false])), EnvsubstError);
    })), fcParams(2000));
  });
});
