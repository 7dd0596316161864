// Bootstrap over HTTPS from a server whose certificate a test CA signed: the CA given as
// http.certificateAuthority (no http opt-in), with basic auth or a bearer token; the credentials
// Secret carries Flux's keys, and the root GitRepository and Kustomization are Ready at the
// commit pushed. Without the CA the up fails saying so, pushing nothing.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { Bootstrap } from "../../../provider";
import { eventually, randomSuffix } from "../../support/cluster";
import type { GitServers } from "../../support/git-server";
import { commitCount, fluxNamespace, getObject, gitRepo, gitRepoUser, kubeconfigText, tipOf } from "./fixtures";
import { changed, inlineStack, pulumiRun } from "./pulumi-harness";
import { canSync, waitForSync, withControllers } from "./sync";

type Http = { username?: string; password?: pulumi.Input<string>; bearerToken?: pulumi.Input<string>; certificateAuthority?: string };
type Cond = { type: string; status: string; reason?: string; message?: string };
type Synced = { metadata: { generation?: number }; spec?: { url?: string; secretRef?: { name: string } }; status?: { conditions?: Cond[]; observedGeneration?: number; artifact?: { revision?: string }; lastAppliedRevision?: string } };

const decoded = (data: Record<string, string>) => Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]));

describe("Bootstrap over HTTPS", function () {
  this.timeout(300_000);
  withControllers();
  let kubeconfig: string;
  before(async () => {
    kubeconfig = await kubeconfigText();
  });

  function program(git: GitServers, ns: string, http: Http) {
    return async () => {
      const b = new Bootstrap("flux", {
        url: git.urls.http!,
        path: "clusters/tls",
        namespace: ns,
        http,
        kubeconfig: pulumi.secret(kubeconfig),
        ...waitForSync(),
      });
      return { revision: b.revision, appliedRevision: b.appliedRevision, files: b.files };
    };
  }

  /** The root objects are Ready at `main@sha1:<tip>` and the output says so. */
  async function expectSyncedAt(git: GitServers, ns: string, outputs: Record<string, unknown>): Promise<void> {
    const tip = await tipOf(git);
    expect(outputs.revision, "revision output is the pushed commit").to.equal(tip);
    const repo = await getObject<Synced>("source.toolkit.fluxcd.io/v1", "GitRepository", ns, ns);
    expect(repo?.spec?.url).to.equal(git.urls.http);
    expect(repo?.spec?.secretRef?.name).to.equal(ns);
    if (!canSync()) return;
    const revision = `main@sha1:${tip}`;
    expect(outputs.appliedRevision).to.equal(revision);
    const ready = (o: Synced | undefined) => o?.status?.conditions?.find((c) => c.type === "Ready");
    expect(ready(repo), JSON.stringify(repo?.status)).to.include({ status: "True" });
    expect(repo!.status!.artifact?.revision).to.equal(revision);
    const ks = await getObject<Synced>("kustomize.toolkit.fluxcd.io/v1", "Kustomization", ns, ns);
    expect(ready(ks), JSON.stringify(ks?.status)).to.include({ status: "True" });
    expect(ks!.status!.lastAppliedRevision).to.equal(revision);
    expect(ks!.status!.observedGeneration).to.equal(ks!.metadata.generation);
  }

  it("refuses the server's certificate without http.certificateAuthority, saying so, and pushes nothing", async () => {
    const git = await gitRepo({ http: { basicAuth: gitRepoUser, tls: true } });
    const before = await commitCount(git);
    const ns = fluxNamespace();
    const stack = await inlineStack("bootstrap-https-noca", program(git, ns, { username: gitRepoUser.username, password: pulumi.secret(gitRepoUser.password) }));
    const err = await stack.up().then(() => undefined, (e: Error) => e);
    expect(err, "up should fail").to.be.instanceOf(Error);
    if (process.env.SHOW_ERRORS) console.log(err!.message);
    // git's own words (gnutls or OpenSSL builds), then what to do about it.
    expect(err!.message).to.match(/server certificate verification failed|SSL certificate problem/);
    expect(err!.message).to.include("http.certificateAuthority").and.not.include("cannot be reached");
    expect(await commitCount(git)).to.equal(before);
    expect(await getObject("v1", "Namespace", ns)).to.equal(undefined);
  });

  it("with basic auth and a custom CA: no http opt-in, the Secret holds ca.crt, username and password, Ready at the pushed commit", async () => {
    const git = await gitRepo({ http: { basicAuth: gitRepoUser, tls: true } });
    expect(git.urls.http).to.match(/^https:\/\//);
    const ca = git.http!.caPem!;
    const ns = fluxNamespace();
    const stack = await inlineStack("bootstrap-https-basic", program(git, ns, { username: gitRepoUser.username, password: pulumi.secret(gitRepoUser.password), certificateAuthority: ca }));
    // No allowInsecureHttp: https:// passes check at preview.
    await stack.preview();
    const res = await stack.up();
    expect(await commitCount(git)).to.equal(2);
    const secret = await getObject("v1", "Secret", ns, ns);
    const data = decoded(secret!.data!);
    expect(Object.keys(data).sort()).to.deep.equal(["ca.crt", "password", "username"]);
    expect(data["ca.crt"]!.trim()).to.equal(ca.trim());
    expect(data.username).to.equal(gitRepoUser.username);
    expect(data.password).to.equal(gitRepoUser.password);
    await expectSyncedAt(git, ns, res.outputs);
    // The push authenticated as the user, over TLS.
    const pushes = git.http!.requests.filter((r) => r.method === "POST" && r.path.endsWith("/git-receive-pack"));
    expect(pushes.length).to.be.greaterThan(0);
    expect(pushes.every((r) => r.status === 200 && r.user === gitRepoUser.username), JSON.stringify(pushes)).to.equal(true);
    expect(changed((await stack.up()).changes)).to.equal(0);
    await stack.destroy();
    // The namespace goes with its content (the Secret) once the namespace controller is done.
    await eventually(async () => !(await getObject("v1", "Secret", ns, ns)), { timeoutMs: 60_000, what: "credentials Secret deleted" });
  });

  it("with a bearer token and a custom CA: the Secret holds ca.crt and bearerToken only, Ready at the pushed commit", async () => {
    const token = `tok-${randomSuffix(12)}`;
    const git = await gitRepo({ http: { bearerToken: token, tls: true } });
    const ca = git.http!.caPem!;
    const ns = fluxNamespace();
    const stack = await inlineStack("bootstrap-https-bearer", program(git, ns, { bearerToken: pulumi.secret(token), certificateAuthority: ca }));
    const res = await stack.up();
    const secret = await getObject("v1", "Secret", ns, ns);
    const data = decoded(secret!.data!);
    expect(Object.keys(data).sort()).to.deep.equal(["bearerToken", "ca.crt"]);
    expect(data.bearerToken).to.equal(token);
    expect(data["ca.crt"]!.trim()).to.equal(ca.trim());
    await expectSyncedAt(git, ns, res.outputs);
    // The push carried the token (the server accepts nothing else).
    const pushes = git.http!.requests.filter((r) => r.method === "POST" && r.path.endsWith("/git-receive-pack"));
    expect(pushes.length).to.be.greaterThan(0);
    expect(pushes.every((r) => r.status === 200 && r.user === "bearer"), JSON.stringify(pushes)).to.equal(true);
    // The token is a secret: encrypted in the state files the backend wrote.
    const { backend } = await pulumiRun();
    const stateFiles = (fs.readdirSync(backend, { recursive: true }) as string[]).map((f) => path.join(backend, f)).filter((f) => f.includes(stack.name) && fs.statSync(f).isFile());
    expect(stateFiles.length).to.be.greaterThan(0);
    for (const f of stateFiles) {
      const raw = fs.readFileSync(f);
      const plain = (f.endsWith(".gz") ? zlib.gunzipSync(raw) : raw).toString();
      expect(plain, f).to.not.include(token);
    }
    expect(changed((await stack.up()).changes)).to.equal(0);
  });
});
