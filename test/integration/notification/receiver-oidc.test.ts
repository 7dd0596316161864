// The generic-oidc Receiver against a local OIDC issuer on 127.0.0.1 (discovery document and
// JWKS served over HTTP, tokens signed with keys made by node:crypto): a valid bearer token
// annotates the resources its claims select; a wrong audience, an expired token, a bad
// signature, an unknown issuer or failed claim validations are 401 and annotate nothing.
import { expect } from "chai";
import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { GitRepositoryNames } from "../../../controllers/api/source/v1/git-repository";
import { newNamespace } from "../../support/cluster";
import { NotificationStack, createReceiver, startNotificationStack, waitForReceiver } from "./support";

const gitRepos = { group: GitRepositoryNames.group, version: GitRepositoryNames.version, plural: GitRepositoryNames.plural, kind: GitRepositoryNames.kind };
const requested = "reconcile.fluxcd.io/requestedAt";

/** An OIDC issuer: `/.well-known/openid-configuration` and `/keys`, an RS256 and an ES256 key. */
class Issuer {
  readonly rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  readonly ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
  requests = 0;
  #server?: http.Server;
  url = "";

  async start(): Promise<void> {
    const jwk = (k: KeyObject, kid: string, alg: string) => ({ ...k.export({ format: "jwk" }), kid, alg, use: "sig" });
    this.#server = http.createServer((req, res) => {
      this.requests++;
      const send = (body: unknown) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
      if (req.url === "/.well-known/openid-configuration") {
        return send({ issuer: this.url, jwks_uri: `${this.url}/keys`, id_token_signing_alg_values_supported: ["RS256", "ES256"], response_types_supported: ["id_token"], subject_types_supported: ["public"] });
      }
      if (req.url === "/keys") return send({ keys: [jwk(this.rsa.publicKey, "rsa-1", "RS256"), jwk(this.ec.publicKey, "ec-1", "ES256")] });
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => this.#server!.listen(0, "127.0.0.1", () => r()));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> { return new Promise((r) => { this.#server?.closeAllConnections(); this.#server ? this.#server.close(() => r()) : r(); }); }

  /** A JWT with `claims` over sensible defaults, signed by `key` (the issuer's RSA key by default). */
  token(claims: Record<string, unknown> = {}, o: { alg?: "RS256" | "ES256"; kid?: string; key?: KeyObject } = {}): string {
    const alg = o.alg ?? "RS256";
    const now = Math.floor(Date.now() / 1000);
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const head = enc({ alg, typ: "JWT", kid: o.kid ?? (alg === "RS256" ? "rsa-1" : "ec-1") });
    const body = enc({ iss: this.url, aud: "notification-controller", sub: "repo:my-org/app:ref:refs/heads/main", iat: now, exp: now + 300,
      repository_owner: "my-org", repository: "my-org/app", ref: "refs/heads/main", ...claims });
    const key = o.key ?? (alg === "RS256" ? this.rsa.privateKey : this.ec.privateKey);
    const sig = alg === "RS256" ? sign("sha256", Buffer.from(`${head}.${body}`), key) : sign("sha256", Buffer.from(`${head}.${body}`), { key, dsaEncoding: "ieee-p1363" });
    return `${head}.${body}.${sig.toString("base64url")}`;
  }
}

describe("Receiver: generic-oidc", function () {
  this.timeout(120000);
  let stack: NotificationStack;
  const issuer = new Issuer();
  before(async function () {
    stack = await startNotificationStack();
    await issuer.start();
  });
  after(async () => { await stack?.stop(); await issuer.close(); });

  const requestedAt = async (ns: string, name: string) =>
    (await stack.client.get<{ metadata: { annotations?: Record<string, string> } }>(gitRepos, { namespace: ns, name }))?.metadata.annotations?.[requested];
  const post = (path: string, headers: Record<string, string>) =>
    fetch(`${stack.receiverUrl}${path}`, { method: "POST", body: "{}", headers: { "content-type": "application/json", ...headers } })
      .then(async (r) => ({ status: r.status, text: await r.text() }));
  const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });

  it("verifies the bearer token against the issuer's keys and claims, then annotates the resources its claims select", async () => {
    const ns = await newNamespace("rcv-oidc");
    // Suspended GitRepositories (never fetched), told apart by the repository they come from.
    for (const [name, repo] of [["app", "my-org/app"], ["other", "my-org/other"]]) {
      await stack.client.create(gitRepos, { apiVersion: GitRepositoryNames.apiVersion, kind: GitRepositoryNames.kind,
        metadata: { name, namespace: ns, labels: { team: "a" }, annotations: { "source-repository": repo } }, spec: { url: "https://example.com/x.git", interval: "1h", suspend: true } } as never);
    }
    await createReceiver(stack, ns, "ci", {
      type: "generic-oidc",
      oidcProviders: [{
        issuerURL: issuer.url,
        variables: [{ name: "owner", expression: "claims.repository_owner" }, { name: "allowed", expression: "[vars.owner + '/app', vars.owner + '/other']" }],
        validations: [
          { expression: "vars.owner == 'my-org'", message: "wrong org" },
          { expression: "claims.repository in vars.allowed", message: "repo not in allowlist" },
          { expression: "claims.ref == 'refs/heads/main'", message: "must be the main branch" },
        ],
      }],
      resources: [{ kind: "GitRepository", name: "*", matchLabels: { team: "a" } }],
      resourceFilter: "claims.repository == res.metadata.annotations['source-repository']",
    });
    const r = await waitForReceiver(stack.client, ns, "ci", { ready: "True" });
    // No Secret: Flux's path over an empty token.
    const path = `/hook/${createHash("sha256").update(`ci${ns}`).digest("hex")}`;
    expect(r.status!.webhookPath).to.equal(path);

    const other = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const refused: Array<[string, Record<string, string>, RegExp]> = [
      ["no token", {}, /Authorization header is missing or malformed/],
      ["not a JWT", bearer("abc"), /token is not a JWT/],
      ["wrong audience", bearer(issuer.token({ aud: "someone-else" })), /expected audience "notification-controller" got \["someone-else"\]/],
      ["expired", bearer(issuer.token({ exp: Math.floor(Date.now() / 1000) - 60 })), /token is expired/],
      ["bad signature", bearer(issuer.token({}, { key: other.privateKey })), /failed to verify signature/],
      ["tampered claims", bearer(issuer.token().replace(/^([^.]+)\.[^.]+/, (_, h: string) => `${h}.${Buffer.from(JSON.stringify({ iss: issuer.url, aud: "notification-controller", exp: 4102444800, repository_owner: "my-org", repository: "my-org/other", ref: "refs/heads/main" })).toString("base64url")}`)), /failed to verify signature/],
      ["unknown issuer", bearer(issuer.token({ iss: "https://token.example" })), /no oidcProvider configured for issuer "https:\/\/token.example"/],
      ["failed validations", bearer(issuer.token({ repository_owner: "evil-org", ref: "refs/heads/dev" })), /^token validation failed: wrong org; repo not in allowlist; must be the main branch$/],
    ];
    for (const [what, headers, message] of refused) {
      const res = await post(path, headers);
      expect(res.status, `${what}: ${res.text}`).to.equal(401);
      expect(res.text.trim(), what).to.match(message);
    }
    expect(await requestedAt(ns, "app"), "nothing annotated by refused requests").to.equal(undefined);
    expect(await requestedAt(ns, "other")).to.equal(undefined);

    const ok = await post(path, bearer(issuer.token()));
    expect(ok.status, ok.text).to.equal(200);
    const first = await requestedAt(ns, "app");
    expect(first).to.match(/ \+0000 UTC$/);
    expect(await requestedAt(ns, "other"), "the claims-based resourceFilter").to.equal(undefined);

    // An ES256 token (the issuer's second key) for the other repository.
    const es = await post(path, bearer(issuer.token({ repository: "my-org/other" }, { alg: "ES256" })));
    expect(es.status, es.text).to.equal(200);
    expect(await requestedAt(ns, "other")).to.match(/ \+0000 UTC$/);
    expect(await requestedAt(ns, "app")).to.equal(first);
  });

  it("stalls on an invalid CEL expression in a validation (InvalidCELExpression), with no webhook path", async () => {
    const ns = await newNamespace("rcv-oidc-bad");
    await createReceiver(stack, ns, "bad-cel", {
      type: "generic-oidc",
      oidcProviders: [{ issuerURL: issuer.url, validations: [{ expression: "claims.repository_owner ==", message: "org" }] }],
      resources: [{ kind: "GitRepository", name: "app" }],
    });
    const r = await waitForReceiver(stack.client, ns, "bad-cel", { ready: "False", reason: "InvalidCELExpression" });
    const ready = r.status!.conditions!.find((c) => c.type === "Ready")!;
    expect(ready.message).to.match(/^Reconciliation failed terminally due to configuration error: oidcProviders\[0\] \(issuerURL="http:\/\/127\.0\.0\.1:\d+"\): invalid expression for validation "org": /);
    expect(r.status!.conditions!.find((c) => c.type === "Stalled")).to.include({ status: "True", reason: "InvalidCELExpression" });
    expect(r.status!.webhookPath).to.equal(undefined);
  });
});
