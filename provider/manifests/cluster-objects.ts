/**
 * Namespace, RBAC, quota and NetworkPolicies of an installation, with Flux's names
 * (`-<namespace>` suffix on cluster-scoped RBAC) so `flux uninstall` and `flux check` find them.
 */
import { Component, ExtraComponent } from "../args/install";
import { commonLabels, componentLabels } from "./controllers";
import type { KubeManifest } from "./objects";
import type { ResolvedInstallOptions } from "./options";

/** API groups the controllers own; the edit/view roles and the controller role cover them. */
export const FluxApiGroups = [
  "source.toolkit.fluxcd.io",
  "kustomize.toolkit.fluxcd.io",
  "helm.toolkit.fluxcd.io",
  "notification.toolkit.fluxcd.io",
  "image.toolkit.fluxcd.io",
  "source.extensions.fluxcd.io",
] as const;

export function namespaceObject(o: ResolvedInstallOptions): KubeManifest {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: o.namespace,
      labels: {
        ...commonLabels(o),
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": "latest",
      },
    },
  };
}

export function resourceQuota(o: ResolvedInstallOptions): KubeManifest {
  return {
    apiVersion: "v1",
    kind: "ResourceQuota",
    metadata: { name: `critical-pods-${o.namespace}`, namespace: o.namespace, labels: commonLabels(o) },
    spec: {
      hard: { pods: "1000" },
      scopeSelector: {
        matchExpressions: [{ operator: "In", scopeName: "PriorityClass", values: ["system-node-critical", "system-cluster-critical"] }],
      },
    },
  };
}

export function rbac(o: ResolvedInstallOptions): KubeManifest[] {
  const labels = commonLabels(o);
  const sa = (name: string) => ({ kind: "ServiceAccount", name, namespace: o.namespace });
  const out: KubeManifest[] = [
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: `crd-controller-${o.namespace}`, labels },
      rules: [
        // source.extensions.fluxcd.io only with source-watcher, which serves it
        ...FluxApiGroups.filter((g) => g !== "source.extensions.fluxcd.io" || o.components.includes(ExtraComponent.SourceWatcher))
          .map((g) => ({ apiGroups: [g], resources: ["*"], verbs: ["*"] })),
        { apiGroups: [""], resources: ["namespaces", "secrets", "configmaps", "serviceaccounts"], verbs: ["get", "list", "watch"] },
        { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
        { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch", "create", "update", "patch", "delete"] },
        { apiGroups: [""], resources: ["configmaps/status"], verbs: ["get", "update", "patch"] },
        { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "list", "watch", "create", "update", "patch", "delete"] },
        { apiGroups: [""], resources: ["serviceaccounts/token"], verbs: ["create"] },
        { nonResourceURLs: ["/livez/ping"], verbs: ["head"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: `crd-controller-${o.namespace}`, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: `crd-controller-${o.namespace}` },
      subjects: o.components.map(sa),
    },
  ];
  const reconcilers = o.components.filter((c) => c === Component.Kustomize || c === Component.Helm);
  if (reconcilers.length > 0) {
    out.push({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: `cluster-reconciler-${o.namespace}`, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
      subjects: reconcilers.map(sa),
    });
  }
  out.push(
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: {
        name: `flux-edit-${o.namespace}`,
        labels: { ...labels, "rbac.authorization.k8s.io/aggregate-to-admin": "true", "rbac.authorization.k8s.io/aggregate-to-edit": "true" },
      },
      rules: [{ apiGroups: [...FluxApiGroups], resources: ["*"], verbs: ["create", "delete", "deletecollection", "patch", "update"] }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: {
        name: `flux-view-${o.namespace}`,
        labels: {
          ...labels,
          "rbac.authorization.k8s.io/aggregate-to-admin": "true",
          "rbac.authorization.k8s.io/aggregate-to-edit": "true",
          "rbac.authorization.k8s.io/aggregate-to-view": "true",
        },
      },
      rules: [{ apiGroups: [...FluxApiGroups], resources: ["*"], verbs: ["get", "list", "watch"] }],
    },
  );
  return out;
}

export function networkPolicies(o: ResolvedInstallOptions): KubeManifest[] {
  const meta = (name: string) => ({ name, namespace: o.namespace, labels: commonLabels(o) });
  const out: KubeManifest[] = [
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: meta("allow-egress"),
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"], ingress: [{ from: [{ podSelector: {} }] }], egress: [{}] },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: meta("allow-scraping"),
      spec: {
        podSelector: {},
        policyTypes: ["Ingress"],
        ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 8080, protocol: "TCP" }] }],
      },
    },
  ];
  if (o.components.includes(Component.Notification)) {
    out.push({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { ...meta("allow-webhooks"), labels: componentLabels(o, Component.Notification) },
      spec: {
        podSelector: { matchLabels: { app: Component.Notification } },
        policyTypes: ["Ingress"],
        ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 9292, protocol: "TCP" }] }],
      },
    });
  }
  return out;
}
