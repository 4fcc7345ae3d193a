# Switchyard container image.
#
#   docker build -t switchyard .          (or: buildah bud -t switchyard .)
#   docker run -d --name switchyard -p 8080:8080 \
#     -v "$PWD/switchyard.yaml:/etc/switchyard/switchyard.yaml:ro" \
#     --stop-timeout 45 switchyard
#
# The admin endpoint (/metrics /ready /healthz) of the bundled config listens
# on 127.0.0.1:9901 inside the container: the HEALTHCHECK reaches it, but
# `-p 9901:9901` cannot publish it, because published ports are forwarded to
# the container's network interface, not to its loopback. To reach it from the
# host, set `admin: { address: 0.0.0.0:9901 }` in the mounted config and
# publish it to the host's loopback only: `-p 127.0.0.1:9901:9901`. It has no
# authentication; never publish it on a public interface.
#
# Access logs go to stdout, which the container runtime keeps and rotates. An
# access log written to a file on a mounted volume is rotated from the host:
# rename it, then `docker kill --signal=USR1 switchyard` (the systemd hosts'
# logrotate policy is deploy/logrotate/switchyard; see docs/operations.md).
#
# The build stage runs scripts/install-deps.sh and scripts/build.sh (Release,
# warnings are errors). The runtime stage installs the Debian packages that
# hold the libraries the binary links, as scripts/runtime-packages.sh reads
# them from its ELF NEEDED entries, and an ldd check fails the build if any
# library is still missing. tests/deploy/image_test.sh builds this file with
# buildah and runs the image in the test suite; see docs/operations.md.

# ---- build -------------------------------------------------------------------
FROM debian:12 AS build
WORKDIR /src
# Dependencies first, so source edits do not re-run apt.
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN SY_DEPS=build scripts/install-deps.sh \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ccache \
 && rm -rf /var/lib/apt/lists/*
# Only what the build needs (keeps local build directories out of the context).
COPY CMakeLists.txt ./
COPY scripts scripts
COPY src src
COPY tests tests
COPY config config
# The compiler cache survives between builds on one machine (BuildKit and
# buildah cache mounts); a cold build compiles everything once.
RUN --mount=type=cache,target=/root/.cache/ccache \
    BUILD_TYPE=Release scripts/build.sh -DSY_TESTS=OFF -DSY_BENCH=OFF \
      -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
 && strip --strip-unneeded build/switchyard \
 && scripts/runtime-packages.sh build/switchyard > build/runtime-packages.txt \
 && echo "runtime packages:" $(cat build/runtime-packages.txt)

# ---- runtime -----------------------------------------------------------------
FROM debian:12-slim
# Exactly the packages whose libraries the binary links (apt pulls their own
# dependencies), plus CA certificates for upstream TLS.
COPY --from=build /src/build/runtime-packages.txt /tmp/runtime-packages.txt
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive xargs -a /tmp/runtime-packages.txt \
      apt-get install -y -qq --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt

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
# 8080 plaintext h2c, 8443 TLS, 9901 admin (/metrics /healthz /ready; bind it
# to 0.0.0.0 in the config before publishing it, see the header).
EXPOSE 8080 8443 9901
# SIGTERM drains (GOAWAY, finish in-flight RPCs up to drain_timeout); give
# `docker stop` a longer timeout than drain_timeout (--stop-timeout / -t).
STOPSIGNAL SIGTERM
# No curl in the image: bash's /dev/tcp speaks just enough HTTP/1.0. The admin
# listener must be reachable on 127.0.0.1:9901 inside the container (the
# default admin.address, or 0.0.0.0:9901).
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9901 && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && IFS= read -r -t 2 status <&3 && [[ $status == HTTP/1.?' 200 '* ]]"]

# The daemon reads /etc/switchyard/switchyard.yaml when no --config is given,
# so arguments that replace CMD (`docker run IMAGE --log-level debug`) keep it.
ENTRYPOINT ["/usr/local/bin/switchyard"]
CMD ["--config", "/etc/switchyard/switchyard.yaml"]
