// image-automation-controller against real parts: the API server, git over smart HTTP (basic
// auth) and SSH, Debian's docker-registry, and the source, kustomize, notification and
// image-reflector controllers in the same Manager. The first case is issue 20's end-to-end
// flow: tags in the registry -> ImagePolicy -> commit in git -> GitRepository + Kustomization
// -> a Deployment with the new image, and the automation's event at a notification webhook.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ImageUpdateAutomation } from "../../../controllers/api/image/v1/image-update-automation";
import type { Kustomization } from "../../../controllers/api/kustomize/v1/kustomization";
import { imageAutomationControllers } from "../../../controllers/image-automation/setup";
import { imageUpdateAutomations } from "../../../controllers/image-automation/reconciler";
import { imagePolicies } from "../../../controllers/image-reflector/imagepolicy-reconciler";
import { imageRepositories } from "../../../controllers/image-reflector/imagerepository-reconciler";
import { startImageReflectorController } from "../../../controllers/image-reflector/setup";
import { kustomizations } from "../../../controllers/kustomize/dependencies";
import { startKustomizeController } from "../../../controllers/kustomize/setup";
import { startNotificationController } from "../../../controllers/notification/setup";
import { EventForwarder, forwardEvents } from "../../../controllers/runtime/event-forwarder";
import { KubeClient } from "../../../controllers/runtime/kube";
import { Manager } from "../../../controllers/runtime/manager";
import { startSourceController } from "../../../controllers/source/setup";
import { gitRepositories } from "../../../controllers/source/git/gitrepository-reconciler";
import { tool } from "../../../cli/tools";
import { eventually, getCluster, newNamespace, randomSuffix } from "../../support/cluster";
import { INSTANCE_LABEL, installCrds, testManager } from "../../support/controllers";
import { GitServers, startGitServers } from "../../support/git-server";
import { OciRegistry } from "../../support/oci-registry";
import { onTeardown } from "../../support/teardown";
import { WebhookSink, startWebhookSink } from "../notification/support";
import { AlertNames } from "../../../controllers/api/notification/v1beta3/alert";
import { ProviderNames } from "../../../controllers/api/notification/v1beta3/provider";

const secrets = { group: "", version: "v1", plural: "secrets", kind: "Secret" };
const deployments = { group: "apps", version: "v1", plural: "deployments", kind: "Deployment" };
const alerts = { group: AlertNames.group, version: AlertNames.version, plural: AlertNames.plural, kind: AlertNames.kind };
const providers = { group: ProviderNames.group, version: ProviderNames.version, plural: ProviderNames.plural, kind: ProviderNames.kind };
const CREDS = { username: "flux", password: "s3cret" };

function deploymentYaml(image: string, marker: string): string {
  return `# app deployment, image kept current by Flux
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  replicas: 1
  selector:
    matchLabels: {app: app}
  template:
    metadata:
      labels: {app: app}
    spec:
      containers:
        - name: app
          image: ${image} # {"$imagepolicy": "${marker}"}
          ports: [{containerPort: 8080}]   # untouched
`;
}

type Want = { status: "True" | "False"; reason?: string; message?: RegExp; stalled?: boolean };

describe("image-automation-controller: ImageUpdateAutomation", function () {
  this.timeout(240000);
  let reg: OciRegistry;
  let manager: Manager;
  let client: KubeClient;
  let forwarder: EventForwarder;
  let instance: string;
  let sink: WebhookSink;
  let eventsUrl: string;
  let notificationCached: () => Array<{ metadata: { namespace?: string; name?: string } }>;
  const servers: GitServers[] = [];

  const labels = () => ({ [INSTANCE_LABEL]: instance });
  const create = (res: { group: string; version: string; plural: string; kind: string }, apiVersion: string, ns: string, name: string, spec: unknown, extra: Record<string, unknown> = {}) =>
    client.create(res, { apiVersion, kind: res.kind, metadata: { name, namespace: ns, labels: labels(), ...extra }, spec } as never);
  const secret = (ns: string, name: string, stringData: Record<string, string>) =>
    client.create(secrets, { apiVersion: "v1", kind: "Secret", metadata: { name, namespace: ns }, stringData } as never);
  const automation = (ns: string, name: string, spec: Record<string, unknown>) =>
    create(imageUpdateAutomations, "image.toolkit.fluxcd.io/v1", ns, name, { interval: "10m", ...spec });
  const gitRepo = (ns: string, name: string, spec: Record<string, unknown>) =>
    create(gitRepositories, "source.toolkit.fluxcd.io/v1", ns, name, { interval: "3s", ref: { branch: "main" }, ...spec });
  const policyFor = (ns: string, repoName: string, range: string) =>
    create(imagePolicies, "image.toolkit.fluxcd.io/v1", ns, repoName, { imageRepositoryRef: { name: repoName }, policy: { semver: { range } } });

  async function waitAutomation(ns: string, name: string, want: Want, extra?: (o: ImageUpdateAutomation) => boolean): Promise<ImageUpdateAutomation> {
    let last: ImageUpdateAutomation | undefined;
    return eventually(async () => {
      last = await client.get<ImageUpdateAutomation>(imageUpdateAutomations, { namespace: ns, name });
      const c = last?.status?.conditions?.find((x) => x.type === "Ready");
      if (!c || c.status !== want.status || (want.reason && c.reason !== want.reason) || (want.message && !want.message.test(c.message))) return undefined;
      if (want.stalled && !last!.status!.conditions!.some((x) => x.type === "Stalled" && x.status === "True")) return undefined;
      if (extra && !extra(last!)) return undefined;
      return last;
    }, { timeoutMs: 60000, what: `ImageUpdateAutomation ${ns}/${name} Ready=${want.status}` })
      .catch((e) => { throw new Error(`${(e as Error).message}; last: ${JSON.stringify(last?.status)}`); });
  }

  /** A git repo served over HTTP with basic auth (push enabled through REMOTE_USER). */
  async function appRepo(files: Record<string, string>, opts: { ssh?: boolean } = {}): Promise<GitServers> {
    const g = await startGitServers({ http: { basicAuth: CREDS }, ssh: opts.ssh, files });
    servers.push(g);
    return g;
  }

  /** The file at the tip of `branch` in the bare repo. */
  const remoteFile = (g: GitServers, file: string, branch = "main") =>
    execFileSync("git", ["--git-dir", g.barePath, "show", `${branch}:${file}`], { encoding: "utf8" });
  const remoteHead = (g: GitServers, ref = "refs/heads/main") =>
    execFileSync("git", ["--git-dir", g.barePath, "rev-parse", ref], { encoding: "utf8" }).trim();
  const remoteLog = (g: GitServers, fmt: string, ref = "main") =>
    execFileSync("git", ["--git-dir", g.barePath, "log", "-1", `--format=${fmt}`, ref], { encoding: "utf8" });

  function contentDir(text: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-iua-img-"));
    fs.writeFileSync(path.join(dir, "app.yaml"), `kind: ConfigMap\n# ${text}\n`);
    return dir;
  }

  /** An ImageRepository + ImagePolicy for `app` at `range`, waited for. */
  async function policy(ns: string, range: string): Promise<void> {
    await create(imageRepositories, "image.toolkit.fluxcd.io/v1", ns, "app", { image: `${reg.host}/app`, interval: "10m", insecure: true });
    await policyFor(ns, "app", range);
    await eventually(async () => (await client.get<{ metadata: object; status?: { latestRef?: { tag: string } } }>(imagePolicies, { namespace: ns, name: "app" }))?.status?.latestRef,
      { timeoutMs: 30000, what: "ImagePolicy latestRef" });
  }

  before(async function () {
    await installCrds();
    const { kc } = await getCluster();
    instance = `iua-${randomSuffix(8)}`;
    reg = await OciRegistry.start();
    for (const t of ["1.0.0", "1.1.0", "2.0.0-rc.1"]) await reg.push(`app:${t}`, contentDir(t));
    sink = await startWebhookSink();
    const storage = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-iua-storage-"));
    const tags = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-iua-tags-"));
    manager = testManager(kc, "gitops-test-image-automation", instance, { requeueDependencyMs: 2000 });
    client = manager.client;
    const source = await startSourceController({ storagePath: storage, storageAddr: "127.0.0.1:0", artifactRetentionRecords: 2 });
    const kz = startKustomizeController({ kubeConfig: kc, client, logger: manager.log, kubeApiQps: 0, kubeApiBurst: 0, kustomizePath: tool("kustomize"), sopsPath: "sops", requeueDependencyMs: 2000 });
    const notification = await startNotificationController({
      client, events: manager.events, logger: manager.log, labelSelector: `${INSTANCE_LABEL}=${instance}`,
      eventsAddr: "127.0.0.1:0", receiverAddr: "127.0.0.1:0", rateLimitIntervalMs: 1, noCrossNamespaceRefs: false,
      retry: { retries: 2, baseMs: 50 }, registry: manager.metrics.registry,
    });
    eventsUrl = notification.eventServer.url;
    notificationCached = () => notification.cached.alerts();
    for (const d of [...source.definitions, ...kz.definitions, ...notification.definitions,
      ...startImageReflectorController({ storagePath: tags, requeueDependencyMs: 2000 }).definitions, ...imageAutomationControllers()]) manager.add(d);
    forwarder = forwardEvents(manager.events, { address: eventsUrl, reportingController: "image-automation-controller", logger: manager.log, retries: 1, retryBaseMs: 100 });
    forwardEvents(kz.events, { address: eventsUrl, reportingController: "kustomize-controller", logger: manager.log, retries: 1, retryBaseMs: 100 });
    await manager.start();
    onTeardown(async () => {
      await manager.stop();
      await forwarder.flush();
      await notification.close();
      await kz.close();
      await source.close();
      fs.rmSync(storage, { recursive: true, force: true });
      fs.rmSync(tags, { recursive: true, force: true });
    });
  });
  after(async () => { for (const g of servers) await g.close(); await reg?.close(); });

  it("end to end: semver ^1.x picks 1.1.0, the automation commits it, and a Kustomization applies the Deployment with it", async () => {
    const ns = await newNamespace();
    const g = await appRepo({ "apps/deploy.yaml": deploymentYaml(`${reg.host}/app:1.0.0`, `${ns}:app`), "README.md": "# app\n" });
    await create(providers, ProviderNames.apiVersion, ns, "hook", { type: "generic", address: sink.url(`/iua-${ns}`) });
    await create(alerts, AlertNames.apiVersion, ns, "automation", { providerRef: { name: "hook" }, eventSources: [{ kind: "ImageUpdateAutomation", name: "*" }] });
    await eventually(() => notificationCached().some((a) => a.metadata.namespace === ns && a.metadata.name === "automation"), { what: "the Alert cached" });
    await secret(ns, "git-auth", CREDS);
    await gitRepo(ns, "app", { url: g.http!.url(), secretRef: { name: "git-auth" } });
    await create(kustomizations, "kustomize.toolkit.fluxcd.io/v1", ns, "app", { interval: "1m", path: "./apps", prune: true, targetNamespace: ns, sourceRef: { kind: "GitRepository", name: "app" } });
    await policy(ns, "^1.x");
    const p = await client.get<{ metadata: object; status?: { latestRef?: { tag: string } } }>(imagePolicies, { namespace: ns, name: "app" });
    expect(p!.status!.latestRef!.tag).to.equal("1.1.0");

    await automation(ns, "app", {
      sourceRef: { kind: "GitRepository", name: "app" },
      git: { commit: { author: { name: "fluxcdbot", email: "fluxcdbot@users.noreply.github.com" } }, push: { branch: "main" } },
      update: { path: "./apps", strategy: "Setters" },
    });
    const a = await waitAutomation(ns, "app", { status: "True", reason: "Succeeded", message: /^repository up-to-date$/ }, (o) => !!o.status?.lastPushCommit);
    const head = remoteHead(g);
    expect(a.status!.lastPushCommit).to.equal(head);
    expect(a.status!.observedSourceRevision).to.equal(`main@sha1:${head}`);
    expect(a.status!.observedPolicies).to.deep.equal({ app: { name: `${reg.host}/app`, tag: "1.1.0" } });
    expect(a.status!.lastPushTime).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(remoteFile(g, "apps/deploy.yaml")).to.equal(deploymentYaml(`${reg.host}/app:1.1.0`, `${ns}:app`));
    expect(remoteLog(g, "%an <%ae>|%cn|%B")).to.equal("fluxcdbot <fluxcdbot@users.noreply.github.com>|fluxcdbot|Update from image update automation\n\n");

    // The Kustomization applies the automation's commit.
    await eventually(async () => {
      const k = await client.get<Kustomization>(kustomizations, { namespace: ns, name: "app" });
      return k?.status?.lastAppliedRevision === `main@sha1:${head}`;
    }, { timeoutMs: 60000, what: "the Kustomization at the automation's commit" });
    const d = await client.get<{ metadata: object; spec: { template: { spec: { containers: Array<{ image: string }> } } } }>(deployments, { namespace: ns, name: "app" });
    expect(d!.spec.template.spec.containers[0].image).to.equal(`${reg.host}/app:1.1.0`);

    // The automation's push reached notification-controller and the Alert's webhook.
    const ev = await eventually(() => sink.at(`/iua-${ns}`).map((r) => r.json).find((e) => e?.involvedObject?.kind === "ImageUpdateAutomation" && /^pushed commit/.test(e.message)),
      { timeoutMs: 30000, what: "the automation's push event at the webhook" });
    expect(ev.message).to.equal(`pushed commit '${head.slice(0, 7)}' to branch 'main'\nUpdate from image update automation`);
    expect(ev.involvedObject).to.include({ name: "app", namespace: ns, apiVersion: "image.toolkit.fluxcd.io/v1" });
    expect(ev.severity).to.equal("info");
    expect(ev.reason).to.equal("Succeeded");

    // Nothing changed: a requested run makes no commit.
    await client.patch(imageUpdateAutomations, { namespace: ns, name: "app" }, { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "again" } } });
    await waitAutomation(ns, "app", { status: "True" }, (o) => o.status?.lastHandledReconcileAt === "again");
    expect(remoteHead(g)).to.equal(head);
  });

  it("renders messageTemplate with messageTemplateValues, pushes to another branch and a refspec, over SSH, signed with OpenPGP", async () => {
    const ns = await newNamespace();
    const g = await appRepo({ "deploy.yaml": deploymentYaml(`${reg.host}/app:1.0.0`, `${ns}:app`), "values.yaml": `image:\n  tag: "1.0.0" # {"$imagepolicy": "${ns}:app:tag"}\n` }, { ssh: true });
    await secret(ns, "ssh-auth", { identity: g.ssh!.clientPrivateKeyPem, known_hosts: g.ssh!.knownHostsLine });
    await gitRepo(ns, "app", { url: g.urls.ssh, secretRef: { name: "ssh-auth" } });
    // An OpenPGP key made by the real gpg.
    const gnupg = fs.mkdtempSync(path.join(os.tmpdir(), "g-"));
    const gpgEnv = { ...process.env, GNUPGHOME: gnupg };
    execFileSync("gpg", ["--batch", "--passphrase", "", "--quick-gen-key", "Flux Bot <bot@example.invalid>", "ed25519", "sign", "never"], { env: gpgEnv, stdio: "pipe" });
    const armored = execFileSync("gpg", ["--batch", "--armor", "--export-secret-keys"], { env: gpgEnv, encoding: "utf8" });
    execFileSync("gpgconf", ["--kill", "gpg-agent"], { env: gpgEnv });
    fs.rmSync(gnupg, { recursive: true, force: true });
    await secret(ns, "signing", { "git.asc": armored });
    await policy(ns, "1.1.x");
    await automation(ns, "custom", {
      sourceRef: { kind: "GitRepository", name: "app" },
      git: {
        checkout: { ref: { branch: "main" } },
        commit: {
          author: { name: "bot", email: "bot@example.invalid" },
          signingKey: { secretRef: { name: "signing" } },
          messageTemplate: "Update {{ .AutomationObject }} in {{ .Values.cluster }}\n\n{{ range $f, $_ := .Changed.FileChanges -}}\n- {{ $f }}\n{{ end -}}\n{{ range .Changed.Changes }}{{ .OldValue }} -> {{ .NewValue }} ({{ .Setter }})\n{{ end }}",
          messageTemplateValues: { cluster: "prod" },
        },
        push: { branch: "auto", refspec: "refs/heads/auto:refs/heads/review" },
      },
    });
    const a = await waitAutomation(ns, "custom", { status: "True" }, (o) => !!o.status?.lastPushCommit);
    const auto = remoteHead(g, "refs/heads/auto");
    expect(a.status!.lastPushCommit).to.equal(auto);
    expect(remoteHead(g, "refs/heads/review")).to.equal(auto);
    // The checkout branch is untouched; its commit is the observed revision.
    expect(remoteHead(g)).to.equal(g.initialCommit);
    expect(a.status!.observedSourceRevision).to.equal(`main@sha1:${g.initialCommit}`);
    expect(remoteLog(g, "%B", "auto")).to.equal(`Update ${ns}/custom in prod\n\n- deploy.yaml\n- values.yaml\n${reg.host}/app:1.0.0 -> ${reg.host}/app:1.1.0 (${ns}:app)\n1.0.0 -> 1.1.0 (${ns}:app:tag)\n\n`);
    expect(remoteFile(g, "values.yaml", "auto")).to.equal(`image:\n  tag: "1.1.0" # {"$imagepolicy": "${ns}:app:tag"}\n`);
    const raw = execFileSync("git", ["--git-dir", g.barePath, "cat-file", "commit", auto], { encoding: "utf8" });
    expect(raw).to.match(/^gpgsig -----BEGIN PGP SIGNATURE-----/m);
  });

  it("re-applies the update on top when the remote moved on before the push (non-fast-forward)", async () => {
    const ns = await newNamespace();
    const g = await appRepo({ "deploy.yaml": deploymentYaml(`${reg.host}/app:1.0.0`, `${ns}:app`) });
    // The first push arrives after someone else pushed to main: a pre-receive hook lands that
    // commit first, so the automation's ref update finds main moved and is turned down.
    const hook = path.join(g.barePath, "hooks", "pre-receive");
    const marker = path.join(g.barePath, "raced");
    fs.writeFileSync(hook, `#!/bin/sh
cat >/dev/null
[ -e '${marker}' ] && exit 0
touch '${marker}'
unset GIT_DIR GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_PUSH_OPTION_COUNT
tmp=$(mktemp -d)
git clone -q '${g.barePath}' "$tmp/c" && cd "$tmp/c" && echo "other change" > OTHER.md && git add OTHER.md &&
  git -c user.name=Someone -c user.email=someone@example.invalid commit -q -m "someone else" && git push -q origin HEAD:main
exit 0
`, { mode: 0o755 });
    await secret(ns, "git-auth", CREDS);
    await gitRepo(ns, "app", { url: g.http!.url(), secretRef: { name: "git-auth" } });
    await policy(ns, "^1.x");
    await automation(ns, "race", { sourceRef: { kind: "GitRepository", name: "app" }, git: { commit: { author: { email: "bot@example.invalid" } } } });
    const a = await waitAutomation(ns, "race", { status: "True" }, (o) => !!o.status?.lastPushCommit);
    expect(fs.existsSync(marker)).to.equal(true);
    const head = remoteHead(g);
    expect(a.status!.lastPushCommit).to.equal(head);
    // Both changes are there: the other commit is the parent of the automation's.
    expect(remoteLog(g, "%s", "main~1")).to.equal("someone else\n");
    expect(remoteFile(g, "OTHER.md")).to.equal("other change\n");
    // Within the same run: the rejection never surfaced as a failure (no Warning event).
    const evs = await client.list<{ metadata: object; type?: string; message?: string; involvedObject?: { name?: string; kind?: string } }>(
      { group: "", version: "v1", plural: "events", kind: "Event" }, { namespace: ns });
    expect(evs.items.filter((e) => e.involvedObject?.kind === "ImageUpdateAutomation" && e.type === "Warning").map((e) => e.message)).to.deep.equal([]);
    expect(remoteFile(g, "deploy.yaml")).to.equal(deploymentYaml(`${reg.host}/app:1.1.0`, `${ns}:app`));
  });

  it("uses a GitRepository of another namespace, honours spec.suspend, and signs with an SSH key", async () => {
    const ns = await newNamespace();
    const srcNs = await newNamespace();
    const g = await appRepo({ "deploy.yaml": deploymentYaml(`${reg.host}/app:1.0.0`, `${ns}:app`) });
    await secret(srcNs, "git-auth", CREDS);
    await gitRepo(srcNs, "shared", { url: g.http!.url(), secretRef: { name: "git-auth" } });
    await policy(ns, "^1.x");
    const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-iua-sshsign-"));
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(keyDir, "id")]);
    await secret(ns, "ssh-signing", { identity: fs.readFileSync(path.join(keyDir, "id"), "utf8") });
    fs.rmSync(keyDir, { recursive: true, force: true });
    await create(imageUpdateAutomations, "image.toolkit.fluxcd.io/v1", ns, "paused", {
      interval: "10m", suspend: true, sourceRef: { kind: "GitRepository", name: "shared", namespace: srcNs },
      git: { commit: { author: { email: "bot@example.invalid" }, signingKey: { type: "ssh", secretRef: { name: "ssh-signing" } } } },
    }, { annotations: { "reconcile.fluxcd.io/requestedAt": "one" } });
    await eventually(async () => (await client.get<ImageUpdateAutomation>(imageUpdateAutomations, { namespace: ns, name: "paused" }))?.status?.lastHandledReconcileAt === "one",
      { timeoutMs: 30000, what: "the suspended automation to handle the request" });
    expect(remoteHead(g)).to.equal(g.initialCommit);
    await client.patch(imageUpdateAutomations, { namespace: ns, name: "paused" }, { spec: { suspend: false } });
    const a = await waitAutomation(ns, "paused", { status: "True" }, (o) => !!o.status?.lastPushCommit);
    expect(a.status!.lastPushCommit).to.equal(remoteHead(g));
    expect(remoteFile(g, "deploy.yaml")).to.equal(deploymentYaml(`${reg.host}/app:1.1.0`, `${ns}:app`));
    const raw = execFileSync("git", ["--git-dir", g.barePath, "cat-file", "commit", a.status!.lastPushCommit!], { encoding: "utf8" });
    expect(raw).to.match(/^gpgsig -----BEGIN SSH SIGNATURE-----/m);
  });

  it("--no-cross-namespace-refs: a GitRepository of another namespace is AccessDenied (Stalled)", async () => {
    const { kc } = await getCluster();
    const other = `iua-nx-${randomSuffix(8)}`;
    const m = testManager(kc, "gitops-test-image-automation-nx", other);
    for (const d of imageAutomationControllers({ noCrossNamespaceRefs: true })) m.add(d);
    await m.start();
    try {
      const ns = await newNamespace();
      await client.create(imageUpdateAutomations, {
        apiVersion: "image.toolkit.fluxcd.io/v1", kind: "ImageUpdateAutomation", metadata: { name: "x", namespace: ns, labels: { [INSTANCE_LABEL]: other } },
        spec: { interval: "10m", sourceRef: { kind: "GitRepository", name: "repo", namespace: "elsewhere" }, git: { commit: { author: { email: "b@x.invalid" } } } },
      } as never);
      await waitAutomation(ns, "x", { status: "False", reason: "AccessDenied", stalled: true, message: /^can't access 'GitRepository\/elsewhere\/repo', cross-namespace references have been blocked$/ });
    } finally { await m.stop(); }
  });

  describe("bad input: Ready=False with the real error", () => {
    it("an unparseable messageTemplate", async () => {
      const ns = await newNamespace();
      const g = await appRepo({ "deploy.yaml": deploymentYaml(`${reg.host}/app:1.0.0`, `${ns}:app`) });
      await secret(ns, "git-auth", CREDS);
      await gitRepo(ns, "app", { url: g.http!.url(), secretRef: { name: "git-auth" } });
      await automation(ns, "tpl", { sourceRef: { kind: "GitRepository", name: "app" }, git: { commit: { author: { email: "b@x.invalid" }, messageTemplate: "Update {{ range .Changed.Changes }}{{ .NewValue }}" } } });
      await waitAutomation(ns, "tpl", { status: "False", reason: "GitOperationFailed", message: /^failed to update source: unable to create commit message template from spec: template: commit message: unexpected EOF$/ });
      expect(remoteHead(g)).to.equal(g.initialCommit);
    });

    it("a template using the removed .Updated field stalls, as Flux", async () => {
      const ns = await newNamespace();
      const g = await appRepo({ "deploy.yaml": deploymentYaml(`${reg.host}/app:1.0.0`, `${ns}:app`) });
      await secret(ns, "git-auth", CREDS);
      await gitRepo(ns, "app", { url: g.http!.url(), secretRef: { name: "git-auth" } });
      await policy(ns, "^1.x");
      await automation(ns, "old", { sourceRef: { kind: "GitRepository", name: "app" }, git: { commit: { author: { email: "b@x.invalid" }, messageTemplate: "{{ range .Updated.Images }}{{ . }}{{ end }}" } } });
      await waitAutomation(ns, "old", { status: "False", reason: "RemovedTemplateField", stalled: true, message: /removed '\.Updated' field/ });
      expect(remoteHead(g)).to.equal(g.initialCommit);
    });

    it("a missing GitRepository", async () => {
      const ns = await newNamespace();
      await automation(ns, "nosrc", { sourceRef: { kind: "GitRepository", name: "absent" }, git: { commit: { author: { email: "b@x.invalid" } } } });
      await waitAutomation(ns, "nosrc", { status: "False", reason: "SourceManagerFailed", message: /^failed configuring source manager: referenced git repository does not exist: gitrepositories.source.toolkit.fluxcd.io "absent" not found$/ });
    });

    it("a push the server rejects (pre-receive hook), nothing half-committed", async () => {
      const ns = await newNamespace();
      const g = await appRepo({ "deploy.yaml": deploymentYaml(`${reg.host}/app:1.0.0`, `${ns}:app`) });
      fs.writeFileSync(path.join(g.barePath, "hooks", "pre-receive"), "#!/bin/sh\ncat >/dev/null\necho 'main is protected' >&2\nexit 1\n", { mode: 0o755 });
      await secret(ns, "git-auth", CREDS);
      await gitRepo(ns, "app", { url: g.http!.url(), secretRef: { name: "git-auth" } });
      await policy(ns, "^1.x");
      await automation(ns, "denied", { sourceRef: { kind: "GitRepository", name: "app" }, git: { commit: { author: { email: "b@x.invalid" } } } });
      await waitAutomation(ns, "denied", { status: "False", reason: "GitOperationFailed", message: /^failed to update source: failed to push to remote: .*main is protected.*pre-receive hook declined/ });
      expect(remoteHead(g)).to.equal(g.initialCommit);
    });

    it("bad credentials", async () => {
      const ns = await newNamespace();
      const g = await appRepo({ "deploy.yaml": deploymentYaml(`${reg.host}/app:1.0.0`, `${ns}:app`) });
      await secret(ns, "git-auth", { username: "flux", password: "wrong" });
      await gitRepo(ns, "app", { url: g.http!.url(), secretRef: { name: "git-auth" } });
      await automation(ns, "creds", { sourceRef: { kind: "GitRepository", name: "app" }, git: { commit: { author: { email: "b@x.invalid" } } } });
      await waitAutomation(ns, "creds", { status: "False", reason: "GitOperationFailed", message: /^failed to checkout source: unable to clone '.*': .*(Authentication failed|401|terminal prompts disabled).*check the credentials in the Secret/ });
    });
  });
});
