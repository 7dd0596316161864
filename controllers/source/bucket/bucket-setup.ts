// The Bucket controller definition: no secondary watches (the bucket is polled at
// spec.interval; Secrets are read on each reconcile, as Flux does without the watch label).
import { Bucket } from "../../api/source/v1/bucket";
import { ControllerDefinition } from "../../runtime/controller";
import { Storage } from "../../runtime/artifact-storage";
import { buckets, reconcileBucket } from "./bucket-reconciler";

export function bucketController(storage: Storage): ControllerDefinition<Bucket> {
  return { name: "bucket", kind: buckets, reconcile: reconcileBucket({ storage }) };
}
