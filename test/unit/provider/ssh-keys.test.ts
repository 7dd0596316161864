// Generated SSH keys are read by OpenSSH: `ssh-keygen -y` derives the same public key.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { generateSshKeyPair, publicKeyOf, type KeyAlgorithm } from "../../../provider/git/keys";

describe("SSH key pairs", () => {
  for (const alg of ["ecdsa", "ed25519", "rsa"] as KeyAlgorithm[]) {
    it(`generates ${alg} keys that ssh-keygen reads back to the same public key`, function () {
      this.timeout(30_000);
      const kp = generateSshKeyPair(alg, "test");
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keys-"));
      const f = path.join(dir, "id");
      fs.writeFileSync(f, kp.privateKey, { mode: 0o600 });
      const derived = execFileSync("ssh-keygen", ["-y", "-f", f]).toString().trim().split(" ").slice(0, 2).join(" ");
      expect(derived).to.equal(kp.publicKey.split(" ").slice(0, 2).join(" "));
      expect(publicKeyOf(kp.privateKey, "test")).to.equal(kp.publicKey);
      fs.rmSync(dir, { recursive: true, force: true });
    });
  }
});
