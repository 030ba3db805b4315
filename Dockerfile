# For users with Docker; nothing in development or CI needs it.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# "prepare" runs scripts/build-if-needed.js, which skips the build until the sources are copied
COPY scripts ./scripts
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY ui ./ui
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends git ripgrep bubblewrap ca-certificates \
  && rm -rf /var/lib/apt/lists/*
# what repositories' setup and test commands commonly need
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv python3-pip build-essential \
  && rm -rf /var/lib/apt/lists/*
# Not root: a repository command that escaped would still be an ordinary user, and RLIMIT_NPROC binds.
# bwrap needs the container's security options of docker-compose.yml (see docs/security.md).
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/prwright prwright \
  && mkdir -p /data && chown prwright:prwright /data
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
ENV PRWRIGHT_DATA_DIR=/data NODE_ENV=production
USER prwright
VOLUME /data
EXPOSE 3000
# One check for every role this image plays (`prwright healthcheck` reads PID 1's command line):
# serve → GET /healthz answers; worker → its own heartbeat (every 5 s) is fresh in the queue.
HEALTHCHECK --interval=15s --timeout=10s --start-period=30s --retries=3 \
  CMD ["node", "bin/prwright.js", "healthcheck"]
ENTRYPOINT ["node", "bin/prwright.js"]
CMD ["serve"]
