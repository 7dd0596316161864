// componentsExtra: source-watcher, image-reflector- and image-automation-controller installed as `flux install
// --components-extra=source-watcher,image-reflector-controller,image-automation-controller --export` renders them. The expected
// objects are Flux's, transcribed from the upstream sources the install bundles: each controller's
// config/manager (Deployment, Service) with flux2's manifests/bases/<controller> patches and the
// flux CLI's install template (args 0-2 and 6 replaced, labels, node selector). One deliberate
// difference: no GOMEMLIMIT env (our controllers are Node processes, as for the four defaults).
import { expect } from "chai";
import { renderInstall } from "../../../provider/manifests/install";
import { controllerDefs, imageTable } from "../../../provider/manifests/controllers";
import { InvalidInputError } from "../../../provider/manifests/options";
import { KNOWN_CONTROLLERS } from "../../../cli/controllers-run";
import type { KubeManifest } from "../../../provider/manifests/objects";

const find = (objs: KubeManifest[], kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name);
type Pod = { spec: { containers: { args: string[]; image: string }[] } };
const args = (d: KubeManifest) => (d.spec as { template: Pod }).template.spec.containers[0]!.args;

const version = "v2.9.5";
const labels = (component: string) => ({
  "app.kubernetes.io/component": component,
  "app.kubernetes.io/instance": "flux-system",
  "app.kubernetes.io/part-of": "flux",
  "app.kubernetes.io/version": version,
});
const runtimeNamespace = { name: "RUNTIME_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } };
const securityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};
const eventsAddr = "--events-addr=http://notification-controller.$(RUNTIME_NAMESPACE).svc.cluster.local./";

const fluxSourceWatcher = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "source-watcher", namespace: "flux-system", labels: { "control-plane": "controller", ...labels("source-watcher") } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: "source-watcher" } },
    strategy: { type: "Recreate" },
    template: {
      metadata: { annotations: { "prometheus.io/port": "8080", "prometheus.io/scrape": "true" }, labels: { app: "source-watcher", ...labels("source-watcher") } },
      spec: {
        serviceAccountName: "source-watcher",
        priorityClassName: "system-cluster-critical",
        terminationGracePeriodSeconds: 10,
        nodeSelector: { "kubernetes.io/os": "linux" },
        securityContext: { fsGroup: 1337 },
        containers: [{
          name: "manager",
          image: `ghcr.io/example/source-watcher:${version}`,
          imagePullPolicy: "IfNotPresent",
          securityContext,
          ports: [
            { containerPort: 9090, name: "http", protocol: "TCP" },
            { containerPort: 8080, name: "http-prom", protocol: "TCP" },
            { containerPort: 9440, name: "healthz", protocol: "TCP" },
          ],
          env: [runtimeNamespace],
          args: [eventsAddr, "--watch-all-namespaces=true", "--log-level=info", "--log-encoding=json", "--enable-leader-election",
            "--storage-path=/data", "--storage-adv-addr=source-watcher.$(RUNTIME_NAMESPACE).svc.cluster.local."],
          livenessProbe: { httpGet: { port: "healthz", path: "/healthz" } },
          readinessProbe: { httpGet: { port: "http", path: "/" } },
          resources: { limits: { cpu: "1000m", memory: "1Gi" }, requests: { cpu: "50m", memory: "64Mi" } },
          volumeMounts: [{ name: "data", mountPath: "/data" }, { name: "tmp", mountPath: "/tmp" }],
        }],
        volumes: [{ name: "data", emptyDir: {} }, { name: "tmp", emptyDir: {} }],
      },
    },
  },
};

const fluxImageReflector = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "image-reflector-controller", namespace: "flux-system", labels: { "control-plane": "controller", ...labels("image-reflector-controller") } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: "image-reflector-controller" } },
    template: {
      metadata: {
        annotations: { "prometheus.io/port": "8080", "prometheus.io/scrape": "true" },
        labels: { app: "image-reflector-controller", ...labels("image-reflector-controller") },
      },
      spec: {
        serviceAccountName: "image-reflector-controller",
        terminationGracePeriodSeconds: 10,
        nodeSelector: { "kubernetes.io/os": "linux" },
        securityContext: { fsGroup: 1337 },
        containers: [{
          name: "manager",
          image: `ghcr.io/example/image-reflector-controller:${version}`,
          imagePullPolicy: "IfNotPresent",
          securityContext,
          ports: [{ containerPort: 8080, name: "http-prom", protocol: "TCP" }, { containerPort: 9440, name: "healthz", protocol: "TCP" }],
          env: [runtimeNamespace],
          args: [eventsAddr, "--watch-all-namespaces=true", "--log-level=info", "--log-encoding=json", "--enable-leader-election"],
          readinessProbe: { httpGet: { path: "/readyz", port: "healthz" } },
          livenessProbe: { httpGet: { path: "/healthz", port: "healthz" } },
          resources: { limits: { cpu: "1000m", memory: "1Gi" }, requests: { cpu: "100m", memory: "64Mi" } },
          volumeMounts: [{ name: "temp", mountPath: "/tmp" }, { name: "data", mountPath: "/data" }],
        }],
        volumes: [{ name: "temp", emptyDir: {} }, { name: "data", emptyDir: {} }],
      },
    },
  },
};

// fluxcd/image-automation-controller config/manager/deployment.yaml + flux2 manifests/bases/image-automation-controller.
const fluxImageAutomation = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "image-automation-controller", namespace: "flux-system", labels: { "control-plane": "controller", ...labels("image-automation-controller") } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: "image-automation-controller" } },
    template: {
      metadata: {
        annotations: { "prometheus.io/port": "8080", "prometheus.io/scrape": "true" },
        labels: { app: "image-automation-controller", ...labels("image-automation-controller") },
      },
      spec: {
        serviceAccountName: "image-automation-controller",
        terminationGracePeriodSeconds: 10,
        nodeSelector: { "kubernetes.io/os": "linux" },
        securityContext: { fsGroup: 1337 },
        containers: [{
          name: "manager",
          image: `ghcr.io/example/image-automation-controller:${version}`,
          imagePullPolicy: "IfNotPresent",
          securityContext,
          ports: [{ containerPort: 8080, name: "http-prom", protocol: "TCP" }, { containerPort: 9440, name: "healthz", protocol: "TCP" }],
          env: [runtimeNamespace],
          args: [eventsAddr, "--watch-all-namespaces=true", "--log-level=info", "--log-encoding=json", "--enable-leader-election"],
          readinessProbe: { httpGet: { path: "/readyz", port: "healthz" } },
          livenessProbe: { httpGet: { path: "/healthz", port: "healthz" } },
          resources: { limits: { cpu: "1000m", memory: "1Gi" }, requests: { cpu: "100m", memory: "64Mi" } },
          volumeMounts: [{ name: "temp", mountPath: "/tmp" }],
        }],
        volumes: [{ name: "temp", emptyDir: {} }],
      },
    },
  },
};

describe("install manifests: componentsExtra", () => {
  const extras = ["source-watcher", "image-reflector-controller", "image-automation-controller"] as const;
  const r = renderInstall({ componentsExtra: [...extras], version, registry: "ghcr.io/example" });
  const plain = renderInstall({ version, registry: "ghcr.io/example" });

  it("render each extra controller's Deployment as Flux's install does", () => {
    expect(find(r.objects, "Deployment", "source-watcher")).to.deep.equal(fluxSourceWatcher);
    expect(find(r.objects, "Deployment", "image-reflector-controller")).to.deep.equal(fluxImageReflector);
    expect(find(r.objects, "Deployment", "image-automation-controller")).to.deep.equal(fluxImageAutomation);
  });

  it("render their ServiceAccounts, source-watcher's artifact Service, and RBAC subjects and groups", () => {
    for (const c of extras) {
      expect(find(r.objects, "ServiceAccount", c)).to.deep.equal({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: c, namespace: "flux-system", labels: labels(c) } });
    }
    expect(find(r.objects, "Service", "source-watcher")).to.deep.equal({
      apiVersion: "v1",
      kind: "Service",
      // fluxcd/source-watcher config/manager/service.yaml labels it control-plane: source-watcher
      metadata: { name: "source-watcher", namespace: "flux-system", labels: { "control-plane": "source-watcher", ...labels("source-watcher") } },
      spec: { type: "ClusterIP", selector: { app: "source-watcher" }, ports: [{ name: "http", port: 80, protocol: "TCP", targetPort: "http" }] },
    });
    expect(r.objects.filter((o) => o.kind === "Service").map((o) => o.metadata.name)).to.not.include.members(["image-reflector-controller", "image-automation-controller"]);
    const binding = find(r.objects, "ClusterRoleBinding", "crd-controller-flux-system") as unknown as { subjects: { name: string; namespace: string }[] };
    expect(binding.subjects.map((s) => s.name)).to.include.members([...extras]);
    const role = find(r.objects, "ClusterRole", "crd-controller-flux-system") as unknown as { rules: { apiGroups?: string[]; verbs: string[] }[] };
    const groups = role.rules.flatMap((x) => x.apiGroups ?? []);
    expect(groups).to.include.members(["source.extensions.fluxcd.io", "image.toolkit.fluxcd.io"]);
    const plainRole = find(plain.objects, "ClusterRole", "crd-controller-flux-system") as unknown as { rules: { apiGroups?: string[] }[] };
    expect(plainRole.rules.flatMap((x) => x.apiGroups ?? [])).to.not.include("source.extensions.fluxcd.io");
    // Neither is a cluster reconciler (cluster-admin): only kustomize- and helm-controller are.
    const reconciler = find(r.objects, "ClusterRoleBinding", "cluster-reconciler-flux-system") as unknown as { subjects: { name: string }[] };
    expect(reconciler.subjects.map((s) => s.name)).to.deep.equal(["kustomize-controller", "helm-controller"]);
  });

  it("install the CRDs of each extra controller, per kind where Flux splits image.toolkit.fluxcd.io", () => {
    const crdsOf = (objs: KubeManifest[]) => Object.fromEntries(objs.filter((o) => o.kind === "CustomResourceDefinition")
      .map((o) => [o.metadata.name, o.metadata.labels?.["app.kubernetes.io/component"]]));
    const crds = crdsOf(r.objects);
    expect(crds).to.include({
      "artifactgenerators.source.extensions.fluxcd.io": "source-watcher",
      "imagerepositories.image.toolkit.fluxcd.io": "image-reflector-controller",
      "imagepolicies.image.toolkit.fluxcd.io": "image-reflector-controller",
      "imageupdateautomations.image.toolkit.fluxcd.io": "image-automation-controller",
    });
    const without = crdsOf(plain.objects);
    for (const n of ["artifactgenerators.source.extensions.fluxcd.io", "imagerepositories.image.toolkit.fluxcd.io", "imagepolicies.image.toolkit.fluxcd.io",
      "imageupdateautomations.image.toolkit.fluxcd.io"]) {
      expect(without, n).to.not.have.property(n);
    }
    const onlyReflector = crdsOf(renderInstall({ componentsExtra: ["image-reflector-controller"] }).objects);
    expect(onlyReflector).to.not.have.property("artifactgenerators.source.extensions.fluxcd.io");
    expect(onlyReflector).to.not.have.property("imageupdateautomations.image.toolkit.fluxcd.io");
    const onlyAutomation = crdsOf(renderInstall({ componentsExtra: ["image-automation-controller"] }).objects);
    expect(Object.keys(onlyAutomation).filter((n) => n.startsWith("image"))).to.deep.equal(["imageupdateautomations.image.toolkit.fluxcd.io"]);
  });

  it("turn on the ExternalArtifact gate of kustomize- and helm-controller with source-watcher, as flux install does", () => {
    for (const c of ["kustomize-controller", "helm-controller"]) {
      expect(args(find(r.objects, "Deployment", c)!), c).to.include("--feature-gates=ExternalArtifact=true");
      expect(args(find(plain.objects, "Deployment", c)!), c).to.not.include("--feature-gates=ExternalArtifact=true");
    }
    const reflectorOnly = renderInstall({ componentsExtra: ["image-reflector-controller"] });
    expect(args(find(reflectorOnly.objects, "Deployment", "kustomize-controller")!)).to.not.include("--feature-gates=ExternalArtifact=true");
  });

  it("cover the new pods with the allow-egress and allow-scraping NetworkPolicies (all pods of the namespace)", () => {
    for (const n of ["allow-egress", "allow-scraping"]) {
      expect((find(r.objects, "NetworkPolicy", n)!.spec as { podSelector: object }).podSelector, n).to.deep.equal({});
    }
    expect((find(r.objects, "NetworkPolicy", "allow-webhooks")!.spec as { podSelector: object }).podSelector).to.deep.equal({ matchLabels: { app: "notification-controller" } });
  });

  it("list the extras after the defaults, once, in gotk-components' Components header order", () => {
    const twice = renderInstall({ componentsExtra: ["source-watcher", "image-automation-controller", "image-reflector-controller", "source-watcher"] });
    expect(twice.options.components).to.deep.equal(["source-controller", "kustomize-controller", "helm-controller", "notification-controller",
      "image-reflector-controller", "image-automation-controller", "source-watcher"]);
  });

  it("reject an unknown extra component with a message naming the field", () => {
    let err: unknown;
    try { renderInstall({ componentsExtra: ["source-watcher", "flagger" as never] }); } catch (e) { err = e; }
    expect(err).to.be.instanceOf(InvalidInputError);
    expect((err as InvalidInputError).field).to.equal("componentsExtra[1]");
    expect((err as InvalidInputError).message).to.match(/componentsExtra\[1\]: unknown extra component 'flagger'; use one of .*image-automation-controller/);
  });

  it("build one image per installable controller, running its `controllers run --only` name", () => {
    const lines = imageTable().split("\n");
    expect(lines).to.have.length(Object.keys(controllerDefs).length);
    expect(lines).to.include.members([
      "source-controller source --storage-path=/data,--storage-addr=:9090",
      "kustomize-controller kustomize",
      "source-watcher source-watcher --storage-path=/data,--storage-addr=:9090",
      "image-reflector-controller image-reflector --image-storage-path=/data",
      "image-automation-controller image-automation",
    ]);
    for (const d of Object.values(controllerDefs)) expect(KNOWN_CONTROLLERS as readonly string[], d.name).to.include(d.only);
  });
});
