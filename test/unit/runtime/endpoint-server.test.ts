import { expect } from "chai";
import { EndpointServer, createMetrics, parseAddr } from "../../../controllers/runtime";

describe("runtime endpoint server (/metrics, /healthz, /readyz)", function () {
  it("serves metrics and probe results", async function () {
    const metrics = createMetrics({ processMetrics: false });
    metrics.reconcileTotal.inc({ kind: "GitRepository", result: "done" });
    let ready = false;
    const server = new EndpointServer({ addr: "127.0.0.1:0", registry: metrics.registry, readyz: () => ready });
    await server.start();
    try {
      const base = `http://127.0.0.1:${server.port}`;
      const text = await (await fetch(`${base}/metrics`)).text();
      expect(text).to.contain('gotk_reconcile_total{kind="GitRepository",result="done"} 1');
      expect(text).to.contain("# TYPE gotk_reconcile_duration_seconds histogram");
      expect((await fetch(`${base}/healthz`)).status).to.equal(200);
      expect((await fetch(`${base}/readyz`)).status).to.equal(503);
      ready = true;
      expect((await fetch(`${base}/readyz`)).status).to.equal(200);
      expect((await fetch(`${base}/nope`)).status).to.equal(404);
    } finally {
      await server.close();
    }
  });

  it("parses listen addresses", function () {
    expect(parseAddr(":8080")).to.deep.equal({ host: undefined, port: 8080 });
    expect(parseAddr("127.0.0.1:0")).to.deep.equal({ host: "127.0.0.1", port: 0 });
    expect(parseAddr("[::1]:9440")).to.deep.equal({ host: "::1", port: 9440 });
    expect(() => parseAddr(":http")).to.throw(/invalid listen address/);
  });
});
