import { expect } from "chai";
import { CelError, compileFilter } from "../../../controllers/notification/cel";

const run = (src: string, res: unknown = {}, req: unknown = {}) => compileFilter(src)({ res, req });

describe("notification CEL subset", function () {
  it("evaluates the expressions Flux's Receiver docs show", function () {
    const res = { metadata: { name: "hello-world", annotations: { "update-image": "hello-world" }, labels: { environment: "production" } } };
    const req = { tag: "us-east1-docker.pkg.dev/my-project/my-repo/hello-world:1.1" };
    expect(run("req.tag.contains(res.metadata.name)", res, req)).to.equal(true);
    expect(run(`has(res.metadata.annotations) && req.tag.split('/').last().value().split(":").first().value() == res.metadata.annotations['update-image']`, res, req)).to.equal(true);
    expect(run("res.metadata.labels['environment'] == 'production'", res)).to.equal(true);
    expect(run("has(res.metadata.labels) && !has(res.metadata.finalizers)", res)).to.equal(true);
  });

  it("has operators with CEL precedence, lists, in, ternaries and string functions", function () {
    expect(run("1 + 2 * 3 == 7 && 7 / 2 == 3 && -1 < 0")).to.equal(true);
    expect(run("'a' in ['a', 'b'] && size([1, 2]) == 2 && size('héllo') == 5")).to.equal(true);
    expect(run("(true ? 'x' : 'y').upperAscii() == 'X' && 'Abc'.lowerAscii().startsWith('ab') && 'a.b'.matches('^a\\\\.b$')")).to.equal(true);
    expect(run("[].first().hasValue() == false && [].first().orValue(3) == 3")).to.equal(true);
  });

  it("rejects what it cannot parse or evaluate", function () {
    expect(() => compileFilter("res.metadata.name ==")).to.throw(CelError, /unexpected end of expression/);
    expect(() => compileFilter("claims.x == 1")).to.throw(CelError, /undeclared reference to 'claims'/);
    // Macros are not in the subset: their variables are undeclared, unknown functions fail at evaluation.
    expect(() => compileFilter("res.metadata.labels.all(k, k == 'a')")).to.throw(CelError, /undeclared reference to 'k'/);
    expect(() => run("res.metadata.name.reverse() == ''", { metadata: { name: "a" } })).to.throw(CelError, /undeclared function 'reverse'/);
    expect(() => run("req.missing == 1")).to.throw(CelError, /no such key: missing/);
    expect(() => run("'x'")).to.throw(CelError, /must evaluate to a bool/);
  });
});
