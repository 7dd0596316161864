import { expect } from "chai";
import { createHmac } from "node:crypto";
import { eventHubTarget, parseSentryDsn, sasToken } from "../../../controllers/notification/alerting";
import { telegramEscape } from "../../../controllers/notification/chat";
import { commitState, commitStatusId, parseRevision } from "../../../controllers/notification/commit-status";
import type { FluxEvent } from "../../../controllers/notification/event";
import type { NotifierConfig } from "../../../controllers/notification/provider-config";

const ev = (over: Partial<FluxEvent> = {}): FluxEvent => ({
  involvedObject: { kind: "Kustomization", namespace: "flux-system", name: "Apps" }, severity: "info", timestamp: "", message: "m",
  reason: "ReconciliationSucceeded", reportingController: "kustomize-controller", ...over,
});

describe("notification payload logic", function () {
  it("parses the commit SHA out of Flux revisions, old and new formats", function () {
    expect(parseRevision("main@sha1:0123456789abcdef0123456789abcdef01234567")).to.equal("0123456789abcdef0123456789abcdef01234567");
    expect(parseRevision("sha1:abcdef0")).to.equal("abcdef0");
    expect(parseRevision("main/abcdef0123")).to.equal("abcdef0123");
    expect(parseRevision("feature/x@sha256:" + "a".repeat(64))).to.equal("a".repeat(64));
    expect(() => parseRevision("v1.2.3")).to.throw(/names no commit SHA/);
  });

  it("derives the status ID <kind>/<name>/<UID prefix>, lowercase, and the state", function () {
    expect(commitStatusId("0c9c2e41-aaaa-bbbb", ev())).to.equal("kustomization/apps/0c9c2e41");
    expect(commitState(ev())).to.equal("success");
    expect(commitState(ev({ severity: "error" }))).to.equal("failure");
    expect(commitState(ev({ reason: "Progressing" }))).to.equal("pending");
  });

  it("signs Event Hubs SAS tokens over the encoded URI and expiry", function () {
    const t = sasToken("https://ns.servicebus.windows.net/hub", "send", "key", 1000);
    const sr = encodeURIComponent("https://ns.servicebus.windows.net/hub");
    const sig = encodeURIComponent(createHmac("sha256", "key").update(`${sr}\n1000`).digest("base64"));
    expect(t).to.equal(`SharedAccessSignature sr=${sr}&sig=${sig}&se=1000&skn=send`);
    const cfg = { rawAddress: "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=key;EntityPath=hub" } as NotifierConfig;
    expect(eventHubTarget(cfg, 0).url.href).to.equal("https://ns.servicebus.windows.net/hub/messages");
    const jwt = { rawAddress: "hub", channel: "ns", token: "jwt" } as NotifierConfig;
    expect(eventHubTarget(jwt)).to.deep.equal({ url: new URL("https://ns.servicebus.windows.net/hub/messages"), auth: "Bearer jwt" });
  });

  it("reads Sentry DSNs and escapes Telegram MarkdownV2", function () {
    expect(parseSentryDsn("https://abc@o1.ingest.sentry.io/42")).to.deep.equal({ url: new URL("https://o1.ingest.sentry.io/api/42/envelope/"), key: "abc", project: "42" });
    expect(() => parseSentryDsn("https://o1.ingest.sentry.io/42")).to.throw(/key or project missing/);
    expect(telegramEscape("a_b.c-d!")).to.equal("a\\_b\\.c\\-d\\!");
  });
});
