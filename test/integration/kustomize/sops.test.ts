// Kustomization decryption: a SOPS-encrypted (age) Secret in git is decrypted with the key
// from spec.decryption.secretRef and applied, after kustomize changed unencrypted fields
// (namespace, labels); the wrong key is a BuildFailed naming the object.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { tool } from "../../../cli/tools";
import { newNamespace } from "../../support/cluster";
import { Env, core, createKustomization, expectCurrent, gitSource, hasBin, readyCondition, sharedControllers, waitForReady } from "./support";

function ageKey(): { secret: string; recipient: string } {
  const out = execFileSync(tool("age-keygen"), [], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  return { secret: out.split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-"))!, recipient: /public key: (age1\w+)/.exec(out)![1] };
}

function encrypt(plain: string, recipient: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sops-test-"));
  try {
    const file = path.join(dir, "secret.yaml");
    fs.writeFileSync(file, plain);
    return execFileSync(tool("sops"), ["encrypt", "--age", recipient, "--encrypted-regex", "^(data|stringData)$", file], { encoding: "utf8", env: { PATH: process.env.PATH, HOME: dir } });
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
}

describe("Kustomization: SOPS decryption", function () {
  this.timeout(120_000);
  let env: Env;
  before(async function () {
    if (!hasBin("sops") || !hasBin("age-keygen")) this.skip();
    env = await sharedControllers();
  });

  it("decrypts age-encrypted Secrets with the key from the decryption Secret", async () => {
    const ns = await newNamespace("kz-sops");
    const key = ageKey();
    const enc = encrypt("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2\n", key.recipient);
    await gitSource(env.client, ns, { "app/secret.yaml": enc, "app/kustomization.yaml": "resources: [secret.yaml]\ncommonLabels:\n  team: a\n" });
    await env.client.create(core.secrets, { apiVersion: "v1", kind: "Secret", metadata: { name: "sops-age", namespace: ns }, stringData: { "identity.agekey": `${key.secret}\n` } } as never);
    await createKustomization(env.client, ns, "app", { path: "./app", targetNamespace: ns, decryption: { provider: "sops", secretRef: { name: "sops-age" } } });
    const k = await waitForReady(env.client, ns, "app");
    const secret = await env.client.get<{ metadata?: { labels?: Record<string, string> }; data?: Record<string, string> }>(core.secrets, { namespace: ns, name: "db" });
    expect(Buffer.from(secret?.data?.password ?? "", "base64").toString()).to.equal("hunter2");
    expect(secret?.metadata?.labels?.team).to.equal("a");
    expect(JSON.stringify(secret)).to.not.contain("ENC[");
    expect((secret as Record<string, unknown>).sops).to.equal(undefined);
    expectCurrent(k);
  });

  it("fails the build with the wrong key, naming the Secret", async () => {
    const ns = await newNamespace("kz-sops-bad");
    const enc = encrypt("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: x\n", ageKey().recipient);
    await gitSource(env.client, ns, { "app/secret.yaml": enc });
    await env.client.create(core.secrets, { apiVersion: "v1", kind: "Secret", metadata: { name: "sops-age", namespace: ns }, stringData: { "other.agekey": ageKey().secret } } as never);
    await createKustomization(env.client, ns, "app", { path: "./app", targetNamespace: ns, decryption: { provider: "sops", secretRef: { name: "sops-age" } } });
    const k = await waitForReady(env.client, ns, "app", { status: "False", reason: "BuildFailed" });
    expect(readyCondition(k)?.message).to.match(new RegExp(`^decryption failed for 'Secret.v1.\\[noGrp\\]/db': failed to decrypt and format '${ns}/db' Secret data: `));
    expect(await env.client.get(core.secrets, { namespace: ns, name: "db" })).to.equal(undefined);
  });
});
