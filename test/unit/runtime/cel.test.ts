import { expect } from "chai";
import { CelError, compileBool, compileFilter, compileObjectBool, compileString } from "../../../controllers/runtime/cel";
import { HealthStatus, celStatusReader } from "../../../controllers/runtime/health";

const run = (src: string, res: unknown = {}, req: unknown = {}) => compileFilter(src)({ res, req });

describe("CEL subset", function () {
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
    // A macro's variable is in scope in its body only; unknown functions fail at compile time.
    expect(() => compileFilter("res.metadata.labels.all(k, k == 'a') && k == 'a'")).to.throw(CelError, /undeclared reference to 'k'/);
    expect(() => compileFilter("res.metadata.name.reverse() == ''")).to.throw(CelError, /undeclared function 'reverse'/);
    expect(() => compileFilter("res.x.all(e.y, true)")).to.throw(CelError, /first argument must be a simple name/);
    expect(() => compileFilter("res.x.map(e)")).to.throw(CelError, /map\(\) takes 2 or 3 arguments, got 1/);
    expect(() => compileFilter("has(res)")).to.throw(CelError, /has\(\) takes one field selection/);
    expect(() => run("req.missing == 1")).to.throw(CelError, /no such key: missing/);
    expect(() => run("'x'")).to.throw(CelError, /must evaluate to a bool/);
  });

  const conditions = [{ type: "Reconciling", status: "False" }, { type: "Ready", status: "True" }];

  it("evaluates the macros all, exists, exists_one, map and filter over lists and maps", function () {
    const res = { status: { conditions }, metadata: { labels: { a: "1", b: "2" } } };
    expect(run("res.status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'True')", res)).to.equal(true);
    expect(run("res.status.conditions.exists(c, c.type == 'Ready' && c.status == 'False')", res)).to.equal(false);
    expect(run("res.status.conditions.exists_one(c, c.status == 'True')", res)).to.equal(true);
    expect(run("[1, 2, 3].exists_one(x, x > 1)")).to.equal(false);
    expect(run("res.status.conditions.map(c, c.type) == ['Reconciling', 'Ready']", res)).to.equal(true);
    expect(run("[1, 2, 3, 4].map(x, x % 2 == 0, x * 10) == [20, 40]")).to.equal(true);
    expect(run("res.metadata.labels.all(k, k in ['a', 'b']) && res.metadata.labels.map(k, res.metadata.labels[k]) == ['1', '2']", res)).to.equal(true);
    expect(run("[].all(x, false) && ![].exists(x, true) && size([[1], [2, 3]].map(l, l.filter(x, x > 1))) == 2")).to.equal(true);
    // Nested macros, the inner variable shadowing nothing.
    expect(run("[[1, 2], [3]].all(l, l.all(x, x > 0))")).to.equal(true);
  });

  it("is commutative over errors in &&, ||, all and exists, as CEL is", function () {
    expect(run("req.missing == 1 && false")).to.equal(false);
    expect(run("req.missing == 1 || true")).to.equal(true);
    expect(() => run("req.missing == 1 && true")).to.throw(CelError, /no such key: missing/);
    expect(run("[{}, {'a': 1}].exists(m, m.a == 1)")).to.equal(true);
    expect(run("[{}, {'a': 1}].all(m, m.a == 2)")).to.equal(false);
    expect(() => run("[{}, {'a': 2}].all(m, m.a == 2)")).to.throw(CelError, /no such key: a/);
  });

  it("has optional field access, optional constructors and more string functions", function () {
    const res = { metadata: { labels: { app: "web" } } };
    expect(run("res.metadata.?labels.app.orValue('') == 'web' && res.metadata.?annotations.x.orValue('none') == 'none'", res)).to.equal(true);
    expect(run("res.metadata.labels[?'tier'].hasValue() == false && optional.of(1).value() == 1 && !optional.none().hasValue()", res)).to.equal(true);
    expect(run("'a-b-c'.replace('-', '+') == 'a+b+c' && 'a-b-c'.replace('-', '+', 1) == 'a+b-c' && 'héllo'.substring(1, 3) == 'él'")).to.equal(true);
    expect(run("'hello'.indexOf('l') == 2 && 'hello'.lastIndexOf('l') == 3 && 'hello'.charAt(1) == 'e' && int('42') == 42 && bool('true') && double(1) == 1.0")).to.equal(true);
    expect(run("{'b': 1, 'a': [1]}.a == [1] && {'a': 1, 'b': 2} == {'b': 2, 'a': 1} && 'b' in {'b': 1}")).to.equal(true);
    expect(() => run("{'a': 1, 'a': 2}.a == 1")).to.throw(CelError, /duplicate map key: a/);
    expect(run("req == res", { a: 1, b: { c: [1] } }, { b: { c: [1] }, a: 1 }), "maps equal regardless of key order").to.equal(true);
  });

  it("type-checks a bool expression as Flux compiles readyExpr", function () {
    const ready = compileBool("dep.metadata.labels['v'] == self.metadata.labels['v'] && dep.status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'True')", ["self", "dep"], { typeChecked: true });
    const self = { metadata: { labels: { v: "1" } } };
    expect(ready({ self, dep: { metadata: { labels: { v: "1" } }, status: { conditions } } })).to.equal(true);
    expect(ready({ self, dep: { metadata: { labels: { v: "2" } }, status: { conditions } } })).to.equal(false);
    expect(() => compileBool("dep.status.ready", ["self", "dep"], { typeChecked: true })).to.throw(CelError, /output type mismatch: expected bool, got dyn/);
    expect(() => compileBool("'yes'", ["self", "dep"], { typeChecked: true })).to.throw(CelError, /expected bool, got string/);
    expect(() => compileBool("dep.x == 1 && 'a'", ["self", "dep"], { typeChecked: true })).to.throw(CelError, /no matching overload for '&&' applied to 'string'/);
    expect(() => compileBool("other.x == 1", ["self", "dep"], { typeChecked: true })).to.throw(CelError, /undeclared reference to 'other' \(available: self, dep\)/);
    expect(compileString("event.involvedObject.name + '/' + alert.metadata.name", ["event", "alert"])({ event: { involvedObject: { name: "a" } }, alert: { metadata: { name: "b" } } })).to.equal("a/b");
  });

  it("evaluates over an object's top-level fields, missing ones being errors", function () {
    const current = compileObjectBool("status.conditions.filter(e, e.type == 'Synced').all(e, e.status == 'True')");
    expect(current({ status: { conditions: [{ type: "Synced", status: "True" }] } })).to.equal(true);
    expect(() => current({ metadata: {} })).to.throw(CelError, /no such attribute: status/);
    expect(compileObjectBool("has(status.phase) && status.phase == 'Running'")({ status: {} })).to.equal(false);
    // Inherited properties of JavaScript objects are not fields.
    expect(() => compileObjectBool("toString == 1")({})).to.throw(CelError, /no such attribute: toString/);
  });

  it("reads custom status from healthCheckExprs in Flux's order, kind entries before group entries", function () {
    const read = celStatusReader([
      { apiVersion: "bitnami.com/v1alpha1", kind: "SealedSecret", failed: "status.conditions.filter(e, e.type == 'Synced').all(e, e.status == 'False')", current: "status.conditions.filter(e, e.type == 'Synced').all(e, e.status == 'True')" },
      { apiVersion: "bitnami.com/v1", current: "status.phase == 'Done'", inProgress: "status.phase == 'Working'" },
    ])!;
    const ss = (status: unknown, extra = {}) => ({ apiVersion: "bitnami.com/v1alpha1", kind: "SealedSecret", metadata: { generation: 1, ...extra }, status });
    expect(read(ss({ conditions: [{ type: "Synced", status: "True" }] }))?.status).to.equal(HealthStatus.Current);
    expect(read(ss({ conditions: [{ type: "Synced", status: "False" }] }))?.status).to.equal(HealthStatus.Failed);
    expect(read(ss({ observedGeneration: 1, conditions: [{ type: "Synced", status: "Unknown" }] }))?.status).to.equal(HealthStatus.InProgress);
    expect(read(ss({ observedGeneration: 0, conditions: [{ type: "Synced", status: "True" }] }))?.status, "stale observedGeneration").to.equal(HealthStatus.InProgress);
    const noStatus = read({ apiVersion: "bitnami.com/v1alpha1", kind: "SealedSecret", metadata: {} });
    expect(noStatus).to.deep.equal({ status: HealthStatus.Unknown, message: "failed to evaluate the CEL expression 'status.conditions.filter(e, e.type == 'Synced').all(e, e.status == 'False')': no such attribute: status" });
    // The group-only entry covers every other kind of the group, whatever the version.
    expect(read({ apiVersion: "bitnami.com/v2", kind: "Other", status: { phase: "Working" } })?.status).to.equal(HealthStatus.InProgress);
    expect(read({ apiVersion: "bitnami.com/v2", kind: "Other", status: { phase: "Done" } })?.status).to.equal(HealthStatus.Current);
    expect(read({ apiVersion: "apps/v1", kind: "Deployment" }), "not covered: kstatus decides").to.equal(undefined);
    expect(celStatusReader([])).to.equal(undefined);
  });

  it("refuses invalid healthCheckExprs naming the entry", function () {
    expect(() => celStatusReader([{ apiVersion: "a.io/v1", kind: "A", current: "true" }, { apiVersion: "a.io/v2", kind: "A", current: "true" }]))
      .to.throw("duplicate custom health check for GroupKind A.a.io at healthchecks[1]");
    expect(() => celStatusReader([{ apiVersion: "a.io/v1", kind: "A", current: "status.x ==" }]))
      .to.throw("failed to create custom status evaluator for healthchecks[0]: failed to parse the expression Current: failed to parse the CEL expression 'status.x ==': unexpected end of expression");
    expect(() => celStatusReader([{ apiVersion: "a.io/v1", current: "true", failed: "status.x.exists(1, true)" }])).to.throw(/healthchecks\[0\]: failed to parse the expression Failed: .*simple name/);
    expect(() => celStatusReader([{ apiVersion: "a.io/v1", current: "" }])).to.throw("failed to create custom status evaluator for healthchecks[0]: expression Current not specified");
  });
});
