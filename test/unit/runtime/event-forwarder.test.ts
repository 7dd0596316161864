// The event forwarder against a real HTTP server on loopback: which answers are retried, and that
// a refused event is logged (with the server's answer) rather than dropped silently.
import { expect } from "chai";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { EventForwarder } from "../../../controllers/runtime/event-forwarder";
import { createLogger } from "../../../controllers/runtime/logger";

const kustomization = {
  apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization",
  metadata: { name: "app", namespace: "flux-system", uid: "u1", annotations: { "event.toolkit.fluxcd.io/env": "prod" } },
};

/** A server answering each POST with the next status of `answers` (the last one repeats). */
async function server(answers: number[]) {
  const bodies: unknown[] = [];
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      res.statusCode = answers[Math.min(bodies.length - 1, answers.length - 1)];
      res.end(res.statusCode >= 400 ? "involvedObject.kind is required" : "");
    });
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/`, bodies, close: () => new Promise((r) => srv.close(r)) };
}

function recordingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ destination: { write: (s: string) => { lines.push(JSON.parse(s)); } } });
  return { logger, lines };
}

describe("event forwarder", function () {
  it("posts Flux's event/v1 payload with the object's event metadata annotations", async function () {
    const s = await server([202]);
    try {
      const f = new EventForwarder({ address: s.url, reportingController: "kustomize-controller", reportingInstance: "pod-1" });
      f.forward(kustomization, "Normal", "ReconciliationSucceeded", "Applied revision: main@sha1:abc", { "kustomize.toolkit.fluxcd.io/revision": "main@sha1:abc" });
      await f.flush();
      expect(s.bodies).to.have.length(1);
      const ev = s.bodies[0] as Record<string, unknown>;
      expect(ev).to.include({ severity: "info", reason: "ReconciliationSucceeded", message: "Applied revision: main@sha1:abc", reportingController: "kustomize-controller", reportingInstance: "pod-1" });
      expect(ev.involvedObject).to.deep.include({ kind: "Kustomization", namespace: "flux-system", name: "app", apiVersion: "kustomize.toolkit.fluxcd.io/v1" });
      expect(ev.metadata).to.deep.equal({ "kustomize.toolkit.fluxcd.io/revision": "main@sha1:abc", "event.toolkit.fluxcd.io/env": "prod" });
    } finally { await s.close(); }
  });

  it("retries a 5xx, and logs a 4xx refusal with the server's answer without retrying", async function () {
    const retried = await server([503, 202]);
    const refused = await server([400]);
    const { logger, lines } = recordingLogger();
    try {
      const a = new EventForwarder({ address: retried.url, reportingController: "x", retryBaseMs: 10, logger });
      a.forward(kustomization, "Warning", "BuildFailed", "kustomize build failed", {});
      await a.flush();
      expect(retried.bodies).to.have.length(2);

      const b = new EventForwarder({ address: refused.url, reportingController: "x", retryBaseMs: 10, logger });
      b.forward(kustomization, "Warning", "BuildFailed", "kustomize build failed", {});
      await b.flush();
      expect(refused.bodies).to.have.length(1);
      const warn = lines.find((l) => l.msg === "unable to record event");
      expect(warn, JSON.stringify(lines)).to.not.equal(undefined);
      expect(JSON.stringify(warn)).to.contain("400").and.to.contain("involvedObject.kind is required");
    } finally { await Promise.all([retried.close(), refused.close()]); }
  });

  it("does not retry a 429 (a duplicate within notification-controller's rate-limit window)", async function () {
    const s = await server([429, 202]);
    const { logger, lines } = recordingLogger();
    try {
      const f = new EventForwarder({ address: s.url, reportingController: "x", retryBaseMs: 10, logger });
      f.forward(kustomization, "Normal", "ReconciliationSucceeded", "ok", {});
      await f.flush();
      expect(s.bodies).to.have.length(1);
      expect(lines.filter((l) => l.msg === "unable to record event")).to.have.length(0);
    } finally { await s.close(); }
  });
});
