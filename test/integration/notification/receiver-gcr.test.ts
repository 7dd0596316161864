// The gcr Receiver against a stand-in for Google's key endpoint on 127.0.0.1 (a JWKS with an
// RSA key made by node:crypto, reached through --gcr-oidc-jwks-url's option): a Pub/Sub push
// of a registry notification with a Google-style ID token for the Secret's service account and
// audience annotates the Receiver's ImageRepositories; a wrong audience, email, issuer, key or
// signature, an unverified email or an expired token are 401, a push that is not a registry
// notification 400, and none annotates anything. A Secret without `email`/`audience` keeps the
// Receiver Ready=False, saying what to add.
import { expect } from "chai";
import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { ImageRepositoryNames } from "../../../controllers/api/image/v1/image-repository";
import type { Receiver } from "../../../controllers/api/notification/v1/receiver";
import { eventually, newNamespace } from "../../support/cluster";
import { NotificationStack, createReceiver, createSecret, receivers, startNotificationStack, waitForReceiver } from "./support";

const imageRepos = { group: ImageRepositoryNames.group, version: ImageRepositoryNames.version, plural: ImageRepositoryNames.plural, kind: ImageRepositoryNames.kind };
const secrets = { group: "", version: "v1", plural: "secrets", kind: "Secret" };
const requested = "reconcile.fluxcd.io/requestedAt";
const fluxPath = (token: string, name: string, ns: string) => `/hook/${createHash("sha256").update(token + name + ns).digest("hex")}`;
const serviceAccount = "flux-push@my-project.iam.gserviceaccount.com";

/** Google's certs endpoint stand-in: `/oauth2/v3/certs`, RS256 keys by `kid`, requests counted. */
class GoogleKeys {
  readonly rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  readonly rotated = generateKeyPairSync("rsa", { modulusLength: 2048 });
  /** Serve the rotated key too (kid g-2), as after a key rotation. */
  rotatedIn = false;
  requests = 0;
  #server?: http.Server;
  url = "";

  async start(): Promise<void> {
    const jwk = (k: KeyObject, kid: string) => ({ ...k.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" });
    this.#server = http.createServer((req, res) => {
      if (req.url !== "/oauth2/v3/certs") return void res.writeHead(404).end();
      this.requests++;
      const keys = [jwk(this.rsa.publicKey, "g-1"), ...(this.rotatedIn ? [jwk(this.rotated.publicKey, "g-2")] : [])];
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys }));
    });
    await new Promise<void>((r) => this.#server!.listen(0, "127.0.0.1", () => r()));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/oauth2/v3/certs`;
  }

  close(): Promise<void> { return new Promise((r) => { this.#server?.closeAllConnections(); this.#server ? this.#server.close(() => r()) : r(); }); }

  /** An ID token as Pub/Sub mints for a push subscription's service account, over `claims`. */
  token(audience: string, claims: Record<string, unknown> = {}, o: { kid?: string; key?: KeyObject; alg?: string } = {}): string {
    const now = Math.floor(Date.now() / 1000);
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const head = enc({ alg: o.alg ?? "RS256", kid: o.kid ?? "g-1", typ: "JWT" });
    const body = enc({ aud: audience, azp: "112233445566778899", email: serviceAccount, email_verified: true, exp: now + 3600, iat: now,
      iss: "https://accounts.google.com", sub: "112233445566778899", ...claims });
    const sig = sign("sha256", Buffer.from(`${head}.${body}`), o.key ?? this.rsa.privateKey);
    return `${head}.${body}.${sig.toString("base64url")}`;
  }
}

/** A Pub/Sub push request body carrying a registry notification (Artifact Registry's `gcr` topic). */
const pushBody = (notification: unknown, data?: string) => JSON.stringify({
  message: {
    attributes: {}, data: data ?? Buffer.from(JSON.stringify(notification)).toString("base64"),
    messageId: "2070443601311540", message_id: "2070443601311540", publishTime: "2026-12-07T15:00:00.123Z", publish_time: "2026-12-07T15:00:00.123Z",
  },
  subscription: "projects/my-project/subscriptions/flux-gcr",
});

describe("Receiver: gcr (Pub/Sub push with Google ID tokens)", function () {
  this.timeout(120000);
  let stack: NotificationStack;
  const google = new GoogleKeys();
  before(async function () {
    await google.start();
    stack = await startNotificationStack({ gcrJwksUrl: google.url });
  });
  after(async () => { await stack?.stop(); await google.close(); });

  const requestedAt = async (ns: string, name: string) =>
    (await stack.client.get<{ metadata: { annotations?: Record<string, string> } }>(imageRepos, { namespace: ns, name }))?.metadata.annotations?.[requested];
  const post = (path: string, body: string, headers: Record<string, string>) =>
    fetch(`${stack.receiverUrl}${path}`, { method: "POST", body, headers: { "content-type": "application/json", ...headers } })
      .then(async (r) => ({ status: r.status, text: (await r.text()).trim() }));
  const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });
  const imageRepo = (ns: string, name: string, image: string) => stack.client.create(imageRepos, {
    apiVersion: ImageRepositoryNames.apiVersion, kind: ImageRepositoryNames.kind, metadata: { name, namespace: ns },
    spec: { image, interval: "1h", suspend: true },
  } as never);

  it("verifies the token against Google's keys, the Secret's audience and email, then annotates the ImageRepositories", async () => {
    const ns = await newNamespace("rcv-gcr");
    await imageRepo(ns, "webapp", "europe-docker.pkg.dev/my-project/apps/webapp");
    await imageRepo(ns, "worker", "europe-docker.pkg.dev/my-project/apps/worker");
    const path = fluxPath("salt-token", "gcr-receiver", ns);
    // Pub/Sub's default audience: the push endpoint URL.
    const audience = `https://flux-webhook.example.com${path}`;
    await createSecret(stack.client, ns, "gcr-webhook-token", { token: "salt-token", email: serviceAccount, audience });
    await createReceiver(stack, ns, "gcr-receiver", {
      type: "gcr", secretRef: { name: "gcr-webhook-token" },
      resources: [
        { apiVersion: "image.toolkit.fluxcd.io/v1", kind: "ImageRepository", name: "webapp", filter: "req.tag.startsWith('europe-docker.pkg.dev/my-project/apps/webapp:')" },
        { apiVersion: "image.toolkit.fluxcd.io/v1", kind: "ImageRepository", name: "worker", filter: "req.tag.startsWith('europe-docker.pkg.dev/my-project/apps/worker:')" },
      ],
    });
    const r = await waitForReceiver(stack.client, ns, "gcr-receiver", { ready: "True" });
    expect(r.status!.webhookPath).to.equal(path);

    const insert = { action: "INSERT", digest: "europe-docker.pkg.dev/my-project/apps/webapp@sha256:" + "a".repeat(64), tag: "europe-docker.pkg.dev/my-project/apps/webapp:1.2.3" };
    const body = pushBody(insert);
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const now = Math.floor(Date.now() / 1000);
    const refused: Array<[string, Record<string, string>, RegExp]> = [
      ["no token", {}, /^cannot authenticate GCR request: the Authorization header is missing or malformed$/],
      ["not a JWT", bearer("abc"), /token is not a JWT/],
      ["wrong audience", bearer(google.token("https://elsewhere.example.com/hook/x")), /^cannot authenticate GCR request: invalid ID token: audience is 'https:\/\/elsewhere\.example\.com\/hook\/x', want 'https:\/\/flux-webhook\.example\.com\/hook\/[0-9a-f]{64}'$/],
      ["expired", bearer(google.token(audience, { exp: now - 5, iat: now - 3605 })), /^cannot authenticate GCR request: invalid ID token: token expired at /],
      ["bad signature", bearer(google.token(audience, {}, { key: other.privateKey })), /^cannot authenticate GCR request: invalid ID token: the signature does not verify with Google's key$/],
      ["tampered claims", bearer(google.token(audience).replace(/^([^.]+)\.[^.]+/, (_, h: string) => `${h}.${Buffer.from(JSON.stringify({ aud: audience, email: serviceAccount, email_verified: true, exp: now + 3600, iss: "https://accounts.google.com" })).toString("base64url")}`)), /the signature does not verify/],
      ["unknown key id", bearer(google.token(audience, {}, { kid: "not-google", key: other.privateKey })), /^cannot authenticate GCR request: invalid ID token: no key in Google's key set has the token's key id 'not-google'$/],
      ["not RS256", bearer(google.token(audience, {}, { alg: "HS256" })), /expected a JWT signed with RS256 .*, found 'HS256'$/],
      ["wrong issuer", bearer(google.token(audience, { iss: "https://token.actions.githubusercontent.com" })), /^cannot authenticate GCR request: token issuer is 'https:\/\/token\.actions\.githubusercontent\.com', want 'accounts\.google\.com' or 'https:\/\/accounts\.google\.com'$/],
      ["wrong email", bearer(google.token(audience, { email: "intruder@evil-project.iam.gserviceaccount.com" })), /^cannot authenticate GCR request: token email is 'intruder@evil-project\.iam\.gserviceaccount\.com', want 'flux-push@my-project\.iam\.gserviceaccount\.com' \(the Secret's 'email'\)$/],
      ["email not verified", bearer(google.token(audience, { email_verified: false })), /^cannot authenticate GCR request: token email 'flux-push@my-project\.iam\.gserviceaccount\.com' is not verified$/],
    ];
    for (const [what, headers, message] of refused) {
      const res = await post(path, body, headers);
      expect(res.status, `${what}: ${res.text}`).to.equal(401);
      expect(res.text, what).to.match(message);
    }
    const valid = bearer(google.token(audience));
    const unusable: Array<[string, string, RegExp]> = [
      ["not JSON", "action=INSERT", /^cannot decode GCR webhook payload: /],
      ["data not base64", pushBody(undefined, "%%%"), /^cannot decode GCR webhook body: message\.data is not standard base64$/],
      ["data not JSON", pushBody(undefined, Buffer.from("INSERT").toString("base64")), /^cannot decode GCR webhook body: message\.data is not base64 of a JSON registry notification: /],
      ["no data", JSON.stringify({ message: { messageId: "1" }, subscription: "s" }), /^cannot decode GCR webhook body: /],
      ["tag not a string", pushBody({ action: "INSERT", tag: 7 }), /^cannot decode GCR webhook body: 'tag' is not a string$/],
    ];
    for (const [what, b, message] of unusable) {
      const res = await post(path, b, valid);
      expect(res.status, `${what}: ${res.text}`).to.equal(400);
      expect(res.text, what).to.match(message);
    }
    expect(await requestedAt(ns, "webapp"), "nothing annotated by refused requests").to.equal(undefined);
    expect(await requestedAt(ns, "worker")).to.equal(undefined);
    // One fetch of Google's keys, one more for the unknown key id: the set is cached.
    expect(google.requests).to.equal(2);

    const ok = await post(path, body, valid);
    expect(ok.status, ok.text).to.equal(200);
    const first = await requestedAt(ns, "webapp");
    expect(first).to.match(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \+0000 UTC$/);
    expect(await requestedAt(ns, "worker"), "the filter sees the registry notification as req: not the worker's tag").to.equal(undefined);

    // Google rotates its keys; the issuer without the scheme is Google's too; a DELETE is
    // handled like an INSERT (Flux does not look at the action).
    google.rotatedIn = true;
    const rotatedToken = google.token(audience, { iss: "accounts.google.com" }, { kid: "g-2", key: google.rotated.privateKey });
    const del = await post(path, pushBody({ action: "DELETE", tag: "europe-docker.pkg.dev/my-project/apps/worker:0.9.0" }), bearer(rotatedToken));
    expect(del.status, del.text).to.equal(200);
    expect(await requestedAt(ns, "worker")).to.match(/ \+0000 UTC$/);
    expect(await requestedAt(ns, "webapp")).to.equal(first);
    expect(google.requests, "the unknown kid g-2 refetched the key set once").to.equal(3);
  });

  it("is Ready=False (TokenNotFound) while the Secret lacks 'email' or 'audience', saying what they are; Ready once added", async () => {
    const ns = await newNamespace("rcv-gcr-secret");
    await createSecret(stack.client, ns, "gcr-token", { token: "t" });
    await createReceiver(stack, ns, "gcr", { type: "gcr", secretRef: { name: "gcr-token" }, resources: [{ kind: "ImageRepository", name: "webapp" }] });
    let r = await waitForReceiver(stack.client, ns, "gcr", { ready: "False", reason: "TokenNotFound" });
    expect(r.status!.conditions!.find((c) => c.type === "Ready")!.message).to.equal(
      `invalid '${ns}/gcr-token' secret data: required fields 'email', 'audience' for a gcr Receiver ('email': the IAM service account set on the Pub/Sub push subscription for OIDC authentication; 'audience': the 'aud' of its tokens, by default the push endpoint URL (https://<host>/hook/...))`);
    expect(r.status!.conditions!.find((c) => c.type === "Stalled"), "retried, not stalled: the Secret can be fixed").to.equal(undefined);
    expect(r.status!.webhookPath).to.equal(undefined);
    const path = fluxPath("t", "gcr", ns);
    const notReady = await post(path, pushBody({ action: "INSERT", tag: "x:1" }), bearer(google.token("a")));
    expect(notReady.status, "no Receiver serves the path yet").to.equal(404);

    await stack.client.patch(secrets, { namespace: ns, name: "gcr-token" }, { stringData: { email: serviceAccount } });
    const readyMessage = async () => (await stack.client.get<Receiver>(receivers, { namespace: ns, name: "gcr" }))?.status?.conditions?.find((c) => c.type === "Ready")?.message ?? "";
    await eventually(async () => /^invalid '[^']+' secret data: required field 'audience' for a gcr Receiver \('audience': [^;]+\)$/.test(await readyMessage()) || undefined,
      { timeoutMs: 30000, what: "the Ready message naming only 'audience'" });
    await stack.client.patch(secrets, { namespace: ns, name: "gcr-token" }, { stringData: { audience: "https://flux-webhook.example.com" + path } });
    r = await waitForReceiver(stack.client, ns, "gcr", { ready: "True" });
    expect(r.status!.webhookPath).to.equal(path);
  });
});
