# Production image: the locked dependencies (spaCy model included, pinned by hash) and the service.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DESKGUARD_ENV=production DESKGUARD_HOST=0.0.0.0 DESKGUARD_PORT=8000

RUN groupadd --system deskguard && useradd --system --gid deskguard --home /srv/deskguard deskguard
WORKDIR /srv/deskguard

COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock

COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY detectors ./detectors
COPY playbooks ./playbooks
COPY integrations ./integrations
COPY migrations ./migrations
RUN pip install --no-cache-dir --no-deps --no-build-isolation . \
    && mkdir -p /srv/deskguard/var && chown deskguard:deskguard /srv/deskguard/var

USER deskguard
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)" || exit 1
# DESKGUARD_DATABASE_URL, DESKGUARD_JWT_SECRET, DESKGUARD_ENCRYPTION_KEYS and DESKGUARD_PUBLIC_URL must be
# set; run `deskguard db upgrade` once per release. Run write-backs from the same image: `deskguard worker`.
CMD ["deskguard", "serve"]
