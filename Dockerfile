# syntax=docker/dockerfile:1
# Multi-stage build on the official Bun image: production dependencies only, non-root user.
# Build: docker build -t shop . · Run: docker run -p 3000:3000 -v shop-data:/data \
#   -e JWT_SECRET=… -e WEBHOOK_SECRET=… -e DATA_KEY=… shop
# Stop with a timeout above SHUTDOWN_GRACE_MS (default 8 s; docker stop waits 10 s).

FROM oven/bun:1.4.5 AS deps
WORKDIR /app
COPY package.json bun.lock ./
# --production leaves out drizzle-kit, typescript, test servers; sharp's prebuilt libvips
# comes in as an npm package, so no compiler is needed.
RUN bun install --frozen-lockfile --production

FROM oven/bun:1.4.5-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    PORT=3000 \
    DATABASE_URL=file:/data/shop.db \
    UPLOAD_DIR=/data/uploads
# Code and dependencies stay owned by root: the server cannot rewrite itself.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY drizzle ./drizzle
COPY src ./src
# The only writable place: the libSQL file and (without S3_BUCKET) the photos.
RUN mkdir -p /data && chown bun:bun /data
USER bun
EXPOSE 3000
VOLUME ["/data"]
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["bun", "-e", "const r = await fetch('http://127.0.0.1:' + (process.env.PORT ?? 3000) + '/health'); process.exit(r.ok ? 0 : 1)"]
# Exec form: bun is PID 1 and gets SIGTERM itself (graceful shutdown in src/main.ts).
# Migrations are applied by the server at start-up, before it listens.
STOPSIGNAL SIGTERM
CMD ["bun", "src/main.ts"]
