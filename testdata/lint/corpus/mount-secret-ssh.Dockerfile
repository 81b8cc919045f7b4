# syntax=docker/dockerfile:1
FROM node:20-bookworm AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# The registry token never lands in a layer.
RUN --mount=type=secret,id=npmrc,target=/root/.npmrc \
    npm ci --no-audit --no-fund

FROM alpine:3.19 AS vendor
RUN apk add --no-cache git openssh-client
RUN mkdir -p -m 0700 ~/.ssh && ssh-keyscan github.com >> ~/.ssh/known_hosts
RUN --mount=type=ssh git clone --depth 1 git@github.com:example/private-schemas.git /schemas
RUN --mount=type=secret,id=aws,env=AWS_SHARED_CREDENTIALS_FILE,required=true \
    --mount=type=ssh,id=deploykey \
    ls /schemas

FROM node:20-bookworm-slim
WORKDIR /app
COPY --from=deps /app/node_modules node_modules
COPY --from=vendor /schemas ./schemas
COPY . .
CMD ["node", "index.js"]
