// `gitops controllers run` flags: where the cluster connection comes from.
import { expect } from "chai";
import { parseControllersArgs } from "../../../cli/controllers-run";

describe("controllers run: cluster connection", () => {
  const saved = { KUBECONFIG: process.env.KUBECONFIG, KUBERNETES_SERVICE_HOST: process.env.KUBERNETES_SERVICE_HOST };
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it("needs --kubeconfig or KUBECONFIG outside a pod", () => {
    delete process.env.KUBECONFIG;
    delete process.env.KUBERNETES_SERVICE_HOST;
    expect(() => parseControllersArgs(["--only", "source"])).to.throw(/--kubeconfig \(or KUBECONFIG\) is required outside a pod/);
  });

  it("uses the in-cluster config in a pod (KUBERNETES_SERVICE_HOST set, no kubeconfig)", () => {
    delete process.env.KUBECONFIG;
    process.env.KUBERNETES_SERVICE_HOST = "10.96.0.1";
    const args = parseControllersArgs(["--only", "source"]);
    expect(args).to.include({ inCluster: true, kubeconfig: undefined });
  });

  it("prefers a given kubeconfig over the in-cluster config", () => {
    process.env.KUBERNETES_SERVICE_HOST = "10.96.0.1";
    const args = parseControllersArgs(["--kubeconfig", "/tmp/k", "--only", "source"]);
    expect(args).to.include({ inCluster: false, kubeconfig: "/tmp/k" });
  });

  it("runs source-watcher only when asked (--only), as Flux's opt-in extra component", () => {
    expect(parseControllersArgs(["--kubeconfig", "/tmp/k"]).only).to.not.include("source-watcher");
    expect(parseControllersArgs(["--kubeconfig", "/tmp/k", "--only", "source,source-watcher"]).only).to.deep.equal(["source", "source-watcher"]);
  });

  it("takes --gcr-oidc-jwks-url (where gcr Receivers fetch Google's keys), Google's by default, and refuses a non-URL", () => {
    expect(parseControllersArgs(["--kubeconfig", "/tmp/k"]).notification.gcrJwksUrl).to.equal("https://www.googleapis.com/oauth2/v3/certs");
    expect(parseControllersArgs(["--kubeconfig", "/tmp/k", "--gcr-oidc-jwks-url", "http://127.0.0.1:8080/certs"]).notification.gcrJwksUrl).to.equal("http://127.0.0.1:8080/certs");
    expect(() => parseControllersArgs(["--kubeconfig", "/tmp/k", "--gcr-oidc-jwks-url=certs.json"])).to.throw(/--gcr-oidc-jwks-url must be an http\(s\) URL of a JWKS/);
  });
});
