# syntax=docker/dockerfile:1
# Two stages on the official Bun image. The runtime stage holds only what the server loads at
# run time, runs as the non-root `bun` user, and can write only /data.
# Build: docker build -t shop .
#   behind a proxy that intercepts TLS, give `bun install` the proxy's CA (PEM) as a build
#   secret: docker build --secret id=ca_cert,src=proxy-ca.pem -t shop .
# Run:   docker run -p 3000:3000 -v shop-data:/data \
#          -e JWT_SECRET=… -e WEBHOOK_SECRET=… -e DATA_KEY=… shop
# Stop with a timeout above SHUTDOWN_GRACE_MS (default 8 s; docker stop waits 10 s).

FROM oven/bun:1.4.5 AS deps
WORKDIR /app
COPY package.json bun.lock ./
# The CA is a secret mount, not a build argument: it is read during this step only and is in
# no layer and no image history. Without the secret nothing changes.
RUN --mount=type=secret,id=ca_cert,required=false \
    if [ -s /run/secrets/ca_cert ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca_cert; fi; \
    bun install --frozen-lockfile --production
# --production leaves out devDependencies (drizzle-kit, s3rver, …) but still installs peer
# dependencies and every platform build a package lists. None of these is loaded at run time:
# typescript (a peer of @elysiajs/openapi, required only by its fromTypes(), which this server
# does not call: /swagger/json is built from the routes' schemas), type packages, libsql's
# musl builds (this image is glibc), declaration files and source maps.
RUN rm -rf node_modules/typescript node_modules/@types node_modules/bun-types node_modules/undici-types node_modules/@libsql/*-musl* \
 && find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \) -delete

FROM oven/bun:1.4.5-slim AS runtime
WORKDIR /app
# WORKERS=auto: one server process per core once REDIS_URL is set (they share its state), one
# without it.
ENV NODE_ENV=production \
    PORT=3000 \
    DATABASE_URL=file:/data/shop.db \
    UPLOAD_DIR=/data/uploads \
    WORKERS=auto
# Code and dependencies stay owned by root: the server cannot rewrite itself.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY drizzle ./drizzle
COPY src ./src
# The only writable place: the libSQL file and (without S3_BUCKET) the photos. A volume mounted
# here must be writable by uid 1000; otherwise start-up says so and exits 1.
RUN mkdir -p /data && chown bun:bun /data
USER bun
EXPOSE 3000
VOLUME ["/data"]
# For Docker and Compose. Fly ignores HEALTHCHECK; there fly.toml's checks route traffic and
# the watchdog (WATCHDOG_STALL_MS) ends a hung server for the restart policy.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["bun", "-e", "const r = await fetch('http://127.0.0.1:' + (process.env.PORT ?? 3000) + '/health'); process.exit(r.ok ? 0 : 1)"]
# Exec form: bun is PID 1 and gets SIGTERM itself (graceful shutdown in src/main.ts; with
# several workers it is their primary and passes the signal on, src/primary.ts). Migrations are
# applied at start-up, once, before anything listens (`bun src/migrate.ts` applies them alone,
# for a release step).
STOPSIGNAL SIGTERM
CMD ["bun", "src/main.ts"]
