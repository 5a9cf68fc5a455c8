# Glasspane's container image: Debian 12, the desktop's packages, the built app, a non-root user.
# Build it with scripts/container/build-image.sh (it builds the base with debootstrap, since no
# image registry is needed or reachable, and stages node, npm and the production node_modules
# into .container/); see the README's "Container image" section for running it.
ARG BASE_IMAGE=localhost/glasspane-base:bookworm
FROM ${BASE_IMAGE}

# chromium (the managed browser, /v1/desktop/browser) adds ~300 MB: off unless asked for
ARG WITH_CHROMIUM=0
ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8

# What the desktop needs and recommends (main/desktop/dependencies.ts), the X tools its API and
# users reach for, git for /v1/git, tini to reap orphans and forward signals as PID 1
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates tini procps \
      xvfb openbox python3-xdg xdg-utils xterm ffmpeg fonts-dejavu-core xfonts-base dbus-x11 \
      xdotool xclip x11-utils git \
 && if [ "$WITH_CHROMIUM" = 1 ]; then apt-get install -y --no-install-recommends chromium; fi \
 && rm -rf /var/lib/apt/lists/*

# The runtime runs as glasspane (uid 10001); its state directory is the volume. Xvfb makes
# /tmp/.X11-unix itself: one made here would reach a read-only root's tmpfs /tmp (podman copies
# it up) without its sticky world-writable mode, and Xvfb could not listen.
RUN useradd --uid 10001 --user-group --home-dir /var/lib/glasspane --no-create-home --shell /bin/bash glasspane \
 && install -d -o glasspane -g glasspane -m 0700 /var/lib/glasspane

# Node 20 and npm, the host's own build (NodeSource's Debian 12 package; Debian's nodejs is 18);
# npm installs agents into the state directory
COPY .container/node /usr/local/bin/node
COPY .container/npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && node --version

# The app: production node_modules (node-pty and sharp built for Debian 12 x86-64), the compiled
# runtime, the web UI and the capture addon
COPY .container/node_modules /opt/glasspane/node_modules
COPY package.json /opt/glasspane/package.json
COPY bin /opt/glasspane/bin
COPY renderer/dist /opt/glasspane/renderer/dist
COPY native/build/Release/glasspane_capture.node /opt/glasspane/native/build/Release/glasspane_capture.node
COPY dist/main /opt/glasspane/dist/main
RUN ln -s /opt/glasspane/bin/glasspane.js /usr/local/bin/glasspane && glasspane --version

USER glasspane
WORKDIR /var/lib/glasspane
VOLUME /var/lib/glasspane
# 2468: the API; 9464: the ops listener (/metrics, /v1/health, /v1/health/ready without a token)
EXPOSE 2468 9464

# /v1/health on the ops listener, which needs no token (the image has no curl: node fetches)
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/v1/health',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["glasspane", "server", "--host", "0.0.0.0", "--port", "2468", "--desktop", "--metrics-port", "9464", "--metrics-host", "0.0.0.0", "--state-dir", "/var/lib/glasspane"]
