# syntax=docker/dockerfile:1
# Build stage: compile the release binary.
FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY config ./config
RUN cargo build --release --locked --bin invarlockd

# Runtime stage: a slim image running as a non-root user on a mounted workspace.
FROM debian:bookworm-slim
# Versions are not pinned: bookworm-security updates must reach the image on rebuild.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /nonexistent --shell /usr/sbin/nologin invarlockd \
    && mkdir -p /workspace && chown 10001:10001 /workspace
COPY --from=build /src/target/release/invarlockd /usr/local/bin/invarlockd
COPY config/invarlockd.toml /etc/invarlockd/invarlockd.toml
USER 10001:10001
VOLUME ["/workspace"]
EXPOSE 8765
# Inside a container the daemon listens beyond loopback, so it refuses to start without a
# token: mount one as a secret (at least 16 characters) or override INVARLOCKD_AUTH__TOKENS.
# The ENV names the secret's path, not the secret.
# hadolint ignore=DL3064
ENV INVARLOCKD_SERVER__LISTEN=0.0.0.0:8765 \
    INVARLOCKD_AUTH__TOKENS='[{name="admin",scope="admin",file="/run/secrets/invarlockd_admin_token"}]'
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["curl", "-fsS", "http://127.0.0.1:8765/healthz"]
ENTRYPOINT ["invarlockd"]
CMD ["serve", "--config", "/etc/invarlockd/invarlockd.toml", "--workspace", "/workspace"]
