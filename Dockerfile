# Parley's image: one image, every service (`node services/<service>/main.ts`).
# The repository pins Node.js through the `node` devDependency for developers; the image does not
# need it: its base already is Node.js 24 (which runs the TypeScript sources natively), so only the
# production dependencies are installed and the base image's node runs them.

FROM node:24.21.0-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; no install scripts (none of them needs one).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:24.21.0-bookworm-slim
ENV NODE_ENV=production \
    PARLEY_HOST=0.0.0.0 \
    PARLEY_PORT=50051 \
    PARLEY_METRICS_PORT=9464
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY gen ./gen
COPY services ./services
COPY scripts/kafka-topics.ts ./scripts/kafka-topics.ts
# The base image's unprivileged user (uid 1000), numeric so runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 50051 9464
# --max-semi-space-size: see services/runtime/node-flags.ts (processes that hold device streams).
CMD ["node", "--max-semi-space-size=8", "services/all-in-one/main.ts"]
