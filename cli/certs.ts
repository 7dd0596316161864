// A throwaway PKI for the embedded cluster, made with the openssl CLI: a CA, the API server's
// serving certificate, an admin client certificate (group system:masters) and the
// service-account signing key pair. EC P-256 keys: fast to generate, accepted everywhere.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export interface ClusterPki {
  caCert: string; caKey: string;
  serverCert: string; serverKey: string;
  adminCert: string; adminKey: string;
  saKey: string; saPub: string;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString().trim() || e.message}`, { cause: err });
  }
}

function keyPair(dir: string, name: string): void {
  openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${name}.key`], dir);
}

function signed(dir: string, name: string, subject: string, ext: string): void {
  keyPair(dir, name);
  openssl(["req", "-new", "-key", `${name}.key`, "-subj", subject, "-out", `${name}.csr`], dir);
  fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
  openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
    "-days", "825", "-extfile", `${name}.ext`, "-out", `${name}.crt`], dir);
}

/** A client certificate signed by the cluster CA in `dir` (e.g. the kubelet's `/O=system:nodes/CN=system:node:<name>`). */
export function clientCert(dir: string, name: string, subject: string): { cert: string; key: string } {
  signed(dir, name, subject, "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n");
  return { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
}

/** `extraIps`: more addresses the API server answers on (the real node's bridge address). */
export function makePki(dir: string, extraIps: string[] = []): ClusterPki {
  fs.mkdirSync(dir, { recursive: true });
  keyPair(dir, "ca");
  openssl(["req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=gitops-dev-cluster-ca", "-days", "3650",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", "ca.crt"], dir);
  const sans = ["IP:127.0.0.1", "IP:10.96.0.1", ...extraIps.map((ip) => `IP:${ip}`), "DNS:localhost", "DNS:kubernetes", "DNS:kubernetes.default",
    "DNS:kubernetes.default.svc", "DNS:kubernetes.default.svc.cluster.local"].join(",");
  signed(dir, "apiserver", "/CN=kube-apiserver",
    `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${sans}\n`);
  signed(dir, "admin", "/O=system:masters/CN=gitops-admin",
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n");
  keyPair(dir, "sa");
  openssl(["ec", "-in", "sa.key", "-pubout", "-out", "sa.pub"], dir);
  const p = (f: string) => path.join(dir, f);
  return {
    caCert: p("ca.crt"), caKey: p("ca.key"), serverCert: p("apiserver.crt"), serverKey: p("apiserver.key"),
    adminCert: p("admin.crt"), adminKey: p("admin.key"), saKey: p("sa.key"), saPub: p("sa.pub"),
  };
}
