# The web image (Next.js standalone). Build context: the repository root (npm workspaces).
#   docker build -f docker/web.Dockerfile -t shipyard/web .
# NODE_IMAGE: any Alpine or Debian image with node >= 18.18 and npm. The default is Alpine: node:20-bookworm-slim
# alone is ~195 MB, over the 200 MB budget once the app is added. The offline test bed passes a Debian image.
# Stages: deps -> dev (hot reload, compose.dev.yaml) -> build -> runtime (the default, last stage).
ARG NODE_IMAGE=node:20.18.1-alpine3.20

FROM ${NODE_IMAGE} AS deps
ENV NEXT_TELEMETRY_DISABLED=1 NEXT_IGNORE_INCORRECT_LOCKFILE=1 npm_config_update_notifier=false
# Optional extra CAs (docker/ca-certificates/*.crt) for builds behind a TLS-inspecting proxy; never in runtime.
COPY docker/ca-certificates/ /usr/local/share/ca-certificates/shipyard/
RUN cat /usr/local/share/ca-certificates/shipyard/*.crt > /etc/shipyard-extra-ca.pem 2>/dev/null || true
ENV NODE_EXTRA_CA_CERTS=/etc/shipyard-extra-ca.pem
WORKDIR /src
COPY package.json package-lock.json ./
COPY apps/web/package.json apps/web/
COPY packages/api-client/package.json packages/api-client/
RUN npm ci --no-audit --no-fund --workspace apps/web --include-workspace-root=false \
 && npm cache clean --force

FROM deps AS dev
ARG GIT_SHA=dev
ENV NODE_ENV=development PORT=3000 WATCHPACK_POLLING=false APP_VERSION=${GIT_SHA}
COPY docker/add-user.sh /usr/local/bin/add-user
RUN add-user /src && mkdir -p apps/web/.next && chown -R 10001:10001 apps/web/.next
COPY packages/ packages/
COPY apps/web/ apps/web/
USER 10001:10001
EXPOSE 3000
CMD ["npm", "run", "dev", "--workspace", "apps/web"]

FROM deps AS build
COPY packages/ packages/
COPY apps/web/ apps/web/
# A type or syntax error fails here; Next prints the file and line.
RUN npm run build --workspace apps/web

FROM ${NODE_IMAGE} AS runtime
# KEEP_ALIVE_TIMEOUT (ms, read by Next.js's standalone server): longer than the proxy keeps an idle connection to
# the app, so that the proxy closes it first (Node's default, 5 s, races the proxy's reuse of the connection).
ENV NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 PORT=3000 HOSTNAME=0.0.0.0 KEEP_ALIVE_TIMEOUT=75000
COPY docker/add-user.sh /usr/local/bin/add-user
RUN add-user /app && rm /usr/local/bin/add-user
WORKDIR /app
COPY --from=build --chown=10001:10001 /src/apps/web/.next/standalone/ ./
COPY --from=build --chown=10001:10001 /src/apps/web/.next/static/ apps/web/.next/static/
COPY --from=build --chown=10001:10001 /src/apps/web/public/ apps/web/public/
USER 10001:10001
EXPOSE 3000
HEALTHCHECK --interval=5s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/api/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "apps/web/server.js"]
ARG GIT_SHA=unknown
ARG BUILD_DATE=unknown
LABEL org.opencontainers.image.title="shipyard-web" \
      org.opencontainers.image.description="The reference monorepo's web front end (Next.js)" \
      org.opencontainers.image.revision="${GIT_SHA}" \
      org.opencontainers.image.created="${BUILD_DATE}"
ENV APP_VERSION=${GIT_SHA}
