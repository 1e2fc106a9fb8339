# syntax=docker/dockerfile:1
# Multi-stage build of the API: compile TypeScript with every dependency, ship only the runtime ones.

FROM node:20-bookworm-slim AS build
WORKDIR /app
# Native addons (bcrypt) build from source when no prebuilt binary fits.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY apps/api/package.json apps/api/
COPY packages/groq-mock/package.json packages/groq-mock/
COPY packages/loadtest/package.json packages/loadtest/
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json ./
COPY apps/api apps/api
RUN npm run build -w @documind/api \
  && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
# espeak-ng is the local text-to-speech engine used when no GROQ_API_KEY is set.
RUN apt-get update && apt-get install -y --no-install-recommends espeak-ng tini && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 DATA_DIR=/app/.data
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/apps/api/dist ./apps/api/dist
COPY --from=build /app/apps/api/package.json ./apps/api/package.json
COPY apps/api/migrations ./apps/api/migrations
COPY package.json pm2.config.js ./
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/health/ready').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# pm2-runtime keeps PM2 in the foreground (cluster mode from pm2.config.js) and forwards signals;
# workers migrate on boot under an advisory lock.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node_modules/.bin/pm2-runtime", "start", "pm2.config.js"]
