// Kustomization bad input: invalid YAML, a kustomization that does not build, an object the
// API server rejects, a missing path, a missing source, a blocked cross-namespace source.
// Each ends Ready=False with Flux's reason and a message naming the object and the cause;
// the failed revision applies nothing and prunes nothing; fixing the input converges.
import { expect } from "chai";
import { KubeObject } from "../../../controllers/runtime/keys";
import { eventually, newNamespace } from "../../support/cluster";
import {
  Env, INSTANCE_LABEL, configMap, core, createKustomization, expectCurrent, getKustomization, gitRepositories, gitSource,
  kustomizations, readyCondition, requestReconcile, sharedControllers, startControllers, waitForReady,
} from "./support";

type CM = KubeObject & { data?: Record<string, string> };

describe("Kustomization: bad input", function () {
  this.timeout(120_000);
  let env: Env;
  before(async () => { env = await sharedControllers(); });
  const cm = (ns: string, name: string) => env.client.get<CM>(core.configMaps, { namespace: ns, name });

  /** v1 applies a and b; the bad v2 drops b; nothing of v2 is applied or pruned; v3 fixes it. */
  async function badRevision(prefix: string, bad: Record<string, string | null>, reason: string, message: (ns: string) => RegExp): Promise<void> {
    const ns = await newNamespace(prefix);
    const { fixture } = await gitSource(env.client, ns, { "app/a.yaml": configMap("a", { v: "1" }), "app/b.yaml": configMap("b", { v: "1" }) });
    await createKustomization(env.client, ns, "app", { path: "./app", targetNamespace: ns, retryInterval: "2s" });
    const v1 = await waitForReady(env.client, ns, "app");
    const sha = await fixture.commitFiles({ "app/a.yaml": configMap("a", { v: "2" }), "app/b.yaml": null, ...bad }, "bad");
    await requestReconcile(env.client, gitRepositories, ns, "repo");
    const k = await waitForReady(env.client, ns, "app", { status: "False", reason, revisionSha: sha });
    expect(readyCondition(k)?.message).to.match(message(ns));
    expect(k.status?.lastAppliedRevision).to.equal(v1.status?.lastAppliedRevision);
    expect(k.status?.lastAttemptedRevision).to.equal(`main@sha1:${sha}`);
    expect(k.status?.inventory).to.deep.equal(v1.status?.inventory);
    expect((await cm(ns, "a"))?.data?.v, "nothing of the failed revision is applied").to.equal("1");
    expect(await cm(ns, "b"), "nothing is pruned after a failure").to.not.equal(undefined);
    const fixed = await fixture.commitFiles(Object.fromEntries(Object.keys(bad).map((f) => [f, null])), "fix");
    await requestReconcile(env.client, gitRepositories, ns, "repo");
    expectCurrent(await waitForReady(env.client, ns, "app", { revisionSha: fixed, timeoutMs: 30_000 }));
    expect((await cm(ns, "a"))?.data?.v).to.equal("2");
    expect(await cm(ns, "b")).to.equal(undefined);
  }

  it("refuses invalid YAML (BuildFailed, naming the file)", async () => {
    await badRevision("kz-bad-yaml", { "app/broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n" }, "BuildFailed",
      () => /^failed to decode Kubernetes YAML from app\/broken\.yaml: /);
  });

  it("refuses a kustomization that does not build (BuildFailed, kustomize's own message)", async () => {
    await badRevision("kz-bad-build", { "app/kustomization.yaml": "resources:\n  - a.yaml\n  - missing.yaml\n" }, "BuildFailed",
      () => /^kustomize build failed: .*missing\.yaml/);
  });

  it("refuses a set containing an object the API server rejects (dry-run, nothing applied)", async () => {
    const invalid = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: no-selector\nspec:\n  template:\n    metadata:\n      labels: { app: x }\n    spec:\n      containers: [{ name: c, image: nginx }]\n";
    await badRevision("kz-bad-object", { "app/deploy.yaml": invalid }, "ReconciliationFailed",
      (ns) => new RegExp(`^Deployment/${ns}/no-selector dry-run failed \\(Invalid\\): Deployment.apps "no-selector" is invalid: .*selector`));
  });

  it("reports a path missing from the artifact", async () => {
    const ns = await newNamespace("kz-bad-path");
    await gitSource(env.client, ns, { "app/a.yaml": configMap("a", { v: "1" }) });
    await createKustomization(env.client, ns, "app", { path: "./nope", targetNamespace: ns });
    const k = await waitForReady(env.client, ns, "app", { status: "False", reason: "ArtifactFailed", message: /kustomization path/ });
    expect(readyCondition(k)?.message).to.equal("kustomization path not found: stat ./nope: no such file or directory");
  });

  it("waits for a missing source and converges once it exists", async () => {
    const ns = await newNamespace("kz-bad-source");
    await createKustomization(env.client, ns, "app", { path: "./app", targetNamespace: ns, retryInterval: "2s" });
    const k = await waitForReady(env.client, ns, "app", { status: "False", reason: "ArtifactFailed", message: /not found/ });
    expect(readyCondition(k)?.message).to.equal('gitrepositories.source.toolkit.fluxcd.io "repo" not found');
    await gitSource(env.client, ns, { "app/a.yaml": configMap("a", { v: "1" }) });
    await waitForReady(env.client, ns, "app", { timeoutMs: 30_000 });
  });

  it("refuses a SOPS-encrypted Secret when decryption is not configured", async () => {
    const ns = await newNamespace("kz-bad-sops");
    const enc = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  k: ENC[AES256_GCM,data:abc,iv:x,tag:y,type:str]\nsops:\n  version: 3.9.0\n  mac: ENC[AES256_GCM,data:m,iv:x,tag:y,type:str]\n";
    await gitSource(env.client, ns, { "app/secret.yaml": enc });
    await createKustomization(env.client, ns, "app", { path: "./app", targetNamespace: ns });
    const k = await waitForReady(env.client, ns, "app", { status: "False", reason: "ReconciliationFailed" });
    expect(readyCondition(k)?.message).to.equal(`Secret/${ns}/s is SOPS encrypted, configuring decryption is required for this secret to be reconciled`);
  });

  it("stalls on a cross-namespace source when --no-cross-namespace-refs is set", async () => {
    const inst = await startControllers({ instance: "no-cross", kustomize: { noCrossNamespaceRefs: true } });
    const ns = await newNamespace("kz-no-cross");
    const labels = { [INSTANCE_LABEL]: "no-cross" };
    await createKustomization(inst.client, ns, "app", { path: "./", sourceRef: { kind: "GitRepository", name: "repo", namespace: "elsewhere" } }, labels);
    const k = await waitForReady(inst.client, ns, "app", { status: "False", reason: "AccessDenied" });
    expect(readyCondition(k)?.message).to.equal("can't access 'GitRepository/elsewhere/repo', cross-namespace references have been blocked");
    expect(k.status?.conditions?.find((c) => c.type === "Stalled")).to.include({ status: "True", reason: "AccessDenied" });
    expect(k.status?.observedGeneration).to.equal(k.metadata.generation);
    // A spec change un-stalls it.
    await inst.client.patch(kustomizations, { namespace: ns, name: "app" }, { spec: { sourceRef: { kind: "GitRepository", name: "repo", namespace: ns } } });
    const after = await waitForReady(inst.client, ns, "app", { status: "False", reason: "ArtifactFailed" });
    expect(after.status?.conditions?.some((c) => c.type === "Stalled")).to.equal(true);
  });
  it("refuses remote bases with --no-remote-bases, keeping what was applied; local bases still build", async () => {
    const inst = await startControllers({ instance: "no-remote", kustomize: { noRemoteBases: true } });
    const ns = await newNamespace("kz-no-remote");
    const labels = { [INSTANCE_LABEL]: "no-remote" };
    const local = { "base/kustomization.yaml": "resources:\n  - cm.yaml\n", "base/cm.yaml": configMap("kept", { a: "1" }),
      "app/kustomization.yaml": "resources:\n  - ../base\n" };
    const src = await gitSource(inst.client, ns, local, "repo", labels);
    await createKustomization(inst.client, ns, "app", { path: "./app", targetNamespace: ns, prune: true }, labels);
    await waitForReady(inst.client, ns, "app");
    // A tenant adds a remote base (a host path, kustomize's GitHub shorthand): refused before any clone.
    await src.fixture.commitFiles({ "app/kustomization.yaml": "resources:\n  - ../base\n  - github.com/example/app//deploy?ref=v1.0.0\n" }, "remote");
    await requestReconcile(inst.client, gitRepositories, ns, src.name);
    const k = await waitForReady(inst.client, ns, "app", { status: "False", reason: "BuildFailed" });
    expect(readyCondition(k)?.message).to.match(/app\/kustomization\.yaml: resources entry 'github\.com\/example\/app\/\/deploy\?ref=v1\.0\.0' is a remote base, which this controller refuses \(--no-remote-bases\)/);
    expect(await inst.client.get(core.configMaps, { namespace: ns, name: "kept" }), "nothing pruned on the refused build").to.not.equal(undefined);
    await src.fixture.commitFiles({ "app/kustomization.yaml": "resources:\n  - ../base\n  - https://example.com/app.yaml\n" }, "url");
    await requestReconcile(inst.client, gitRepositories, ns, src.name);
    await eventually(async () => /'https:\/\/example\.com\/app\.yaml' is a remote base/.test(readyCondition(await getKustomization(inst.client, ns, "app"))?.message ?? ""), { timeoutMs: 60_000 });
  });
});
