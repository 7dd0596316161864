import { expect } from "chai";
import { fluxCli } from "../../support/flux-cli";
import type { Receiver } from "../../../controllers/api/notification/v1/receiver";
import { getCluster, newNamespace } from "../../support/cluster";
import { createGitRepository } from "../source/support";
import { NotificationStack, createAlert, createProvider, createReceiver, createSecret, receivers, startNotificationStack, waitForReceiver } from "./support";

describe("Provider, Alert and Receiver: driven by the upstream flux CLI", function () {
  let stack: NotificationStack;
  let flux: (...args: string[]) => Promise<string>;
  before(async function () {
    this.timeout(120000);
    stack = await startNotificationStack();
    const { kubeconfigPath } = await getCluster();
    flux = fluxCli(kubeconfigPath);
  });
  after(async () => { await stack?.stop(); });

  it("lists Providers, Alerts and Receivers (flux get alert-providers / alerts / receivers)", async function () {
    const ns = await newNamespace();
    await createProvider(stack, ns, "hook", { type: "generic", address: "http://127.0.0.1:9/" });
    await createAlert(stack, ns, "all", { providerRef: { name: "hook" }, eventSources: [{ kind: "GitRepository", name: "*" }] });
    await createSecret(stack.client, ns, "token", { token: "t" });
    await createReceiver(stack, ns, "hook", { type: "github", secretRef: { name: "token" }, resources: [{ kind: "GitRepository", name: "app" }] });
    const r = await waitForReceiver(stack.client, ns, "hook", { ready: "True" });

    // The CLI shows static v1beta3 objects as ready without reading any status, as for Flux's.
    expect(await flux("get", "alert-providers", "-n", ns)).to.match(/hook\s+True\s+Provider is Ready/);
    expect(await flux("get", "alerts", "-n", ns)).to.match(/all\s+False\s+True\s+Alert is Ready/);
    const out = await flux("get", "receivers", "-n", ns);
    expect(out).to.match(/NAME\s+SUSPENDED\s+READY\s+MESSAGE/);
    expect(out).to.match(new RegExp(`hook\\s+False\\s+True\\s+Receiver initialized for path: ${r.status!.webhookPath}`));
  });

  it("reconciles, suspends and resumes a Receiver (flux reconcile/suspend/resume receiver)", async function () {
    const ns = await newNamespace();
    await createSecret(stack.client, ns, "token", { token: "t" });
    await createGitRepository({ client: stack.client, labels: {} }, ns, "app", { url: "https://example.com/app.git", suspend: true });
    await createReceiver(stack, ns, "hook", { type: "generic", secretRef: { name: "token" }, resources: [{ kind: "GitRepository", name: "app" }] });
    await waitForReceiver(stack.client, ns, "hook", { ready: "True" });

    const reconciled = await flux("reconcile", "receiver", "hook", "-n", ns);
    expect(reconciled).to.contain("Receiver reconciliation completed");
    const r = await stack.client.get<Receiver>(receivers, { namespace: ns, name: "hook" });
    expect(r!.status!.lastHandledReconcileAt).to.equal(r!.metadata.annotations!["reconcile.fluxcd.io/requestedAt"]);

    await flux("suspend", "receiver", "hook", "-n", ns);
    expect((await stack.client.get<Receiver>(receivers, { namespace: ns, name: "hook" }))!.spec.suspend).to.equal(true);
    expect((await fetch(`${stack.receiverUrl}${r!.status!.webhookPath}`, { method: "POST", body: "{}" })).status, "suspended: refused").to.equal(503);
    await flux("resume", "receiver", "hook", "-n", ns);
    expect((await fetch(`${stack.receiverUrl}${r!.status!.webhookPath}`, { method: "POST", body: "{}" })).status).to.equal(200);
  });

  it("suspends and resumes an Alert (flux suspend/resume alert)", async function () {
    const ns = await newNamespace();
    await createProvider(stack, ns, "hook", { type: "generic", address: "http://127.0.0.1:9/" });
    await createAlert(stack, ns, "all", { providerRef: { name: "hook" }, eventSources: [{ kind: "GitRepository", name: "*" }] });
    await flux("suspend", "alert", "all", "-n", ns);
    expect(await flux("get", "alerts", "-n", ns)).to.match(/all\s+True\s+True/);
    await flux("resume", "alert", "all", "-n", ns);
    expect(await flux("get", "alerts", "-n", ns)).to.match(/all\s+False\s+True/);
  });
});
