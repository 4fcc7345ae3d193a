# Switchyard container image.
#
#   docker build -t switchyard .
#   docker run --rm -p 8080:8080 -p 9901:9901 \
#     -v "$PWD/switchyard.yaml:/etc/switchyard/switchyard.yaml:ro" \
#     --stop-timeout 45 switchyard
#
# The build stage runs the same scripts as CI (scripts/install-deps.sh and
# scripts/build.sh); the runtime stage carries only the shared libraries the
# daemon links. See docs/operations.md for ports, health checks and draining.

# ---- build -------------------------------------------------------------------
FROM debian:12 AS build
WORKDIR /src
# Dependencies first, so source edits do not re-run apt.
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
# Only what the build needs (keeps local build directories out of the context).
COPY CMakeLists.txt ./
COPY scripts scripts
COPY src src
COPY tests tests
COPY config config
RUN BUILD_TYPE=Release scripts/build.sh -DSY_TESTS=OFF -DSY_BENCH=OFF -DSY_WERROR=OFF \
 && strip --strip-unneeded build/switchyard

# ---- runtime -----------------------------------------------------------------
FROM debian:12-slim
# The shared libraries the daemon links (readelf -d build/switchyard | grep
# NEEDED); apt pulls their own dependencies. gRPC and protobuf are used only by
# the tests. The ldd check below fails the build if this list falls behind.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates \
      libevent-2.1-7 libevent-openssl-2.1-7 libevent-pthreads-2.1-7 \
      libnghttp2-14 libssl3 libyaml-cpp0.7 libspdlog1.10 libfmt9 \
      libprometheus-cpp-core1.0 libsystemd0 \
 && rm -rf /var/lib/apt/lists/*

# A fixed numeric uid/gid, so Kubernetes' runAsNonRoot can verify it.
RUN groupadd --system --gid 10001 switchyard \
 && useradd --system --uid 10001 --gid 10001 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin switchyard

COPY --from=build /src/build/switchyard /usr/local/bin/switchyard
COPY --from=build /src/config/switchyard.yaml /etc/switchyard/switchyard.yaml
RUN if ldd /usr/local/bin/switchyard | grep 'not found'; then \
      echo "runtime stage lacks the libraries above" >&2; exit 1; \
    fi \
 && /usr/local/bin/switchyard --version \
 && /usr/local/bin/switchyard --check-config --config /etc/switchyard/switchyard.yaml

USER 10001:10001
# 8080 plaintext h2c, 8443 TLS, 9901 admin (/metrics /healthz /ready).
EXPOSE 8080 8443 9901
# SIGTERM drains (GOAWAY, finish in-flight RPCs up to drain_timeout); give
# `docker stop` a longer timeout than drain_timeout (--stop-timeout / -t).
STOPSIGNAL SIGTERM
# No curl in the image: bash's /dev/tcp speaks just enough HTTP/1.0. The admin
# listener must be reachable on 127.0.0.1:9901 inside the container (the
# default admin.address, or 0.0.0.0:9901).
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9901 && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && IFS= read -r -t 2 status <&3 && [[ $status == HTTP/1.?' 200 '* ]]"]

ENTRYPOINT ["/usr/local/bin/switchyard"]
CMD ["--config", "/etc/switchyard/switchyard.yaml"]
