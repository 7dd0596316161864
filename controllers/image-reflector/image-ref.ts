// Image references as Flux (go-containerregistry) reads spec.image: no scheme, no tag; a first
// path part with '.' or ':' (or `localhost`) is the registry, otherwise Docker Hub with
// `library/` for one-part names. The canonical name makes the implied parts explicit.
export class ImageRefError extends Error {}

export interface ImageRef { registry: string; repository: string; canonical: string }

export function parseImage(image: string): ImageRef {
  const scheme = image.split("://");
  if (scheme.length > 1) throw new ImageRefError(`image '${image}' should not include URL scheme; remove '${scheme[0]}://'`);
  const parts = image.split("/");
  const first = parts[0];
  let registry = "index.docker.io";
  let rest = image;
  if (parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost")) {
    registry = first === "docker.io" ? "index.docker.io" : first;
    rest = parts.slice(1).join("/");
  }
  const tag = rest.split(/[:@]/);
  if (tag.length > 1) throw new ImageRefError(`image '${image}' should not include a tag; remove ':${rest.split(":")[1] ?? tag[1]}'`);
  if (registry === "index.docker.io" && !rest.includes("/")) rest = `library/${rest}`;
  if (rest === "" || !/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(rest)) {
    throw new ImageRefError(`could not parse reference: ${image}: repository can only contain the characters \`abcdefghijklmnopqrstuvwxyz0123456789_-./\`: ${rest}`);
  }
  return { registry, repository: rest, canonical: `${registry}/${rest}` };
}

/** The host OciClient talks to (it maps docker.io to Docker Hub's API host). */
export function clientRegistry(ref: ImageRef): string {
  return ref.registry === "index.docker.io" ? "docker.io" : ref.registry;
}
