# empplay render host image. The supervisor is PID 1's child via tini so
# signals reach it and zombies are reaped. Chromium runs as a non-root user
# with its sandbox required (CHROMIUM_SANDBOX=on): every renderer, which runs
# the untrusted sketches, in seccomp-bpf and namespaces of its own. Docker's
# default seccomp profile forbids the namespaces, so run the image with the
# profile in scripts/ (see README, "Containers"):
#
#   docker run --security-opt seccomp=scripts/chromium-seccomp.json --shm-size=1g empplay supervise
#
# Without it the worker exits 78 and says why; -e CHROMIUM_SANDBOX=off runs
# without the sandbox (the container is then the only boundary), with a
# warning in the log and in /readyz.

FROM node:20-bookworm-slim AS js
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=optional

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=js /src/node_modules/p5v1/lib/p5.min.js assets/p5/p5-1.min.js
COPY --from=js /src/node_modules/p5v2/lib/p5.min.js assets/p5/p5-2.min.js
ARG VERSION=dev
# COMMIT and BUILD_DATE: docker build --build-arg COMMIT=$(git rev-parse HEAD)
# --build-arg BUILD_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ); see `empplay version`.
ARG COMMIT=
ARG BUILD_DATE=
RUN CGO_ENABLED=1 go build -trimpath -ldflags "-X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${BUILD_DATE}" -o /out/empplay ./cmd/empplay

FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      chromium-headless-shell ffmpeg ca-certificates tini util-linux \
      fonts-noto-cjk fonts-noto-color-emoji fonts-dejavu-core fonts-liberation2 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /var/lib/empplay empplay
COPY --from=build /out/empplay /usr/local/bin/empplay
USER empplay
ENV CHROMIUM_PATH=/usr/lib/chromium/chromium-headless-shell \
    CHROMIUM_SANDBOX=on \
    EMPPLAY_PROFILE_DIR=/tmp \
    LOG_FORMAT=json
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/empplay"]
# The supervisor is the render host (as under systemd): it runs WORKERS
# workers and serves /readyz, which the health check asks through the binary
# itself (the image has no curl). A container running `worker` alone serves
# no HTTP: disable the health check for it (compose: healthcheck: disable).
CMD ["supervise"]
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/usr/local/bin/empplay", "healthcheck"]
