// Kustomization from an OCIRepository: an artifact pushed with the real `flux push artifact`
// to a real registry is pulled by the source-controller and applied; the revision is the
// OCIRepository's `<tag>@sha256:<digest>` and the origin revision (the pushed
// org.opencontainers.image.revision) is recorded in status and on events; a tag moved to a
// new artifact is applied and what left it is pruned.
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { OCIRepository } from "../../../controllers/api/source/v1/oci-repository";
import { KubeObject } from "../../../controllers/runtime/keys";
import { ociRepositories } from "../../../controllers/source/oci/ocirepository-reconciler";
import { eventually, newNamespace } from "../../support/cluster";
import { OciRegistry } from "../../support/oci-registry";
import { Env, configMap, core, createKustomization, expectCurrent, requestReconcile, sharedControllers, waitForReady } from "./support";

type CM = KubeObject & { data?: Record<string, string> };
type Event = KubeObject & { reason: string; message: string; source?: { component?: string } };

function contentDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-kz-oci-"));
  for (const [f, body] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), body);
  }
  return dir;
}

const origin = (n: number) => `main@sha1:${String(n).repeat(40)}`;

describe("Kustomization: from an OCIRepository source", function () {
  this.timeout(120_000);
  let env: Env;
  let reg: OciRegistry;
  before(async () => {
    env = await sharedControllers();
    reg = await OciRegistry.start();
  });
  after(async () => { await reg?.close(); });

  it("applies the manifests of an OCI artifact and follows the tag to a new artifact", async () => {
    const ns = await newNamespace("kz-oci");
    const d1 = await reg.push("manifests:prod", contentDir({ "deploy/a.yaml": configMap("a", { v: "1" }), "deploy/b.yaml": configMap("b", { v: "1" }), "README.md": "# docs\n" }),
      { source: "https://github.com/example/manifests.git", revision: origin(1) });
    await env.client.create(ociRepositories, {
      apiVersion: "source.toolkit.fluxcd.io/v1", kind: "OCIRepository", metadata: { name: "manifests", namespace: ns },
      spec: { interval: "1h", url: reg.url("manifests"), insecure: true, ref: { tag: "prod" } },
    } as never);
    await createKustomization(env.client, ns, "app", { sourceRef: { kind: "OCIRepository", name: "manifests" }, path: "./deploy", targetNamespace: ns });
    const k = await waitForReady(env.client, ns, "app", { timeoutMs: 60_000 });
    expect(k.status?.lastAppliedRevision).to.equal(`prod@${d1}`);
    expect(k.status?.lastAppliedOriginRevision).to.equal(origin(1));
    expect(k.status?.inventory?.entries.map((e) => e.id).sort()).to.deep.equal([`${ns}_a__ConfigMap`, `${ns}_b__ConfigMap`]);
    expect((await env.client.get<CM>(core.configMaps, { namespace: ns, name: "a" }))?.data).to.deep.equal({ v: "1" });
    const ev = await eventually(async () => (await env.client.list<Event>(core.events, { namespace: ns })).items
      .find((e) => e.source?.component === "kustomize-controller" && e.reason === "ReconciliationSucceeded" && e.message.startsWith("Reconciliation finished")), { what: "success event" });
    expect(ev.metadata?.annotations).to.include({ "kustomize.toolkit.fluxcd.io/revision": `prod@${d1}`, "kustomize.toolkit.fluxcd.io/originRevision": origin(1),
      "kustomize.toolkit.fluxcd.io/commit_status": "update" });

    const d2 = await reg.push("manifests:prod", contentDir({ "deploy/a.yaml": configMap("a", { v: "2" }) }), { source: "https://github.com/example/manifests.git", revision: origin(2) });
    expect(d2).to.not.equal(d1);
    await requestReconcile(env.client, ociRepositories, ns, "manifests");
    await eventually(async () => (await env.client.get<OCIRepository>(ociRepositories, { namespace: ns, name: "manifests" }))?.status?.artifact?.revision === `prod@${d2}`, { what: "the OCIRepository at the new digest" });
    const k2 = await waitForReady(env.client, ns, "app", { revisionSha: d2, timeoutMs: 30_000 });
    expect(k2.status?.lastAppliedOriginRevision).to.equal(origin(2));
    expect((await env.client.get<CM>(core.configMaps, { namespace: ns, name: "a" }))?.data).to.deep.equal({ v: "2" });
    expect(await env.client.get(core.configMaps, { namespace: ns, name: "b" }), "pruned with the new artifact").to.equal(undefined);
    expectCurrent(k2);
  });
});
