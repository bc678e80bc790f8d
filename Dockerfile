# Keygate as a container image: docs/operations.md ("Docker and compose").
#   docker build -t keygate .        (podman: podman build --format docker, to keep HEALTHCHECK)
#   docker run -p 8000:8000 -e SECRET_KEY="$(openssl rand -base64 48)" -v keygate-data:/data keygate
ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: all dependencies, the esbuild bundle, then the dev dependencies pruned ---
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# better-sqlite3 compiles from source when its prebuilt binary cannot be downloaded;
# the node headers shipped in the image (/usr/local/include/node) keep that offline.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local
COPY package.json package-lock.json ./
# Scripts off here (`prepare` would build before src/ is copied), then the
# dependencies' own install scripts (better-sqlite3's native addon) on their own.
RUN npm ci --ignore-scripts --no-audit --no-fund && npm rebuild --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# --- runtime: production dependencies and dist/ only, as the unprivileged `node` user ---
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    PUBLIC_URL=http://localhost:8000 \
    DATA_DIR=/data \
    DATABASE_URL=sqlite:/data/keygate.db
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
RUN ln -s /app/bin/keygate.js /usr/local/bin/keygate \
  && mkdir -p /data && chown node:node /data
USER node
# The SQLite database (default DATABASE_URL), the development secret and
# generated key pairs live here; with PostgreSQL only key files remain.
VOLUME ["/data"]
EXPOSE 8000
# Liveness only (/readyz is for load balancers); the slim image has no curl.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# npm start's node flags (docs/decisions/node-flags-and-bundle.md), without npm in between,
# so SIGTERM reaches Keygate and in-flight requests drain.
CMD ["node", "--max-semi-space-size=2", "--v8-pool-size=1", "dist/main.js", "serve"]
