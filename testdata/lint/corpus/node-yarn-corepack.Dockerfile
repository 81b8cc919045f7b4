FROM node:18-bookworm-slim

RUN corepack enable && corepack prepare yarn@4.1.0 --activate

WORKDIR /srv/web
COPY package.json yarn.lock .yarnrc.yml ./
COPY .yarn ./.yarn
RUN --mount=type=cache,target=/srv/web/.yarn/cache,id=yarn-cache \
    yarn install --immutable

COPY . .
RUN yarn build && yarn workspaces focus --production

ENV PORT=8000 \
    HOST=0.0.0.0
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --retries=3 \
  CMD node -e "fetch('http://localhost:8000/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["yarn", "start"]
