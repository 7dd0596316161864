import { expect } from "chai";
import { controllerLogger, createLogger, objectLogger, parseLogLevel } from "../../../controllers/runtime";

function capture(level?: string) {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({ level, destination: { write: (s: string) => { lines.push(JSON.parse(s) as Record<string, unknown>); } } });
  return { log, lines };
}

describe("runtime logger: Flux-shaped JSON lines", function () {
  it("writes level as a label, ts as RFC 3339, msg, and controller and object fields", function () {
    const { log, lines } = capture();
    const obj = objectLogger(controllerLogger(log, "gitrepository", "source.toolkit.fluxcd.io", "GitRepository"),
      "GitRepository", { namespace: "flux-system", name: "podinfo" }, "id-1");
    obj.info({ revision: "main@sha1:abc" }, "stored artifact");
    expect(lines).to.have.length(1);
    const l = lines[0];
    expect(l).to.deep.include({
      level: "info", msg: "stored artifact", controller: "gitrepository", controllerGroup: "source.toolkit.fluxcd.io",
      controllerKind: "GitRepository", name: "podinfo", namespace: "flux-system", reconcileID: "id-1", revision: "main@sha1:abc",
    });
    expect(l.GitRepository).to.deep.equal({ name: "podinfo", namespace: "flux-system" });
    expect(l.ts).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it("honours --log-level and serialises errors under 'error'", function () {
    const { log, lines } = capture("error");
    log.info("hidden");
    log.error({ error: new Error("boom") }, "failed");
    expect(lines.map((l) => l.msg)).to.deep.equal(["failed"]);
    expect((lines[0].error as { message: string }).message).to.equal("boom");
    expect(() => parseLogLevel("verbose")).to.throw(/unknown level/);
  });
});
