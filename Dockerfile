# Build stage: dependencies from the lock file, the Prisma client generated, TypeScript compiled.
FROM node:24.22.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY prisma ./prisma
COPY src ./src
RUN npm run build && npm prune --omit=dev

# Runtime stage: production dependencies and the build only, as the unprivileged node user.
FROM node:24.22.3-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --from=build --chown=node:node /app/prisma ./prisma
USER node
EXPOSE 3000
# Migrations run separately (a Kubernetes Job): node dist/cli/migrate.js deploy
CMD ["node", "dist/server.js"]
