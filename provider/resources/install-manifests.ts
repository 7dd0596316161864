/**
 * `gitops:index:InstallManifests`: the controllers and CRDs without git (what `flux install`
 * does), applied at deploy time with server-side apply in two stages, awaited, updated in place
 * (objects that a change removes are deleted), and uninstalled in Flux's order.
 */
import type * as pulumi from "@pulumi/pulumi";
import { T } from "../../controllers/api/schema";
import { installOptionsProps } from "../args/install";
import { Cluster, ClusterError, statusOf, kubeMessage } from "../cluster/client";
import { applyStaged, foreignInstaller, waitDeployments } from "../cluster/install-apply";
import { deadlineAfter, parseDuration } from "../cluster/time";
import { uninstall } from "../cluster/uninstall";
import { renderInstall } from "../manifests/install";
import { groupOf, parseYamlDocuments, toYamlDocuments, type KubeManifest } from "../manifests/objects";
import { InvalidInputError } from "../manifests/options";
import { containsUnknown, UnknownValue, validate, type Failure } from "../schema/validate";
import type { ResourceHandler } from "./handler";
import { PartialError, same, type Props } from "./props";

export const installManifestsProps = {
  ...installOptionsProps,
  kubeconfig: T.Optional(T.String("Kubeconfig (contents, or a file path) of the cluster; KUBECONFIG / ~/.kube/config at deploy time when unset.")),
  context: T.Optional(T.String("Kubeconfig context; the current context by default.")),
  timeout: T.Optional(T.String({ description: "How long to wait for the controllers to be Available; `5m` by default.", pattern: "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$" })),
  keepNamespace: T.Optional(T.Boolean("On destroy, keep the namespace (default false).")),
  force: T.Optional(T.Boolean("Take over an installation made by another tool (app.kubernetes.io/managed-by).")),
};
export const installManifestsArgs = T.Object(installManifestsProps, "The controllers and CRDs, without git.");

interface Inputs {
  namespace?: string;
  kubeconfig?: string;
  context?: string;
  timeout?: string;
  keepNamespace?: boolean;
  force?: boolean;
  manifests?: string;
  [k: string]: unknown;
}

const optionKeys = Object.keys(installOptionsProps);
const key = (o: KubeManifest) => `${groupOf(o.apiVersion)}/${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;

export class InstallManifestsHandler implements ResourceHandler {
  readonly secretKeys = ["kubeconfig"];

  async check(_urn: string, _olds: Props, news: Props): Promise<{ inputs: Props; failures: Failure[] }> {
    const clean = Object.fromEntries(Object.entries(news).filter(([k]) => k !== "manifests" && !k.startsWith("__")));
    const failures = validate(clean, installManifestsArgs, "").filter((f) => !containsUnknown(news[f.property.split(/[.[]/)[0]!]));
    if (failures.length > 0) return { inputs: news, failures };
    if (optionKeys.some((k) => containsUnknown(news[k]))) return { inputs: { ...news, manifests: UnknownValue }, failures };
    try {
      return { inputs: { ...news, manifests: toYamlDocuments(renderInstall(news).objects) }, failures };
    } catch (e) {
      if (e instanceof InvalidInputError) return { inputs: news, failures: [{ property: e.field, reason: e.reason }] };
      return { inputs: news, failures: [{ property: "customisation", reason: (e as Error).message }] };
    }
  }

  async diff(_id: string, _urn: string, olds: Props, news: Props): Promise<pulumi.provider.DiffResult> {
    const replaces = (olds.namespace ?? "flux-system") !== (news.namespace ?? "flux-system") ? ["namespace"] : [];
    // `namespace` is also a (defaulted) output: compared above, with the default.
    const keys = [...optionKeys.filter((k) => k !== "namespace"), "kubeconfig", "context", "timeout", "keepNamespace", "force", "manifests"];
    const changed = keys.some((k) => !same(olds[k], news[k])) || (olds as { ready?: boolean }).ready === false;
    return { changes: changed || replaces.length > 0, replaces, deleteBeforeReplace: replaces.length > 0 };
  }

  private async apply(i: Inputs, old: Inputs | undefined): Promise<Props> {
    const objects = parseYamlDocuments(i.manifests ?? toYamlDocuments(renderInstall(i).objects), "manifests");
    const cluster = new Cluster(i);
    await cluster.ping();
    if (!old && !i.force) {
      const foreign = await foreignInstaller(cluster, objects);
      if (foreign) throw new ClusterError(`${foreign}: another tool installed the controllers here; set force: true to take it over`);
    }
    const namespace = objects.find((o) => o.kind === "Namespace")?.metadata.name ?? "flux-system";
    const deadline = deadlineAfter(parseDuration(i.timeout ?? "5m", "timeout"));
    const outs: Props = { ...i, namespace, ready: false };
    try {
      await applyStaged(cluster, objects, deadline);
      if (old?.manifests) {
        const keep = new Set(objects.map(key));
        for (const gone of parseYamlDocuments(old.manifests, "manifests").filter((o) => !keep.has(key(o)))) {
          await cluster.delete(gone.apiVersion, gone.kind, gone.metadata.name, gone.metadata.namespace);
        }
      }
      await waitDeployments(cluster, objects.filter((o) => o.kind === "Deployment"), deadline);
    } catch (e) {
      throw new PartialError((e as Error).message, namespace, outs);
    }
    return { ...outs, ready: true };
  }

  async create(_urn: string, inputs: Props): Promise<{ id: string; outs: Props }> {
    const outs = await this.apply(inputs as Inputs, undefined);
    return { id: String(outs.namespace), outs };
  }

  async update(_id: string, _urn: string, olds: Props, news: Props): Promise<{ outs: Props }> {
    return { outs: await this.apply(news as Inputs, olds as Inputs) };
  }

  async read(id: string, _urn: string, props: Props): Promise<{ id?: string; props?: Props }> {
    const cluster = new Cluster(props as Inputs);
    const objects = parseYamlDocuments(String(props.manifests ?? ""), "manifests");
    let ready = true;
    for (const o of objects.filter((x) => x.kind === "Deployment" || x.kind === "CustomResourceDefinition")) {
      if (!(await cluster.get(o.apiVersion, o.kind, o.metadata.name, o.metadata.namespace))) ready = false;
    }
    return { id, props: { ...props, ready } };
  }

  async delete(_id: string, _urn: string, props: Props): Promise<void> {
    const i = props as Inputs;
    let cluster: Cluster;
    try {
      cluster = new Cluster(i);
      await cluster.ping();
    } catch (e) {
      if (statusOf(e) === undefined && /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|cannot reach/i.test(`${(e as Error).message} ${kubeMessage(e)}`)) return;
      throw e;
    }
    const problems = await uninstall(cluster, {
      namespace: String(props.namespace ?? "flux-system"),
      keepNamespace: i.keepNamespace,
      deadline: deadlineAfter(parseDuration(i.timeout ?? "5m", "timeout")),
    });
    if (problems.length > 0) throw new Error(`uninstall finished with problems (run pulumi destroy again to retry): ${problems.join("; ")}`);
  }
}
