# podsec's container image: `podsec webhook`, `podsec audit` and the node agents all run it.
#
# Two stages: `build` compiles TypeScript with the dev dependencies; `runtime` holds the
# compiled JavaScript and the production dependencies only, runs as a numeric non-root user
# (so Kubernetes can verify runAsNonRoot), and writes nothing outside /tmp, which the
# Deployments mount as an emptyDir: the root filesystem can be read-only.
# test/deploy/dockerfile.test.ts checks this file and runs the entrypoint from `npm pack`
# output on a read-only tree. Pin NODE_IMAGE by digest in release builds.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
# --ignore-scripts: `prepare` would compile before the sources are copied.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY schemas ./schemas
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="podsec" \
      org.opencontainers.image.description="Pod security for Kubernetes and AKS: Pod Security Standards admission webhook, audit, pod identity and network policy" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
ENV NODE_ENV=production \
    HOME=/tmp \
    TMPDIR=/tmp
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Production dependencies only; then npm itself goes: the image never installs anything
# at run time, and a package manager is one more tool for an intruder.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && npm cache clean --force \
    && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
              /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /root/.npm
COPY --from=build /src/dist ./dist
COPY --from=build /src/schemas ./schemas
# 65532: the conventional "nonroot" uid/gid; numeric so that runAsNonRoot can be checked.
USER 65532:65532
# Kubernetes probes /healthz and /readyz; an image health check would only duplicate them.
HEALTHCHECK NONE
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
