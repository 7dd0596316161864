// Deletion of a HelmRelease: uninstall the release (keeping its history when
// spec.uninstall.keepHistory), then delete the HelmChart made from spec.chart. A suspended
// HelmRelease leaves its release in place, as Flux does.
import type { HelmRelease } from "../api/helm/v2/helm-release";
import { Reason } from "../api/meta";
import { ReconcileContext } from "../runtime/controller";
import { Result } from "../runtime/result";
import { deleteHelmChart } from "./chart-source";
import type { HelmDeps } from "./deps";
import { HelmError, uninstall } from "./helm-cli";
import { DefaultTimeout } from "./names";
import { releaseNameOf } from "./release-action";

export async function finalizeHelmRelease(hr: HelmRelease, ctx: ReconcileContext<HelmRelease>, deps: HelmDeps): Promise<Result> {
  if (hr.spec.suspend) {
    ctx.log.info("skipping Helm uninstall: the HelmRelease is suspended");
  } else {
    const last = hr.status?.history?.[0];
    const release = last?.name ?? releaseNameOf(hr);
    const namespace = last?.namespace ?? hr.status?.storageNamespace ?? (hr.spec.targetNamespace || hr.metadata.namespace!);
    const u = hr.spec.uninstall;
    try {
      await uninstall(deps, release, namespace, { keepHistory: u?.keepHistory === true, wait: !u?.disableWait, timeout: u?.timeout ?? hr.spec.timeout ?? DefaultTimeout }, ctx.signal);
      await deps.events.normal(hr, Reason.UninstallSucceeded, `Helm uninstall succeeded for release ${namespace}/${release}`);
    } catch (e) {
      if (!(e instanceof HelmError)) throw e;
      await deps.events.warning(hr, Reason.UninstallFailed, `Helm uninstall failed for release ${namespace}/${release}: ${e.message}`);
      return Result.retry(e);
    }
  }
  if (hr.spec.chart) await deleteHelmChart(hr, ctx.client, ctx.signal);
  return Result.done();
}
