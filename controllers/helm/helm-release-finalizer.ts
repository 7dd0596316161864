// Deletion of a HelmRelease: uninstall the release (keeping its history when
// spec.uninstall.keepHistory), then delete the HelmChart made from spec.chart. A suspended
// HelmRelease leaves its release in place, as Flux does.
import { uninstallFlags } from "./action-flags";
import type { HelmRelease } from "../api/helm/v2/helm-release";
import { ConditionType as CT, Reason } from "../api/meta";
import { markFalse } from "../runtime/conditions";
import { ReconcileContext } from "../runtime/controller";
import { serviceAccountUser } from "../runtime/dependencies";
import { Result } from "../runtime/result";
import { deleteHelmChart } from "./chart-source";
import type { HelmDeps } from "./deps";
import { HelmError, HelmRun, uninstall } from "./helm-cli";
import { RemoteClusterError } from "./remote-cluster";
import { DefaultTimeout } from "./names";
import { releaseNameOf } from "./release-action";

export async function finalizeHelmRelease(hr: HelmRelease, ctx: ReconcileContext<HelmRelease>, deps: HelmDeps): Promise<Result> {
  if (hr.spec.suspend) {
    ctx.log.info("skipping Helm uninstall: the HelmRelease is suspended");
  } else if (!hr.status?.storageNamespace) {
    // As Flux: no action ever ran (the storage namespace is recorded before one does), so there
    // is no release; uninstalling would only fail on a name or namespace Helm refuses, forever.
    ctx.log.info("skipping Helm uninstall and/or removal of Helm storage as no release was ever installed");
  } else {
    const last = hr.status?.history?.[0];
    const release = last?.name ?? releaseNameOf(hr);
    // Helm's --namespace is the storage namespace (status.storageNamespace, where the last action stored it).
    const namespace = hr.status?.storageNamespace ?? (hr.spec.storageNamespace || hr.metadata.namespace!);
    const u = hr.spec.uninstall;
    const sa = hr.spec.serviceAccountName || deps.defaultServiceAccount;
    const h: HelmRun = { deps, signal: ctx.signal, asUser: sa ? serviceAccountUser(hr.metadata.namespace!, sa) : undefined };
    // spec.kubeConfig: uninstall on the remote cluster. As Flux: without the Secret there is no
    // way to reach it, so the release is left there; any other kubeconfig error is retried.
    let remote;
    try {
      remote = await deps.remotes.forRelease(hr, ctx.client, h.asUser, ctx.signal);
    } catch (e) {
      if (!(e instanceof RemoteClusterError)) throw e;
      if (e.notFound) ctx.log.error({ error: e.message }, "skipping Helm release uninstallation");
      else {
        markFalse(hr, CT.Ready, Reason.UninstallFailed, `failed to build REST client getter to uninstall release: ${e.message}`);
        return Result.retry(e);
      }
    }
    const reachable = remote !== undefined || !hr.spec.kubeConfig;
    h.remote = remote;
    if (reachable) try {
      await uninstall(h, release, namespace, { keepHistory: u?.keepHistory === true, wait: !u?.disableWait, timeout: u?.timeout ?? hr.spec.timeout ?? DefaultTimeout, flags: uninstallFlags(hr) });
      await deps.events.normal(hr, Reason.UninstallSucceeded, `Helm uninstall succeeded for release ${namespace}/${release}`);
    } catch (e) {
      if (!(e instanceof HelmError)) throw e;
      await deps.events.warning(hr, Reason.UninstallFailed, `Helm uninstall failed for release ${namespace}/${release}: ${e.message}`);
      return Result.retry(e);
    } finally {
      remote?.dispose();
    }
  }
  if (hr.spec.chart) await deleteHelmChart(hr, ctx.client, ctx.signal);
  return Result.done();
}
