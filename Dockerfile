# Build stage: dependencies from the lock file, the Prisma client generated (for its row types),
# TypeScript compiled.
FROM node:24.22.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY prisma ./prisma
COPY src ./src
RUN npm run build

# Production dependencies only: what `node dist/server.js` and `node dist/cli/migrate.js` load (pg,
# fastify, Prisma's WebAssembly schema engine and pg adapter for migrations). The Prisma client, its CLI
# and their peers are build-time tools (devDependencies); type packages pulled in by the pg adapter go.
FROM node:24.22.3-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
  && rm -rf node_modules/@types \
  && chmod -R u=rwX,go=rX node_modules

# Runtime stage: the application's files belong to root and are read-only to the unprivileged node
# user that runs them, whatever the pod's filesystem settings.
FROM node:24.22.3-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps --chown=root:root /app/package.json ./
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --from=build --chown=root:root /app/prisma/schema.prisma ./prisma/schema.prisma
COPY --from=build --chown=root:root /app/prisma/migrations ./prisma/migrations
USER node
EXPOSE 3000
# Migrations run separately (a Kubernetes Job): node dist/cli/migrate.js deploy
CMD ["node", "dist/server.js"]
