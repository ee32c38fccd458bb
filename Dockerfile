# fetcherd — one image for both programs (fetcherd, fetcher-api), the
# migrations, the dashboard and the demo data; docker-compose.yml picks the
# command. Two stages:
#
#   build    Debian 12 + the build dependencies, installed by the same
#            scripts/bootstrap the tests use (BOOTSTRAP_PROFILE=build);
#            `make`, then `make install` into a staging tree.
#   runtime  debian:bookworm-slim + the four runtime libraries and the
#            installed tree; runs as an unprivileged user.
#
# tests/integration/install_dockerfile.sh checks this file against what the
# tests run (the same bootstrap profile, the same make targets, the runtime
# packages providing every library the binaries link).

ARG DEBIAN_RELEASE=bookworm

# ---- build ------------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE} AS build
WORKDIR /src
# The dependency layer depends on the bootstrap script only, so editing the
# sources does not reinstall the compiler.
COPY scripts/bootstrap scripts/bootstrap
RUN BOOTSTRAP_PROFILE=build scripts/bootstrap \
 && rm -rf /var/lib/apt/lists/*
COPY . .
# Unstripped objects stay in this stage; the runtime stage gets stripped
# binaries (a third of the size: -g is in the default CFLAGS).
RUN make -j"$(nproc)" all \
 && make install DESTDIR=/staging PREFIX=/usr/local \
 && strip --strip-unneeded /staging/usr/local/bin/*

# ---- runtime ----------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# Only what the binaries link (libpq, libcurl, json-c, libmicrohttpd) and the
# CA certificates for the providers' HTTPS; no compiler, no shell tools added.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libpq5 libcurl4 libjson-c5 libmicrohttpd12 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# A fixed uid/gid so volume permissions and Kubernetes runAsUser are
# predictable; no home, no login shell.
RUN groupadd --gid 10001 fetcher \
 && useradd --uid 10001 --gid fetcher --home-dir /nonexistent \
        --no-create-home --shell /usr/sbin/nologin fetcher
COPY --from=build /staging/usr/local/ /usr/local/

# The programs find /usr/local/share/fetcherd/{migrations,dashboard} beside
# /usr/local/bin on their own (common/paths.c); the API listens on every
# interface inside the container (publish the port to choose who reaches it).
ENV API_BIND=0.0.0.0 \
    API_PORT=8080
EXPOSE 8080
USER 10001:10001
WORKDIR /usr/local/share/fetcherd

# fetcherd and fetcher-api both stop cleanly on SIGTERM (fetcherd flushes
# buffered writes in at most 5 s, inside docker's 10 s grace period).
STOPSIGNAL SIGTERM
# The API's own probe, meaning "can serve": GET /readyz on API_BIND:API_PORT,
# exit 0 on 200 (database reachable and migrated), else 1 with the reason.
# No curl or wget in the image. docker-compose.yml disables it for the
# services that do not run fetcher-api (fetcherd, fakemarket).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["fetcher-api", "--readycheck"]

# Default: the API. `docker run IMAGE fetcherd` runs the daemon,
# `docker run IMAGE fetcherd migrate` only applies migrations.
CMD ["fetcher-api"]
