# The production image: the app only (no dev dependencies, no embedded database).
# It expects MONGODB_URL, JWT_SECRET and WEBAUTHN_*; see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    HOST=0.0.0.0 PORT=8000 DATA_DIR=/app/.data PRODUCTION=true

WORKDIR /app
RUN useradd --create-home --uid 10001 app
COPY pyproject.toml README.md LICENSE ./
COPY app ./app
COPY syncs ./syncs
RUN pip install . && mkdir -p /app/.data && chown app:app /app/.data

USER app
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
CMD ["python", "-m", "app"]
