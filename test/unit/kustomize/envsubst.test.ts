import { expect } from "chai";
import { EnvsubstError, envsubst } from "../../../controllers/kustomize/envsubst";
import { SubstituteError, substitute } from "../../../controllers/kustomize/post-build";

const vars: Record<string, string> = { name: "podinfo", region: "eu-central-1", empty: "", path: "a/b/c.tar.gz", n: "3" };
const lenient = (s: string) => envsubst(s, (k) => [vars[k] ?? "", true]);
const strict = (s: string) => envsubst(s, (k) => [vars[k] ?? "", k in vars]);

describe("kustomize: post-build envsubst", function () {
  it("substitutes ${var} and leaves $var alone", () => {
    expect(lenient("name: ${name}, plain: $name")).to.equal("name: podinfo, plain: $name");
  });

  it("turns $$ into $, so $${var} stays a literal ${var}", () => {
    expect(lenient("keep: $${name} and $$HOME")).to.equal("keep: ${name} and $HOME");
  });

  it("applies defaults with := and :- when unset or empty, = only when unset", () => {
    expect(lenient("${missing:=dev} ${empty:-x} ${name:=other}")).to.equal("dev x podinfo");
    expect(strict("${missing=dflt}")).to.equal("dflt");
    expect(lenient("${missing:=${name}-fallback}")).to.equal("podinfo-fallback");
  });

  it("supports substrings, replacement, trimming, length and case", () => {
    expect(lenient("${region:3} ${region:0:2} ${region:-1}")).to.equal("central-1 eu eu-central-1");
    expect(lenient("${region/-/_} ${region//-/_} ${region/#eu/us} ${region/%1/2}")).to.equal("eu_central-1 eu_central_1 us-central-1 eu-central-2");
    expect(lenient("${path#*/} ${path##*/} ${path%.*} ${path%%.*}")).to.equal("b/c.tar.gz c.tar.gz a/b/c.tar a/b/c");
    expect(lenient("${#name} ${name^} ${name^^} ${name,}")).to.equal("7 Podinfo PODINFO podinfo");
  });

  it("replaces unset variables with nothing, or fails in strict mode naming the variable", () => {
    expect(lenient("x=${nope}")).to.equal("x=");
    expect(() => strict("x=${nope}")).to.throw(EnvsubstError, 'variable not set (strict mode): "nope"');
  });

  it("rejects malformed expressions", () => {
    expect(() => lenient("${name")).to.throw(EnvsubstError, "missing closing brace");
    expect(() => lenient("${}")).to.throw(EnvsubstError, "unable to parse variable name");
  });

  it("validates variable names and wraps errors as Flux words them", () => {
    expect(() => substitute("a: ${x}", { "bad-name": "1" }, false)).to.throw(SubstituteError, "'bad-name' var name is invalid");
    expect(() => substitute("a: ${x}", {}, true)).to.throw(SubstituteError, 'envsubst error: variable substitution failed: variable not set (strict mode): "x"');
  });
});
