# The controller images for users with docker or buildah, one target per controller:
#   docker build --target source-controller --build-arg REVISION=$(git rev-parse HEAD) -t source-controller:v0.1.0 .
#   buildah bud --target helm-controller -t helm-controller:v0.1.0 .
# Same contents and entrypoints as the Docker-free, reproducible build (scripts/images.sh, what
# this project tests and publishes), but from Debian's and Node's images, so not bit-for-bit equal.
ARG NODE_VERSION=24.21.0

# helm, kustomize, sops: the versions and flags of scripts/setup-tools.sh
FROM golang:1.26-bookworm AS tools
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
ARG HELM_V=v3.21.4 KUSTOMIZE_V=v5.8.1 SOPS_V=v3.13.3
RUN K="-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=36" \
 && go install -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_V} $K" helm.sh/helm/v3/cmd/helm@${HELM_V} \
 && go install -trimpath -ldflags "-s -w" sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_V} \
 && go install -trimpath -ldflags "-s -w" github.com/getsops/sops/v3/cmd/sops@${SOPS_V} \
 && echo ${HELM_V} > /go/bin/.helm.version && echo ${KUSTOMIZE_V} > /go/bin/.kustomize.version && echo ${SOPS_V} > /go/bin/.sops.version

# dist/ and the production node_modules the controllers require (scripts/images/app-tree.js)
FROM node:${NODE_VERSION}-bookworm-slim AS app
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY cli cli
COPY controllers controllers
COPY provider provider
COPY scripts/images/app-tree.js scripts/images/app-tree.js
RUN npx tsc -p tsconfig.json && node scripts/images/app-tree.js . /out/app

FROM debian:bookworm-slim AS base
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tini && rm -rf /var/lib/apt/lists/*
COPY --from=app /usr/local/bin/node /usr/local/bin/node
COPY --from=app /out/app /app
# GITOPS_TOOLS=/usr/local: cli/tools.ts finds helm, kustomize and sops in /usr/local/bin
ENV PATH=/usr/local/bin:/usr/bin:/bin GITOPS_TOOLS=/usr/local HOME=/tmp NODE_ENV=production
ARG VERSION=v0.1.0 REVISION=unknown SOURCE=https://github.com/gitops-toolkit/gitops-toolkit
LABEL org.opencontainers.image.source=${SOURCE} org.opencontainers.image.revision=${REVISION} \
      org.opencontainers.image.version=${VERSION} org.opencontainers.image.licenses=Apache-2.0
USER 65534:65534

# Entrypoints as in scripts/images.sh: tini reaps orphaned git/ssh/helm children; the flags are
# the addresses Flux's controllers default to in a pod (the Deployments pass the rest).
FROM base AS source-controller
USER 0
RUN apt-get update && apt-get install -y --no-install-recommends git openssh-client gpg && rm -rf /var/lib/apt/lists/* && mkdir /data
COPY --from=tools /go/bin/helm /go/bin/.helm.version /usr/local/bin/
USER 65534:65534
LABEL org.opencontainers.image.title=source-controller
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/node", "/app/dist/cli/main.js", "controllers", "run", "--only=source", "--metrics-addr=:8080", "--health-addr=:9440", "--storage-path=/data", "--storage-addr=:9090"]

FROM base AS kustomize-controller
COPY --from=tools /go/bin/kustomize /go/bin/sops /go/bin/.kustomize.version /go/bin/.sops.version /usr/local/bin/
LABEL org.opencontainers.image.title=kustomize-controller
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/node", "/app/dist/cli/main.js", "controllers", "run", "--only=kustomize", "--metrics-addr=:8080", "--health-addr=:9440"]

FROM base AS helm-controller
# kustomize: the post-renderer (spec.postRenderers, commonMetadata, the helm.toolkit.fluxcd.io labels)
COPY --from=tools /go/bin/helm /go/bin/kustomize /go/bin/.helm.version /go/bin/.kustomize.version /usr/local/bin/
LABEL org.opencontainers.image.title=helm-controller
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/node", "/app/dist/cli/main.js", "controllers", "run", "--only=helm", "--metrics-addr=:8080", "--health-addr=:9440"]

FROM base AS notification-controller
LABEL org.opencontainers.image.title=notification-controller
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/node", "/app/dist/cli/main.js", "controllers", "run", "--only=notification", "--metrics-addr=:8080", "--health-addr=:9440", "--events-addr=:9090", "--receiver-addr=:9292"]
