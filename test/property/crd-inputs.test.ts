// Property-based bad input (issue 21): fast-check generates the values the reconcilers read
// (names, paths, durations, semver ranges, ignore globs, label selectors, patches, CEL
// expressions, HelmRelease values) and writes them to the real API server, where the real
// controllers run as a child process. Each value is either refused by the CRD schema (422) or
// answered with a Ready condition carrying a message; the process never dies nor writes
// anything but log lines to stderr (an unhandled rejection, a Node warning); a failed reconcile
// of the Kustomization leaves what it applied before in place. GITOPS_PROPERTY_RUNS sets the
// runs per property, GITOPS_PROPERTY_SEED replays a failure (fast-check prints the seed).
import { expect } from "chai";
import fc from "fast-check";
import { eventually, newNamespace } from "../support/cluster";
import { startGitServers } from "../support/git-server";
import { HelmRepoServer } from "../support/helm-repo";
import { onTeardown } from "../support/teardown";
import { KubeObject } from "../../controllers/runtime/keys";
import { ResourceRef } from "../../controllers/runtime/kube";
import { ControllerProcess, Outcome, fcParams, startControllerProcess, tally, writeAndWait } from "./support";

const kustomizations: ResourceRef = { group: "kustomize.toolkit.fluxcd.io", version: "v1", plural: "kustomizations", kind: "Kustomization" };
const gitRepositories: ResourceRef = { group: "source.toolkit.fluxcd.io", version: "v1", plural: "gitrepositories", kind: "GitRepository" };
const helmRepositories: ResourceRef = { group: "source.toolkit.fluxcd.io", version: "v1", plural: "helmrepositories", kind: "HelmRepository" };
const helmReleases: ResourceRef = { group: "helm.toolkit.fluxcd.io", version: "v2", plural: "helmreleases", kind: "HelmRelease" };
const configMaps: ResourceRef = { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap" };

// ---- generators: what a user (or a typo) can put in the field, valid or not ----

const odd = fc.constantFrom("", " ", ".", "..", "../..", "/", "/etc/passwd", "\u0000", "\n", "${x}", "*", "**", "[", "]", "{", "}", "\\", "%00",
  "-", "a b", "ünïcødé", "💥", "a".repeat(300), "-1", "0", "1e309", "NaN", "null", "true", "'", "\"", "`", ":", "#", "&", "|", "!");
const text = fc.oneof(odd, fc.string({ maxLength: 40 }), fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.array(odd, { maxLength: 4 }).map((a) => a.join("")));
const nameish = fc.oneof(text, fc.stringMatching(/^[a-z0-9]([-a-z0-9.]{0,70}[a-z0-9])?$/), fc.stringMatching(/^[A-Za-z0-9_.-]{1,80}$/));
const digits = fc.oneof(fc.nat().map(String), fc.bigInt({ min: 0n, max: 10n ** 40n }).map(String), fc.constantFrom("0", "00", "1.5", "0.000001"));
const duration = fc.oneof(text,
  fc.tuple(digits, fc.constantFrom("ns", "us", "µs", "ms", "s", "m", "h", "d", "", "H")).map(([n, u]) => `${n}${u}`),
  fc.array(fc.tuple(digits, fc.constantFrom("h", "m", "s", "ms")), { minLength: 1, maxLength: 4 }).map((a) => a.map(([n, u]) => n + u).join("")));
const semverRange = fc.oneof(text,
  fc.array(fc.oneof(fc.constantFrom(">=", "<", "~", "^", "=", "!=", "||", ",", " - ", "x", "*", "v", "-rc", "+build", "."), digits), { minLength: 1, maxLength: 8 })
    .map((a) => a.join("")));
const glob = fc.oneof(text, fc.array(fc.oneof(fc.constantFrom("*", "**", "?", "!", "/", "[a-z]", "[!", "\\", "#", "app", "a.yaml", "..", " "), fc.string({ maxLength: 5 })),
  { minLength: 1, maxLength: 6 }).map((a) => a.join("")));
const globs = fc.array(glob, { maxLength: 4 }).map((a) => a.join("\n"));
const labelSelector = fc.oneof(text, fc.array(fc.oneof(fc.constantFrom("=", "==", "!=", ",", " in ", " notin ", "(", ")", "!", "app", "a/b", "x.y/z"), nameish),
  { minLength: 1, maxLength: 6 }).map((a) => a.join("")));
const celToken = fc.constantFrom("self", "dep", "status", "data", "metadata", "name", "v", ".", "==", "!=", "&&", "||", "!", "(", ")", "[", "]", "?", ":",
  "'1'", "1", "1.0", "true", "null", "has(", "size(", "exists(", "x", ",", "+", "/", "%", "in", "\"", "conditions", "filter(", "e", "e.type", "'Ready'", "int(", "9223372036854775807", "-");
const cel = fc.oneof(text, fc.array(celToken, { minLength: 1, maxLength: 12 }).map((a) => a.join(" ")), fc.array(celToken, { minLength: 1, maxLength: 12 }).map((a) => a.join("")));
const yamlish = fc.oneof(text, fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.record({ op: fc.constantFrom("add", "remove", "replace", "move", "copy", "test", "bogus"), path: fc.oneof(glob, fc.constantFrom("/data/v", "/metadata/name", "/", "")), value: fc.jsonValue() })
    .map((op) => JSON.stringify([op])),
  fc.record({ apiVersion: fc.constantFrom("v1", "apps/v1", "x"), kind: fc.oneof(nameish, fc.constant("ConfigMap")), metadata: fc.record({ name: fc.oneof(nameish, fc.constant("keep")) }), data: fc.jsonValue() })
    .map((o) => JSON.stringify(o)));
const patchTarget = fc.record({ kind: fc.oneof(text, fc.constant("ConfigMap")), name: fc.oneof(glob, fc.constant("keep")), labelSelector, annotationSelector: labelSelector },
  { requiredKeys: [] });

describe("property: bad CRD input never crashes the controllers nor prunes", function () {
  // ~2-3 minutes at the default runs; each run is a real reconcile.
  this.timeout(600_000);
  let ctl: ControllerProcess;
  let ns: string;
  const baseSpec = { interval: "10m", retryInterval: "1s", timeout: "20s", prune: true, path: "./app", sourceRef: { kind: "GitRepository", name: "repo" } };
  let baseInventory: unknown;
  let chartUrl: string;

  before(async function () {
    this.timeout(120_000);
    ctl = await startControllerProcess();
    ns = await newNamespace("prop");
    const servers = await startGitServers({ files: { "app/keep.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keep\ndata:\n  v: \"1\"\n" }, http: {} });
    onTeardown(() => servers.close());
    await servers.fixture.tag("v1.0.0");
    await servers.fixture.publish();
    const meta = (name: string) => ({ name, namespace: ns, labels: ctl.labels });
    await ctl.client.create(gitRepositories, { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", metadata: meta("repo"),
      spec: { interval: "10m", url: servers.urls.http!, ref: { branch: "main" } } } as never);
    for (const name of ["base", "dep"]) {
      await ctl.client.create(kustomizations, { apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization", metadata: meta(name),
        spec: { ...baseSpec, targetNamespace: ns, ...(name === "dep" ? { path: "./", prune: false, namePrefix: "dep-" } : {}) } } as never);
    }
    const base = await settled("base");
    baseInventory = (base.status as { inventory?: unknown }).inventory;
    const repo = await HelmRepoServer.start();
    await repo.addChart("app", "1.0.0");
    chartUrl = repo.url;
    await ctl.client.create(helmRepositories, { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "HelmRepository", metadata: meta("charts"),
      spec: { interval: "10m", url: chartUrl } } as never);
  });

  afterEach(function () {
    // The process stays healthy across every property, whatever the outcome of one.
    ctl.assertHealthy();
  });

  after(() => {
    console.log(`[property] CRD inputs: ${tally.inputs} tried, ${tally.rejectedBySchema} refused by the schema (422), ` +
      `${tally.answeredFalse} answered Ready=False, ${tally.answeredTrue} Ready=True, controller crashes: ${ctl?.exited() ? 1 : 0}`);
  });

  async function settled(name: string): Promise<KubeObject & { status?: Record<string, unknown> }> {
    return eventually(async () => {
      const k = await ctl.client.get<KubeObject & { status?: { conditions?: Array<{ type: string; status: string; observedGeneration?: number }> } }>(kustomizations, { namespace: ns, name });
      const r = k?.status?.conditions?.find((c) => c.type === "Ready");
      return r?.status === "True" && r.observedGeneration === k!.metadata!.generation ? k : undefined;
    }, { timeoutMs: 60_000, what: `Kustomization ${name} Ready=True` }) as never;
  }

  const keepExists = async () => !!(await ctl.client.get(configMaps, { namespace: ns, name: "keep" }));

  /**
   * Puts `mutation` into the base Kustomization's spec, checks the answer, then restores the base
   * spec and waits until it is applied again (so the next run starts from a known state).
   */
  async function mutateBase(mutation: Record<string, unknown>): Promise<void> {
    let o: Outcome | undefined;
    try {
      o = await writeAndWait(ctl.client, kustomizations, { metadata: { namespace: ns, name: "base" }, spec: mutation } as KubeObject,
        () => ctl.client.patch(kustomizations, { namespace: ns, name: "base" }, { spec: mutation }), 45_000);
      checkAnswer(o);
      if (o.kind === "answered" && o.ready.status === "False") {
        expect(await keepExists(), `a failed reconcile pruned nothing (${JSON.stringify(mutation)})`).to.equal(true);
        expect((o.obj.status as { inventory?: unknown }).inventory, "the inventory of the last good apply is kept").to.deep.equal(baseInventory);
      }
    } finally {
      // Whatever happened, the next run starts from the base spec, applied again.
      if (o?.kind !== "rejected") {
        const live = (await ctl.client.get<KubeObject & { spec: Record<string, unknown> }>(kustomizations, { namespace: ns, name: "base" }))!;
        await ctl.client.replace(kustomizations, { ...live, spec: { ...baseSpec, targetNamespace: ns } } as never);
        await settled("base");
      }
    }
    expect(await keepExists(), "the restored base applies again").to.equal(true);
  }

  function checkAnswer(o: Outcome): void {
    if (o.kind === "rejected") return;
    expect(o.ready.message, `Ready=${o.ready.status} carries a message`).to.be.a("string").and.not.equal("");
    if (o.ready.status === "False") expect(o.ready.reason, "a reason").to.be.a("string").and.not.equal("");
    ctl.assertHealthy();
  }

  const base = (runs: number) => fcParams(runs);

  it("Kustomization path, sourceRef name, targetNamespace, namePrefix", async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(
      fc.record({ path: fc.oneof(text, glob, fc.constantFrom("./app/../..", "../../..", "./app/keep.yaml", "/app", "app//", "./missing")) }),
      fc.record({ sourceRef: fc.record({ kind: fc.constantFrom("GitRepository", "OCIRepository", "Bucket", "Nope"), name: nameish, namespace: fc.option(nameish, { nil: undefined }) }) }),
      fc.record({ targetNamespace: nameish }),
      fc.record({ namePrefix: nameish, nameSuffix: fc.option(nameish, { nil: undefined }) }),
    ), (m) => mutateBase(m)), base(25));
  });

  it("Kustomization interval, retryInterval, timeout (durations)", async () => {
    await fc.assert(fc.asyncProperty(fc.record({ interval: duration, retryInterval: duration, timeout: duration }, { requiredKeys: [] }),
      (m) => mutateBase(m)), base(25));
  });

  it("Kustomization patches (strategic merge, JSON6902, targets with regexes and label selectors)", async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.record({ patch: yamlish, target: fc.option(patchTarget, { nil: undefined }) }, { requiredKeys: ["patch"] }), { minLength: 1, maxLength: 3 }),
      (patches) => mutateBase({ patches })), base(25));
  });

  it("Kustomization healthCheckExprs and dependsOn readyExpr (CEL)", async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(
      fc.record({ current: cel, failed: fc.option(cel, { nil: undefined }), inProgress: fc.option(cel, { nil: undefined }) }, { requiredKeys: ["current"] })
        .map((e) => ({ wait: true, timeout: "3s", healthCheckExprs: [{ apiVersion: "v1", kind: "ConfigMap", ...e }] })),
      cel.map((readyExpr) => ({ dependsOn: [{ name: "dep", readyExpr }] })),
    ), (m) => mutateBase(m)), base(25));
  });

  it("Kustomization ignore globs and postBuild substitutions", async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(
      globs.map((ignore) => ({ ignore })),
      fc.dictionary(nameish, text, { maxKeys: 3 }).map((substitute) => ({ postBuild: { substitute } })),
    ), (m) => mutateBase(m)), base(15));
  });

  let n = 0;
  async function fresh(res: ResourceRef, spec: Record<string, unknown>, name = `p-${n++}`): Promise<void> {
    const obj = { apiVersion: `${res.group}/${res.version}`, kind: res.kind, metadata: { name, namespace: ns, labels: ctl.labels }, spec };
    // A generated name equal to a live object's (the shared sources, an earlier run's) is not a new input.
    if (await ctl.client.get(res, { namespace: ns, name }).catch(() => undefined)) return;
    const o = await writeAndWait(ctl.client, res, obj as KubeObject, undefined, 45_000);
    checkAnswer(o);
    if (o.kind === "answered") {
      const key = { namespace: ns, name: o.obj.metadata!.name! };
      await ctl.client.delete(res, key).catch(() => undefined);
      let last: unknown;
      await eventually(async () => !(last = await ctl.client.get(res, key)), { timeoutMs: 45_000, what: `${res.kind} ${name} deleted` })
        .catch((e) => { throw new Error(`${(e as Error).message}; input ${JSON.stringify(spec)}; last ${JSON.stringify(last)}`); });
    }
  }

  it("GitRepository names, ref (branch, tag, semver range, commit), ignore, include, timeout", async () => {
    const url = ((await ctl.client.get<KubeObject & { spec: { url: string } }>(gitRepositories, { namespace: ns, name: "repo" }))!).spec.url;
    await fc.assert(fc.asyncProperty(nameish, fc.oneof(
      fc.record({ ref: fc.record({ branch: nameish, tag: nameish, semver: semverRange, commit: fc.oneof(text, fc.stringMatching(/^[0-9a-f]{1,41}$/)), name: nameish }, { requiredKeys: [] }) }),
      fc.record({ ignore: globs }), fc.record({ timeout: duration, interval: duration }, { requiredKeys: [] }),
      fc.record({ include: fc.array(fc.record({ repository: fc.record({ name: nameish }), fromPath: fc.option(text, { nil: undefined }), toPath: fc.option(text, { nil: undefined }) }), { maxLength: 2 }) }),
      fc.record({ url: fc.oneof(text, fc.constantFrom("ssh://", "http://", "file:///etc", "git://x", "https://256.0.0.1/x", "http://127.0.0.1:1/x")) }),
    ), (name, m) => fresh(gitRepositories, { interval: "10m", url, ref: { branch: "main" }, ...m }, name)), base(25));
  });

  it("HelmRelease values, chart version ranges, release names, HelmRepository url and interval", async () => {
    const chart = (version: string) => ({ spec: { chart: "app", version, sourceRef: { kind: "HelmRepository", name: "charts" } }, metadata: { labels: ctl.labels } });
    const valueKeys = fc.constantFrom("replicaCount", "image", "service", "ingress", "resources", "nameOverride", "fullnameOverride", "podAnnotations", "securityContext", "autoscaling", "x");
    await fc.assert(fc.asyncProperty(fc.oneof(
      fc.dictionary(valueKeys, fc.jsonValue({ maxDepth: 2 }), { minKeys: 1, maxKeys: 3 }).map((values) => ({ hr: { chart: chart("1.0.0"), values } })),
      semverRange.map((v) => ({ hr: { chart: chart(v) } })),
      fc.record({ releaseName: nameish, targetNamespace: fc.option(nameish, { nil: undefined }), storageNamespace: fc.option(nameish, { nil: undefined }) }, { requiredKeys: ["releaseName"] })
        .map((r) => ({ hr: { chart: chart("1.0.0"), ...r } })),
      fc.record({ url: fc.oneof(text, fc.constant(chartUrl + "/../..")), interval: duration }, { requiredKeys: [] }).map((r) => ({ repo: { url: chartUrl, ...r } })),
    ), async (m) => {
      if ("repo" in m) return fresh(helmRepositories, m.repo);
      await fresh(helmReleases, { interval: "10m", timeout: "20s", install: { remediation: { retries: 0 } }, ...m.hr });
    }), base(15));
  });
});
