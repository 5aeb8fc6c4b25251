# vcore-app in a container (issue 17). Build: `podman build -t vcore-app .` (or docker build).
# Run:   podman run -d --name vcore -p 127.0.0.1:5000:5000 -v vcore-data:/data vcore-app
#        (then `podman logs vcore` shows the one-time setup link for the first superuser)
#
# Listening address: inside the container the app listens on 0.0.0.0, because a published port
# reaches the container from outside its own loopback; 127.0.0.1 would be unreachable. What is
# exposed is decided where the port is published: `-p 127.0.0.1:5000:5000` keeps it on this machine
# (the default of compose.yaml); `-p 5000:5000` exposes the app to every network the host is on.
# It runs jobs (command jobs run shell commands as the container's user): expose it beyond this
# machine only behind a reverse proxy with TLS, and set BASE_URL to the public https URL.

# Base: the official slim Python image. BASE may name another Debian-based image with python3 and
# its venv module (tests/test_container.py builds on a local Debian base where no registry is reachable).
ARG BASE=docker.io/library/python:3.11-slim

# -- build: the app's wheel and every dependency's ------------------------------------------------------
FROM ${BASE} AS build
# Offline builds pass PIP_NO_INDEX=1 and PIP_FIND_LINKS=/wheelhouse (a mounted folder of wheels).
ARG PIP_NO_INDEX
ARG PIP_FIND_LINKS
RUN python3 -m venv /opt/build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY vcore_app ./vcore_app
COPY assets ./assets
COPY migrations ./migrations
RUN /opt/build/bin/pip wheel --no-cache-dir --wheel-dir /wheels .

# -- run: slim, no compilers, no pip cache, a user without privileges --------------------------------
FROM ${BASE}
RUN groupadd --system --gid 10001 vcore \
 && useradd --system --uid 10001 --gid vcore --home-dir /data --no-create-home --shell /usr/sbin/nologin vcore \
 && mkdir /data && chown vcore:vcore /data && chmod 0700 /data
COPY --from=build /wheels /wheels
RUN python3 -m venv /opt/vcore \
 && /opt/vcore/bin/pip install --no-cache-dir --no-index --find-links /wheels vcore-app \
 && rm -rf /wheels
ENV PATH=/opt/vcore/bin:$PATH \
    VCORE_DATA_DIR=/data \
    SERVER_HOST=0.0.0.0 \
    SERVER_PORT=5000 \
    PYTHONUNBUFFERED=1
USER vcore
WORKDIR /data
VOLUME ["/data"]
EXPOSE 5000
# /healthz is cheap and public; the venv's python is there, curl is not (slim image).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:5000/healthz', timeout=4).status != 200)"]
# The launcher owns SIGTERM (graceful shutdown: running jobs get SHUTDOWN_TIMEOUT, then their groups end).
STOPSIGNAL SIGTERM
ENTRYPOINT ["vcore-app"]
CMD ["serve"]
