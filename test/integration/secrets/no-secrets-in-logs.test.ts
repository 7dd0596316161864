// No Secret value reaches a log line or a Kubernetes Event (issue 21): the real controllers run
// as a child process at debug level, reconciling workloads that read Secrets with distinctive
// random values (git basic auth, right and wrong; Helm repository basic auth, right and wrong;
// a HelmRelease from the authenticated repository; a kubeConfig Secret; postBuild substitution
// from a Secret; SOPS decryption with an age key; a notification Provider whose address,
// headers and token come from a Secret and whose sends fail). Then every byte the process
// wrote and every Event in the cluster are searched for each value, raw, base64 (as in a
// Basic auth header or Secret data) and URL-encoded.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { tool } from "../../../cli/tools";
import { eventually, getCluster, newNamespace } from "../../support/cluster";
import { startGitServers } from "../../support/git-server";
import { HelmRepoServer } from "../../support/helm-repo";
import { onTeardown } from "../../support/teardown";
import { KubeObject } from "../../../controllers/runtime/keys";
import { ResourceRef } from "../../../controllers/runtime/kube";
import { ControllerProcess, startControllerProcess } from "../../property/support";
import { hasBin } from "../kustomize/support";

const R = (group: string, version: string, plural: string, kind: string): ResourceRef => ({ group, version, plural, kind });
const kustomizations = R("kustomize.toolkit.fluxcd.io", "v1", "kustomizations", "Kustomization");
const gitRepositories = R("source.toolkit.fluxcd.io", "v1", "gitrepositories", "GitRepository");
const helmRepositories = R("source.toolkit.fluxcd.io", "v1", "helmrepositories", "HelmRepository");
const helmReleases = R("helm.toolkit.fluxcd.io", "v2", "helmreleases", "HelmRelease");
const providers = R("notification.toolkit.fluxcd.io", "v1beta3", "providers", "Provider");
const alerts = R("notification.toolkit.fluxcd.io", "v1beta3", "alerts", "Alert");
const secrets = R("", "v1", "secrets", "Secret");
const events = { ...R("", "v1", "events", "Event") };

const secretValue = (what: string) => `S3cr3t${what}${randomBytes(12).toString("hex")}`;
type Cond = { type: string; status: string; reason?: string; message?: string };

describe("no Secret value in controller logs or Events", function () {
  this.timeout(300_000);
  let ctl: ControllerProcess;
  let ns: string;
  const values = new Map<string, string>();
  const secret = (what: string) => { const v = secretValue(what); values.set(what, v); return v; };

  async function create(res: ResourceRef, name: string, body: Record<string, unknown>): Promise<void> {
    await ctl.client.create(res, { apiVersion: res.group ? `${res.group}/${res.version}` : res.version, kind: res.kind,
      metadata: { name, namespace: ns, labels: ctl.labels }, ...body } as never);
  }

  async function ready(res: ResourceRef, name: string, status: "True" | "False", timeoutMs = 90_000): Promise<Cond> {
    let last: Cond | undefined;
    return eventually(async () => {
      const o = await ctl.client.get<KubeObject & { status?: { conditions?: Cond[]; observedGeneration?: number } }>(res, { namespace: ns, name });
      last = o?.status?.conditions?.find((c) => c.type === "Ready");
      return last?.status === status ? last : undefined;
    }, { timeoutMs, intervalMs: 250, what: `${res.kind} ${name} Ready=${status}` })
      .catch((e) => { throw new Error(`${(e as Error).message}; last Ready: ${JSON.stringify(last)}`); });
  }

  before(async function () {
    ctl = await startControllerProcess({ logLevel: "debug" });
    ns = await newNamespace("secrets");
    const gitUser = "gituser", helmUser = "helmuser";
    const gitPass = secret("GitPassword"), helmPass = secret("HelmPassword");
    // SOPS decryption, when the binaries exist: the age key and the decrypted value
    const sops: Record<string, string> = {};
    if (hasBin("sops") && hasBin("age-keygen")) {
      const out = execFileSync(tool("age-keygen"), [], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
      const ageSecret = out.split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-"))!;
      values.set("AgeKey", ageSecret);
      const recipient = /public key: (age1\w+)/.exec(out)![1];
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sops-secrets-"));
      fs.writeFileSync(path.join(dir, "s.yaml"), `apiVersion: v1\nkind: Secret\nmetadata:\n  name: decrypted\nstringData:\n  v: ${secret("SopsPlaintext")}\n`);
      sops["sops/secret.yaml"] = execFileSync(tool("sops"), ["encrypt", "--age", recipient, "--encrypted-regex", "^(data|stringData)$", path.join(dir, "s.yaml")],
        { encoding: "utf8", env: { PATH: process.env.PATH, HOME: dir } });
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const git = await startGitServers({
      files: {
        ...sops,
        "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: substituted\ndata:\n  v: \"${subst_value}\"\n",
        "remote/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: remote\ndata:\n  v: \"1\"\n",
      },
      http: { basicAuth: { username: gitUser, password: gitPass } },
    });
    onTeardown(() => git.close());
    const repo = await HelmRepoServer.start({ basicAuth: { username: helmUser, password: helmPass } });
    await repo.addChart("app", "1.0.0");

    // git basic auth, right and wrong
    await create(secrets, "git-auth", { stringData: { username: gitUser, password: gitPass } });
    await create(secrets, "git-wrong", { stringData: { username: gitUser, password: secret("GitWrongPassword") } });
    await create(gitRepositories, "repo", { spec: { interval: "10m", url: git.urls.http!, ref: { branch: "main" }, secretRef: { name: "git-auth" } } });
    await create(gitRepositories, "repo-wrong", { spec: { interval: "10m", url: git.urls.http!, ref: { branch: "main" }, secretRef: { name: "git-wrong" } } });
    // credentials in the URL itself (not Flux's way, but users write it)
    const inUrl = git.urls.http!.replace("://", `://${gitUser}:${secret("GitUrlPassword")}@`);
    await create(gitRepositories, "repo-url", { spec: { interval: "10m", url: inUrl, ref: { branch: "main" } } });

    // Helm repository basic auth, right and wrong, and a release from it
    await create(secrets, "helm-auth", { stringData: { username: helmUser, password: helmPass } });
    await create(secrets, "helm-wrong", { stringData: { username: helmUser, password: secret("HelmWrongPassword") } });
    await create(helmRepositories, "charts", { spec: { interval: "10m", url: repo.url, secretRef: { name: "helm-auth" } } });
    await create(helmRepositories, "charts-wrong", { spec: { interval: "10m", url: repo.url, secretRef: { name: "helm-wrong" } } });
    await create(helmReleases, "app", { spec: { interval: "10m", timeout: "60s",
      chart: { spec: { chart: "app", version: "1.0.0", sourceRef: { kind: "HelmRepository", name: "charts" } }, metadata: { labels: ctl.labels } },
      values: { podAnnotations: { note: "plain" } } } });

    // postBuild substitution from a Secret (its value lands in a ConfigMap, as the user asked, and nowhere else)
    await create(secrets, "vars", { stringData: { subst_value: secret("Substituted") } });
    await create(kustomizations, "subst", { spec: { interval: "10m", prune: true, path: "./app", targetNamespace: ns,
      sourceRef: { kind: "GitRepository", name: "repo" }, postBuild: { substituteFrom: [{ kind: "Secret", name: "vars" }] } } });

    // a kubeConfig Secret (the test cluster's own kubeconfig: its client key is the secret)
    const { kubeconfigPath } = await getCluster();
    const kubeconfig = fs.readFileSync(kubeconfigPath, "utf8");
    const key = /client-key-data:\s*(\S+)/.exec(kubeconfig)?.[1] ?? /token:\s*(\S+)/.exec(kubeconfig)?.[1];
    expect(key, "the test kubeconfig holds a client key or a token").to.be.a("string");
    values.set("KubeconfigKey", key!);
    values.set("KubeconfigKeyDecoded", Buffer.from(key!, "base64").toString("utf8").split("\n").filter((l) => !l.startsWith("-----"))[0] ?? key!);
    await create(secrets, "kubeconfig", { stringData: { value: kubeconfig } });
    await create(kustomizations, "remote", { spec: { interval: "10m", prune: true, path: "./remote", targetNamespace: ns,
      sourceRef: { kind: "GitRepository", name: "repo" }, kubeConfig: { secretRef: { name: "kubeconfig" } } } });

    if (values.has("AgeKey")) {
      await create(secrets, "sops-age", { stringData: { "identity.agekey": `${values.get("AgeKey")}\n` } });
      await create(kustomizations, "sops", { spec: { interval: "10m", prune: true, path: "./sops", targetNamespace: ns,
        sourceRef: { kind: "GitRepository", name: "repo" }, decryption: { provider: "sops", secretRef: { name: "sops-age" } } } });
    }

    // a notification Provider whose address (with userinfo), headers and token come from a Secret; its sends fail
    const closed = await new Promise<number>((r) => { const s = net.createServer(); s.listen(0, "127.0.0.1", () => { const p = (s.address() as net.AddressInfo).port; s.close(() => r(p)); }); });
    await create(secrets, "webhook", { stringData: {
      address: `http://hook:${secret("AddressPassword")}@127.0.0.1:${closed}/hooks/${secret("AddressPath")}`,
      headers: `Authorization: Bearer ${secret("HeaderToken")}\n`, token: secret("ProviderToken"),
    } });
    await create(providers, "hook", { spec: { type: "generic", secretRef: { name: "webhook" } } });
    await create(alerts, "all", { spec: { providerRef: { name: "hook" }, eventSeverity: "info",
      eventSources: [{ kind: "GitRepository", name: "*" }, { kind: "Kustomization", name: "*" }, { kind: "HelmRelease", name: "*" }, { kind: "HelmRepository", name: "*" }] } });
  });

  it("reconciles the workloads (right credentials Ready, wrong ones Ready=False), then finds no value in logs or Events", async function () {
    await ready(gitRepositories, "repo", "True");
    const wrong = await ready(gitRepositories, "repo-wrong", "False");
    expect(wrong.message).to.match(/auth|401|credential/i);
    await ready(gitRepositories, "repo-url", "False");
    await ready(helmRepositories, "charts", "True");
    await ready(helmRepositories, "charts-wrong", "False");
    await ready(helmReleases, "app", "True", 120_000);
    await ready(kustomizations, "subst", "True");
    await ready(kustomizations, "remote", "True");
    if (values.has("AgeKey")) await ready(kustomizations, "sops", "True");
    // the Alert tried (and failed) to send at least one event
    await eventually(async () => (await allEvents()).some((e) => e.involvedObject?.kind === "Alert" || /notification/i.test(e.reportingComponent ?? e.source?.component ?? "")),
      { timeoutMs: 60_000, what: "the Alert's failed send recorded" }).catch(() => undefined);
    // the right credentials also went through the controllers for real
    const cm = await ctl.client.get<KubeObject & { data?: Record<string, string> }>(R("", "v1", "configmaps", "ConfigMap"), { namespace: ns, name: "substituted" });
    expect(cm?.data?.v, "the substituted value reached the ConfigMap").to.equal(values.get("Substituted"));

    const logs = ctl.stdout() + ctl.stderr();
    // A floor that proves the scan below reads real debug output (about 50-150 lines, by load and timing).
    expect(logs.split("\n").filter(Boolean).length, "debug logs were written").to.be.greaterThan(20);
    const evs = JSON.stringify(await allEvents());
    const leaks: string[] = [];
    for (const [what, v] of values) {
      for (const [enc, text] of encodings(v)) {
        if (logs.includes(text)) leaks.push(`${what} (${enc}) in the controller logs: ...${around(logs, text)}...`);
        if (evs.includes(text)) leaks.push(`${what} (${enc}) in an Event: ...${around(evs, text)}...`);
      }
    }
    expect(leaks, leaks.join("\n")).to.deep.equal([]);
    ctl.assertHealthy();
  });

  async function allEvents(): Promise<Array<KubeObject & { message?: string; reason?: string; reportingComponent?: string; source?: { component?: string }; involvedObject?: { kind?: string } }>> {
    return (await ctl.client.list<KubeObject>(events)).items as never;
  }

  function encodings(v: string): Array<[string, string]> {
    return [["raw", v], ["base64", Buffer.from(v).toString("base64")], ["url-encoded", encodeURIComponent(v)],
      ...["gituser", "helmuser", "hook"].map((u) => [`base64 ${u}:`, Buffer.from(`${u}:${v}`).toString("base64")] as [string, string])];
  }

  function around(text: string, needle: string): string {
    const i = text.indexOf(needle);
    return text.slice(Math.max(0, i - 200), i + needle.length + 100);
  }
});
