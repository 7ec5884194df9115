# The API image. Build context: the repository root.
#   docker build -f docker/api.Dockerfile -t shipyard/api .
# PYTHON_IMAGE: any Debian or Alpine image with python3 >= 3.11 and venv (the offline test bed passes its own).
ARG PYTHON_IMAGE=python:3.12.8-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
# Optional extra CAs (docker/ca-certificates/*.crt) for builds behind a TLS-inspecting proxy; build stage only.
COPY docker/ca-certificates/ /usr/local/share/ca-certificates/shipyard/
RUN if ls /usr/local/share/ca-certificates/shipyard/*.crt >/dev/null 2>&1; then update-ca-certificates; fi
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt
RUN python3 -m venv /opt/venv
COPY apps/api/requirements.txt /tmp/requirements.txt
# No .pyc for dependencies: ~9 MB saved against the 150 MB budget, ~1 s more at start.
RUN /opt/venv/bin/pip install --no-compile --requirement /tmp/requirements.txt \
 && find /opt/venv -name '__pycache__' -prune -exec rm -rf {} + \
 && cd /opt/venv/lib/python3*/site-packages \
 && rm -rf pip pip-* setuptools setuptools-* pkg_resources _distutils_hack distutils-precedence.pth
WORKDIR /app
COPY apps/api/app/ app/
# A syntax error anywhere in the sources fails here, naming the file and line.
RUN /opt/venv/bin/python -m compileall -q app

# Development (compose.dev.yaml): the build stage plus bytecode for every dependency, so that each hot reload
# restarts in well under a second; sources are bind-mounted over /app/app. Cheap; never shipped.
FROM build AS dev
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PORT=8000
COPY docker/add-user.sh /usr/local/bin/add-user
RUN /opt/venv/bin/python -m compileall -q -j 0 /opt/venv/lib && add-user /app
USER 10001:10001
EXPOSE 8000
CMD ["python", "-m", "app", "--reload"]

FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PORT=8000
COPY docker/add-user.sh /usr/local/bin/add-user
RUN add-user /app && rm /usr/local/bin/add-user
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --from=build /app/app app
USER 10001:10001
EXPOSE 8000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os,sys,urllib.request;sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT','8000'),timeout=2).status==200 else 1)"]
CMD ["python", "-m", "app"]
ARG GIT_SHA=unknown
ARG BUILD_DATE=unknown
LABEL org.opencontainers.image.title="shipyard-api" \
      org.opencontainers.image.description="The reference monorepo's API (FastAPI)" \
      org.opencontainers.image.revision="${GIT_SHA}" \
      org.opencontainers.image.created="${BUILD_DATE}"
ENV APP_VERSION=${GIT_SHA}
