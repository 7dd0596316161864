// Steady state: a Kustomization reconciled again with an unchanged revision and no drift sends
// no dry-run (runtime/ssa/apply-memo.ts), counted by the API server itself
// (apiserver_request_total with dry_run="All", for a kind only this test uses); a change by
// someone else to one object brings back exactly that object's dry-run and the drift is corrected.
import { expect } from "chai";
import * as https from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";
import { eventually, newNamespace } from "../../support/cluster";
import { Env, createKustomization, expectCurrent, gitSource, kustomizations, requestReconcile, schemalessCrd, sharedControllers, waitForReady } from "./support";

const group = "steady.example.com";
const { yaml: crd, res: gizmos } = schemalessCrd(group, "Gizmo");
const gizmo = (name: string) => `apiVersion: ${group}/v1\nkind: Gizmo\nmetadata:\n  name: ${name}\nspec: { size: 1 }\n`;

/** Server-side apply dry-runs of gizmos the API server has answered (it counts apply PATCHes as verb APPLY). */
async function gizmoDryRuns(kc: KubeConfig): Promise<number> {
  const server = kc.getCurrentCluster()!.server;
  const opts: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  const text = await new Promise<string>((resolve, reject) => {
    https.get(`${server}/metrics`, opts, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString("utf8")));
      res.on("end", () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`GET /metrics: ${res.statusCode}`))));
    }).on("error", reject);
  });
  let n = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith("apiserver_request_total{")) continue;
    if (line.includes('dry_run="All"') && line.includes(`group="${group}"`) && line.includes('resource="gizmos"') && line.includes('verb="APPLY"')) {
      n += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return n;
}

describe("Kustomization: steady state", function () {
  this.timeout(120_000);
  let env: Env;
  before(async () => { env = await sharedControllers(); });

  it("sends no dry-run for unchanged objects, and dry-runs again exactly what someone else changed", async () => {
    const ns = await newNamespace("kz-steady");
    const files: Record<string, string> = { "crd.yaml": crd };
    for (let i = 0; i < 5; i++) files[`g${i}.yaml`] = gizmo(`g${i}`);
    await gitSource(env.client, ns, files);
    await createKustomization(env.client, ns, "steady", { path: "./", targetNamespace: ns, interval: "1h", prune: true });
    await waitForReady(env.client, ns, "steady");

    const reconcileOnce = async () => {
      const at = await requestReconcile(env.client, kustomizations, ns, "steady");
      await eventually(async () => {
        const k = await env.client.get<{ metadata?: object; status?: { lastHandledReconcileAt?: string } }>(kustomizations, { namespace: ns, name: "steady" });
        return k?.status?.lastHandledReconcileAt === at;
      }, { what: "reconcile request handled", timeoutMs: 30_000 });
    };
    const before = await gizmoDryRuns(env.kc);
    expect(before, "the first apply dry-ran every gizmo").to.be.at.least(5);
    for (let i = 0; i < 3; i++) await reconcileOnce();
    expect(await gizmoDryRuns(env.kc) - before, "dry-runs of unchanged gizmos").to.equal(0);

    await env.client.patch(gizmos, { namespace: ns, name: "g2" }, { spec: { size: 7 } });
    const beforeDrift = await gizmoDryRuns(env.kc);
    await reconcileOnce();
    const g2 = await env.client.get<{ metadata?: object; spec: { size: number } }>(gizmos, { namespace: ns, name: "g2" });
    expect(g2?.spec.size, "drift corrected").to.equal(1);
    expect(await gizmoDryRuns(env.kc) - beforeDrift, "dry-runs after one object changed").to.equal(1);
    expectCurrent(await waitForReady(env.client, ns, "steady"));
  });
});
