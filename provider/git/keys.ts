/**
 * SSH key pairs for deploy keys, generated with node:crypto and written in formats OpenSSH
 * (and so git over ssh) reads: OpenSSH format for ed25519, SEC1/PKCS#1 PEM for ecdsa/rsa.
 * The public key is an authorized_keys line to register as a deploy key.
 */
import { generateKeyPairSync, randomBytes, createPublicKey, createPrivateKey, type KeyObject } from "node:crypto";

export type KeyAlgorithm = "ecdsa" | "ed25519" | "rsa";

export interface SshKeyPair {
  privateKey: string;
  /** `<type> <base64> <comment>` */
  publicKey: string;
}

function sshString(b: Buffer | string): Buffer {
  const data = typeof b === "string" ? Buffer.from(b) : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, data]);
}

function mpint(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  let v = b.subarray(i);
  if (v[0]! & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
  return sshString(v);
}

const b64u = (s: string) => Buffer.from(s, "base64url");

/** The authorized_keys blob of a public key. */
export function publicKeyBlob(key: KeyObject): { type: string; blob: Buffer } {
  const jwk = key.export({ format: "jwk" });
  if (jwk.kty === "OKP" && jwk.crv === "Ed25519") {
    return { type: "ssh-ed25519", blob: Buffer.concat([sshString("ssh-ed25519"), sshString(b64u(jwk.x!))]) };
  }
  if (jwk.kty === "EC") {
    const curve = { "P-256": "nistp256", "P-384": "nistp384", "P-521": "nistp521" }[jwk.crv as string];
    if (!curve) throw new Error(`unsupported curve ${jwk.crv}`);
    const point = Buffer.concat([Buffer.from([4]), b64u(jwk.x!), b64u(jwk.y!)]);
    const type = `ecdsa-sha2-${curve}`;
    return { type, blob: Buffer.concat([sshString(type), sshString(curve), sshString(point)]) };
  }
  if (jwk.kty === "RSA") {
    return { type: "ssh-rsa", blob: Buffer.concat([sshString("ssh-rsa"), mpint(b64u(jwk.e!)), mpint(b64u(jwk.n!))]) };
  }
  throw new Error(`unsupported key type ${jwk.kty}`);
}

/** The OpenSSH private key format (`openssh-key-v1`, unencrypted) of an ed25519 key. */
function opensshEd25519(priv: KeyObject, comment: string): string {
  const jwk = priv.export({ format: "jwk" });
  const pub = b64u(jwk.x!);
  const seed = b64u(jwk.d!);
  const pubBlob = Buffer.concat([sshString("ssh-ed25519"), sshString(pub)]);
  const check = randomBytes(4);
  let body = Buffer.concat([
    check,
    check,
    sshString("ssh-ed25519"),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  const pad: number[] = [];
  for (let i = 1; (body.length + pad.length) % 8 !== 0; i++) pad.push(i);
  body = Buffer.concat([body, Buffer.from(pad)]);
  const nkeys = Buffer.alloc(4);
  nkeys.writeUInt32BE(1);
  const all = Buffer.concat([
    Buffer.from("openssh-key-v1\0"),
    sshString("none"),
    sshString("none"),
    sshString(Buffer.alloc(0)),
    nkeys,
    sshString(pubBlob),
    sshString(body),
  ]);
  const lines = all.toString("base64").match(/.{1,70}/g)!.join("\n");
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

export function generateSshKeyPair(algorithm: KeyAlgorithm = "ecdsa", comment = "gitops"): SshKeyPair {
  let privateKey: string;
  let pub: KeyObject;
  if (algorithm === "ed25519") {
    const kp = generateKeyPairSync("ed25519");
    privateKey = opensshEd25519(kp.privateKey, comment);
    pub = kp.publicKey;
  } else if (algorithm === "ecdsa") {
    const kp = generateKeyPairSync("ec", { namedCurve: "P-384" });
    privateKey = kp.privateKey.export({ format: "pem", type: "sec1" }).toString();
    pub = kp.publicKey;
  } else {
    const kp = generateKeyPairSync("rsa", { modulusLength: 4096 });
    privateKey = kp.privateKey.export({ format: "pem", type: "pkcs1" }).toString();
    pub = kp.publicKey;
  }
  const { type, blob } = publicKeyBlob(pub);
  return { privateKey, publicKey: `${type} ${blob.toString("base64")} ${comment}` };
}

/** The public key line of a PEM private key (ecdsa/rsa/ed25519 PKCS#8); undefined for OpenSSH-format keys. */
export function publicKeyOf(privateKeyPem: string, comment = "gitops"): string | undefined {
  if (privateKeyPem.includes("OPENSSH PRIVATE KEY")) return publicKeyFromOpenssh(privateKeyPem, comment);
  try {
    const { type, blob } = publicKeyBlob(createPublicKey(createPrivateKey(privateKeyPem)));
    return `${type} ${blob.toString("base64")} ${comment}`;
  } catch {
    return undefined;
  }
}

/** The public key stored (in clear) inside an openssh-key-v1 private key. */
function publicKeyFromOpenssh(pem: string, comment: string): string | undefined {
  try {
    const b64 = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
    const buf = Buffer.from(b64, "base64");
    let off = "openssh-key-v1\0".length;
    const read = () => {
      const n = buf.readUInt32BE(off);
      const v = buf.subarray(off + 4, off + 4 + n);
      off += 4 + n;
      return v;
    };
    read(); // cipher
    read(); // kdf
    read(); // kdf options
    off += 4; // number of keys
    const blob = read();
    const type = blob.subarray(4, 4 + blob.readUInt32BE(0)).toString();
    return `${type} ${blob.toString("base64")} ${comment}`;
  } catch {
    return undefined;
  }
}
