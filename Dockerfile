# syntax=docker/dockerfile:1
# Build: docker build -t cpms .
# Run:   docker run -p 8000:8000 -e CPMS_DATABASE_URL=postgresql://… -e CPMS_REDIS_URL=redis://… cpms

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
COPY schema ./schema
COPY ocpp_server ./ocpp_server
COPY ocpi ./ocpi
COPY db ./db
COPY migrations ./migrations
COPY simulator ./simulator
RUN python -m venv /opt/cpms \
    && /opt/cpms/bin/pip install --upgrade pip \
    && /opt/cpms/bin/pip install .

FROM python:3.11-slim AS runtime
ENV PATH=/opt/cpms/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    CPMS_HOST=0.0.0.0 \
    CPMS_PORT=8000 \
    CPMS_DATABASE_URL=sqlite:////var/lib/cpms/cpms.sqlite3
RUN groupadd --system cpms \
    && useradd --system --gid cpms --home-dir /var/lib/cpms --create-home cpms
COPY --from=build /opt/cpms /opt/cpms
USER cpms
WORKDIR /var/lib/cpms
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
    CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"CPMS_PORT\"]}/healthz', timeout=2)"
STOPSIGNAL SIGTERM
CMD ["cpms", "serve"]
