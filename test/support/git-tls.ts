// Self-signed test CA and a serving certificate for IP:127.0.0.1, made with the openssl CLI.
import * as fs from "node:fs";
import * as path from "node:path";
import { runCommand } from "./git-cli";

export interface TestCertificates {
  /** PEM of the self-signed CA (what a "custom CA" secret would carry). */
  caPem: string;
  /** File holding caPem (for GIT_SSL_CAINFO / http.sslCAInfo). */
  caFile: string;
  /** Serving certificate (SAN IP:127.0.0.1, DNS:localhost) signed by the CA. */
  certPem: string;
  /** Private key of the serving certificate. */
  keyPem: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  let result;
  try {
    result = await runCommand("openssl", args, { cwd });
  } catch (err) {
    throw new Error(`openssl CLI not available (Debian package "openssl"): ${(err as Error).message}`);
  }
  if (result.code !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr.trim()}`);
}

/** Create a CA and a 127.0.0.1 serving certificate in `dir` (P-256 keys, 1 day validity). */
export async function createTestCertificates(dir: string): Promise<TestCertificates> {
  fs.mkdirSync(dir, { recursive: true });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl(
    [
      "req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
      "-subj", "/CN=gitops test CA",
      "-addext", "basicConstraints=critical,CA:TRUE",
      "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    ],
    dir,
  );
  await openssl(["req", "-new", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"], dir);
  fs.writeFileSync(
    path.join(dir, "server.ext"),
    [
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "",
    ].join("\n"),
  );
  await openssl(
    [
      "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
      "-out", "server.crt", "-days", "1", "-sha256", "-extfile", "server.ext",
    ],
    dir,
  );
  const read = (name: string) => fs.readFileSync(path.join(dir, name), "utf8");
  return { caPem: read("ca.crt"), caFile: path.join(dir, "ca.crt"), certPem: read("server.crt"), keyPem: read("server.key") };
}

/** A client certificate (clientAuth, CN=source-controller) signed by the test CA made in `dir` by createTestCertificates. */
export async function createClientCertificate(dir: string): Promise<{ certPem: string; keyPem: string }> {
  await openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=source-controller"], dir);
  fs.writeFileSync(path.join(dir, "client.ext"), "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n");
  await openssl(["x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "client.crt", "-days", "1", "-sha256", "-extfile", "client.ext"], dir);
  return { certPem: fs.readFileSync(path.join(dir, "client.crt"), "utf8"), keyPem: fs.readFileSync(path.join(dir, "client.key"), "utf8") };
}
