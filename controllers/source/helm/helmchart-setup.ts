// The HelmChart controller definition: a HelmChart is rebuilt when the artifact (or the spec) of
// the HelmRepository or GitRepository it uses changes, not only at its own interval.
import { GitRepositoryNames } from "../../api/source/v1/git-repository";
import { HelmChart } from "../../api/source/v1/helm-chart";
import { HelmRepositoryNames } from "../../api/source/v1/helm-repository";
import { ControllerDefinition, SecondaryWatch } from "../../runtime/controller";
import { deepEqual } from "../../runtime/json-merge";
import { KubeObject } from "../../runtime/keys";
import { chartSources, helmCharts, reconcileHelmChart } from "./helmchart-reconciler";
import { Storage } from "../../runtime/artifact-storage";

type Source = KubeObject & { status?: { artifact?: unknown } };

function sourceWatch(kind: string): SecondaryWatch<HelmChart> {
  return {
    resource: chartSources[kind],
    map: (ev, charts) => {
      const now = ev.object as Source;
      const prev = ev.previous as Source | undefined;
      if (ev.type === "updated" && prev && deepEqual(prev.status?.artifact, now.status?.artifact)
        && prev.metadata?.generation === now.metadata?.generation) return [];
      return charts.list(now.metadata?.namespace)
        .filter((c) => c.spec.sourceRef.kind === kind && c.spec.sourceRef.name === now.metadata?.name)
        .map((c) => ({ namespace: c.metadata.namespace!, name: c.metadata.name! }));
    },
  };
}

export function helmChartController(storage: Storage): ControllerDefinition<HelmChart> {
  return {
    name: "helmchart", kind: helmCharts, reconcile: reconcileHelmChart({ storage }),
    watches: [sourceWatch(HelmRepositoryNames.kind), sourceWatch(GitRepositoryNames.kind)],
  };
}
