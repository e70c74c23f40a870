# Build stage: compile TypeScript with the dev dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workers ./workers
RUN npm run build && npm prune --omit=dev

# Runtime stage: production dependencies (sharp ships its own libvips) and the compiled code only.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The durable store's default folder (STORAGE_URL=file:./data), owned by the user the service runs as; a volume
# mounted here starts with that owner.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
# --role all (default) | api | worker
ENTRYPOINT ["node", "dist/src/server.js"]
