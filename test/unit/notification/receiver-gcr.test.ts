// The gcr Receiver's checks as pure logic (the key set given directly, a fixed clock): the
// expiry boundary of Google's validator, an `aud` that is not the one string, and the registry
// notification handed to the filters. The HTTP and cluster side is in the integration test.
import { expect } from "chai";
import { generateKeyPairSync, sign } from "node:crypto";
import { gcrSecretProblem, verifyGcrRequest } from "../../../controllers/notification/receiver-gcr";

const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const jwks = [{ ...publicKey.export({ format: "jwk" }), kid: "k1", alg: "RS256", use: "sig" }];
const now = Date.UTC(2026, 11, 7, 12, 0, 0);
const email = "push@p.iam.gserviceaccount.com";
const audience = "https://hooks.example.com/hook/abc";

function token(claims: Record<string, unknown>): string {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const head = enc({ alg: "RS256", kid: "k1", typ: "JWT" });
  const body = enc({ iss: "https://accounts.google.com", aud: audience, email, email_verified: true, exp: now / 1000 + 60, ...claims });
  return `${head}.${body}.${sign("sha256", Buffer.from(`${head}.${body}`), privateKey).toString("base64url")}`;
}
const push = (n: unknown) => Buffer.from(JSON.stringify({ message: { data: Buffer.from(JSON.stringify(n)).toString("base64"), messageId: "1" }, subscription: "s" }));
const verify = (t: string, body = push({ action: "INSERT", tag: "gcr.io/p/app:1" })) =>
  verifyGcrRequest({ headers: { authorization: `Bearer ${t}` }, body, email, audience, keys: async () => jwks as never, now });

describe("gcr Receiver checks", () => {
  it("accepts a token up to its exp second (Google's validator: expired when now > exp), not after", async () => {
    expect(await verify(token({ exp: now / 1000 }))).to.deep.equal({ action: "INSERT", digest: "", tag: "gcr.io/p/app:1" });
    await verify(token({ exp: now / 1000 - 1 })).then(() => expect.fail("accepted an expired token"), (e: Error) => expect(e.message).to.match(/token expired at 2026-12-07T11:59:59\.000Z/));
  });

  it("wants `aud` to be the Secret's audience as one string (a list is refused, as Google's validator does)", async () => {
    await verify(token({ aud: [audience] })).then(() => expect.fail("accepted"), (e: Error) =>
      expect(e.message).to.equal(`cannot authenticate GCR request: invalid ID token: audience is '["${audience}"]', want '${audience}'`));
  });

  it("hands the filters the registry notification only, every field a string", async () => {
    expect(await verify(token({}), push({ action: "DELETE", digest: "gcr.io/p/app@sha256:00", extra: { x: 1 } })))
      .to.deep.equal({ action: "DELETE", digest: "gcr.io/p/app@sha256:00", tag: "" });
  });

  it("names every Secret key a gcr Receiver lacks", () => {
    expect(gcrSecretProblem("ns", "s", { token: "t", email, audience })).to.equal(undefined);
    expect(gcrSecretProblem("ns", "s", { token: "t", email: "", audience })).to.match(/^invalid 'ns\/s' secret data: required field 'email' for a gcr Receiver \('email': the IAM service account/);
  });
});
