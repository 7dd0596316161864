/**
 * The `gitops` provider: construct for the components, check/diff/create/read/update/delete for
 * the deploy-time resources, dispatched by type token (a typed map, so a missing handler does not
 * compile). Secrets are unwrapped on the way in and re-marked on the way out.
 */
import * as pulumi from "@pulumi/pulumi";
import { BootstrapGitHandler } from "./resources/bootstrap-git";
import { FluxObjectHandler } from "./resources/flux-object";
import type { ResourceHandler } from "./resources/handler";
import { InstallManifestsHandler } from "./resources/install-manifests";
import { SshKeyPairHandler } from "./resources/ssh-key-pair";
import { typedKinds } from "./resources/kinds";
import { compact, PartialError, unwrap, urnType, withSecrets, type Props } from "./resources/props";
import { buildSchema } from "./schema/package";
import { ProviderVersion, token } from "./version";

type Constructed = { urn: pulumi.Output<string>; state: pulumi.Inputs };
type Constructor = (name: string, inputs: pulumi.Inputs, options: pulumi.ComponentResourceOptions) => Constructed | Promise<Constructed>;

export class GitopsProvider implements pulumi.provider.Provider {
  readonly version = ProviderVersion;
  private readonly handlers: Record<string, ResourceHandler>;
  private schemaText?: string;

  constructor(private readonly components: Record<string, Constructor> = {}) {
    this.handlers = {
      [token("BootstrapGit")]: new BootstrapGitHandler(),
      [token("InstallManifests")]: new InstallManifestsHandler(),
      [token("SshKeyPair")]: new SshKeyPairHandler(),
    };
    for (const k of typedKinds) this.handlers[token(k.name)] = new FluxObjectHandler(k);
  }

  async getSchema(): Promise<string> {
    this.schemaText ??= JSON.stringify(buildSchema());
    return this.schemaText;
  }

  private handler(urn: string): ResourceHandler {
    const type = urnType(urn);
    const h = this.handlers[type];
    if (!h) throw new Error(`unknown resource type ${type}`);
    return h;
  }

  private out(h: ResourceHandler, props: Props): Props {
    return withSecrets(compact(props), h.secretKeys);
  }

  private static clean(p: unknown): Props {
    const v = unwrap<Props>(p ?? {});
    return Object.fromEntries(Object.entries(v).filter(([k]) => !k.startsWith("__")));
  }

  async check(urn: string, olds: unknown, news: unknown): Promise<pulumi.provider.CheckResult> {
    const h = this.handler(urn);
    const raw = (news ?? {}) as Props;
    const r = await h.check(urn, GitopsProvider.clean(olds), GitopsProvider.clean(news));
    // Keep the caller's secret markers on inputs it passed; mark ours.
    const inputs: Props = { ...r.inputs };
    for (const [k, v] of Object.entries(raw)) if (k in inputs && JSON.stringify(v).includes("1b47061264138c4ac30d75fd1eb44270")) inputs[k] = v;
    return { inputs: this.out(h, inputs), failures: r.failures.map((f) => ({ property: f.property, reason: f.reason })) };
  }

  async diff(id: string, urn: string, olds: unknown, news: unknown): Promise<pulumi.provider.DiffResult> {
    return this.handler(urn).diff(id, urn, GitopsProvider.clean(olds), GitopsProvider.clean(news));
  }

  async create(urn: string, inputs: unknown): Promise<pulumi.provider.CreateResult> {
    const h = this.handler(urn);
    try {
      const r = await h.create(urn, GitopsProvider.clean(inputs));
      return { id: r.id, outs: this.out(h, r.outs) };
    } catch (e) {
      throw this.partial(h, e);
    }
  }

  async read(id: string, urn: string, props?: unknown): Promise<pulumi.provider.ReadResult> {
    const h = this.handler(urn);
    const r = await h.read(id, urn, GitopsProvider.clean(props));
    return { id: r.id, props: r.props ? this.out(h, r.props) : undefined, inputs: r.inputs ? this.out(h, r.inputs) : undefined };
  }

  async update(id: string, urn: string, olds: unknown, news: unknown): Promise<pulumi.provider.UpdateResult> {
    const h = this.handler(urn);
    try {
      const r = await h.update(id, urn, GitopsProvider.clean(olds), GitopsProvider.clean(news));
      return { outs: this.out(h, r.outs) };
    } catch (e) {
      throw this.partial(h, e);
    }
  }

  async delete(id: string, urn: string, props: unknown): Promise<void> {
    await this.handler(urn).delete(id, urn, GitopsProvider.clean(props));
  }

  /** A PartialError becomes the engine's "created but failed to initialise" (state kept). */
  private partial(h: ResourceHandler, e: unknown): unknown {
    if (e instanceof PartialError) {
      return Object.assign(new Error(e.message), { id: e.id, properties: this.out(h, e.properties), reasons: e.reasons });
    }
    return e;
  }

  async construct(name: string, type: string, inputs: pulumi.Inputs, options: pulumi.ComponentResourceOptions): Promise<pulumi.provider.ConstructResult> {
    const make = this.components[type];
    if (!make) throw new Error(`unknown component type ${type}`);
    return await make(name, inputs, options);
  }
}
