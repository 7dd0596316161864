// NATS NKeys (docs.nats.io "NKeys"): Ed25519 keys written as base32 (RFC 4648, no padding) of
// prefix byte(s) + key + CRC-16/XMODEM (little-endian). A user seed starts with "SU" (seed
// prefix 18<<3 combined with the user prefix 20<<3), a user public key with "U". Clients
// authenticate by signing the server's INFO `nonce`; the signature is sent base64url (no padding).
import { createPrivateKey, createPublicKey, sign } from "node:crypto";

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const PrefixSeed = 18 << 3;
const PrefixUser = 20 << 3;

function crc16(b: Uint8Array): number {
  let crc = 0;
  for (const x of b) {
    crc ^= x << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

function b32encode(b: Uint8Array): string {
  let out = ""; let bits = 0; let v = 0;
  for (const x of b) { v = (v << 8) | x; bits += 8; while (bits >= 5) { out += alphabet[(v >>> (bits - 5)) & 31]; bits -= 5; } }
  if (bits > 0) out += alphabet[(v << (5 - bits)) & 31];
  return out;
}

function b32decode(s: string): Buffer {
  const out: number[] = []; let bits = 0; let v = 0;
  for (const c of s) {
    const i = alphabet.indexOf(c);
    if (i < 0) throw new Error(`invalid character '${c}'`);
    v = (v << 5) | i; bits += 5;
    if (bits >= 8) { out.push((v >>> (bits - 8)) & 0xff); bits -= 8; }
  }
  return Buffer.from(out);
}

function withCrc(b: Buffer): Buffer {
  const c = Buffer.alloc(2); c.writeUInt16LE(crc16(b));
  return Buffer.concat([b, c]);
}

const pkcs8Ed25519 = Buffer.from("302e020100300506032b657004220420", "hex");

export interface UserNKey { publicKey: string; sign(data: Buffer): string }

/** Reads a user seed ("SU..."); Error saying what is wrong. */
export function userFromSeed(seed: string): UserNKey {
  const raw = b32decode(seed.trim());
  if (raw.length !== 36) throw new Error("not an NKey seed (want the 58-character 'SU...' user seed)");
  if (crc16(raw.subarray(0, 34)) !== raw.readUInt16LE(34)) throw new Error("the seed's checksum does not match");
  if ((raw[0] & 0xf8) !== PrefixSeed) throw new Error("not a seed (a seed starts with 'S')");
  const kind = ((raw[0] & 7) << 5) | ((raw[1] & 0xf8) >> 3);
  if (kind !== PrefixUser) throw new Error("not a user seed (want 'SU...', made with 'nk -gen user')");
  const key = createPrivateKey({ key: Buffer.concat([pkcs8Ed25519, raw.subarray(2, 34)]), format: "der", type: "pkcs8" });
  const pub = createPublicKey(key).export({ format: "der", type: "spki" }).subarray(-32);
  return {
    publicKey: b32encode(withCrc(Buffer.concat([Buffer.from([PrefixUser]), pub]))),
    sign: (data) => sign(null, data, key).toString("base64url"),
  };
}

/** Encodes a 32-byte Ed25519 seed as a user seed ("SU..."). */
export function encodeUserSeed(raw: Buffer): string {
  const p = Buffer.from([PrefixSeed | (PrefixUser >> 5), (PrefixUser & 31) << 3]);
  return b32encode(withCrc(Buffer.concat([p, raw])));
}
