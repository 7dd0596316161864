// helm-controller in a pod: client-node's in-cluster config carries the ServiceAccount token as a
// "tokenFile" auth provider that Go's client does not know. The kubeconfig written for helm must
// still authenticate as the ServiceAccount: checked with the real helm against the real API server.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import * as k8s from "@kubernetes/client-node";
import { tool } from "../../../cli/tools";
import { kubeconfigForHelm } from "../../../controllers/helm/kubeconfig";
import { Cluster } from "../../../provider/cluster/client";
import { getCluster, newNamespace } from "../../support/cluster";
import { makeTempDir, removeDir, runCommand } from "../../support/git-cli";

describe("helm-controller's kubeconfig for helm", function () {
  it("turns the in-cluster tokenFile auth provider into a token file helm authenticates with", async () => {
    const { kubeconfigPath, kc: admin } = await getCluster();
    const ns = await newNamespace("helmkc");
    const c = new Cluster({ kubeconfig: kubeconfigPath });
    const dir = makeTempDir();
    try {
      await c.apply({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "helm-controller", namespace: ns } });
      await c.apply({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "secrets", namespace: ns },
        rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "list"] }] });
      await c.apply({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: "secrets", namespace: ns },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "secrets" },
        subjects: [{ kind: "ServiceAccount", name: "helm-controller", namespace: ns }] });
      const tr = await c.request<{ status: { token: string } }>("POST", `/api/v1/namespaces/${ns}/serviceaccounts/helm-controller/token`,
        { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 600 } });
      const tokenFile = path.join(dir, "token");
      fs.writeFileSync(tokenFile, tr.status.token);
      fs.writeFileSync(path.join(dir, "ca.crt"), Buffer.from(admin.getCurrentCluster()!.caData!, "base64"));

      // what loadFromCluster() builds inside a pod
      const inPod = new k8s.KubeConfig();
      inPod.loadFromOptions({
        clusters: [{ name: "inCluster", server: admin.getCurrentCluster()!.server, caFile: path.join(dir, "ca.crt"), skipTLSVerify: false }],
        users: [{ name: "inClusterUser", authProvider: { name: "tokenFile", config: { tokenFile } } }],
        contexts: [{ name: "inClusterContext", cluster: "inCluster", user: "inClusterUser" }],
        currentContext: "inClusterContext",
      });
      const kubeconfig = path.join(dir, "kubeconfig");
      fs.writeFileSync(kubeconfig, kubeconfigForHelm(inPod));
      const env = { ...process.env, KUBECONFIG: kubeconfig, HELM_CACHE_HOME: dir, HELM_CONFIG_HOME: dir, HELM_DATA_HOME: dir };
      const ok = await runCommand(tool("helm"), ["list", "-n", ns, "-o", "json"], { env, timeoutMs: 60_000 });
      expect(ok.stderr).to.equal("");
      expect(ok.code).to.equal(0);
      expect(JSON.parse(ok.stdout)).to.deep.equal([]);
      // as the ServiceAccount, not as anyone else: another namespace is forbidden to it
      const other = await runCommand(tool("helm"), ["list", "-n", "default"], { env, timeoutMs: 60_000 });
      expect(other.code).to.not.equal(0);
      expect(other.stderr).to.match(/forbidden.*system:serviceaccount:helmkc[^:]*:helm-controller/);
    } finally {
      c.close();
      removeDir(dir);
    }
  });
});
