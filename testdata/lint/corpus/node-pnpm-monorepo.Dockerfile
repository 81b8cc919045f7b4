# syntax=docker/dockerfile:1.7-labs
FROM node:22-alpine AS base
ENV PNPM_HOME=/pnpm
ENV PATH="$PNPM_HOME:$PATH"
RUN corepack enable

FROM base AS fetch
WORKDIR /repo
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
# Keep the packages/*/package.json layout without copying any sources.
COPY --parents packages/*/package.json apps/*/package.json ./
RUN --mount=type=cache,id=pnpm,target=/pnpm/store pnpm fetch --frozen-lockfile

FROM fetch AS build
COPY --exclude=**/*.test.ts --exclude=**/__snapshots__ . .
RUN --mount=type=cache,id=pnpm,target=/pnpm/store \
    pnpm install --frozen-lockfile --offline \
 && pnpm --filter @acme/gateway... run build \
 && pnpm deploy --filter @acme/gateway --prod /out

FROM base
WORKDIR /app
COPY --from=build --chown=node:node /out .
USER node
CMD ["node", "dist/main.js"]
