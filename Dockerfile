# syntax=docker/dockerfile:1
# Build: a virtualenv with the runtime requirements (compilers stay in this stage).
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY requirements.txt /tmp/requirements.txt
RUN python -m venv /opt/venv && /opt/venv/bin/pip install -r /tmp/requirements.txt

# Run: the virtualenv and the code, as an unprivileged user. The same image runs the web (default
# command), the workers, beat, Flower and migrations (docker-compose.yml, deploy/k8s/).
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=partyproject.settings.prod DJANGO_READ_DOT_ENV_FILE=false DJANGO_STATIC_FROM_APPS=false
RUN useradd --create-home --uid 10001 app
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=app:app . .
# Static files collected at build time; WhiteNoise serves them from the app.
RUN DJANGO_SETTINGS_MODULE=partyproject.settings.dev python manage.py collectstatic --noinput --verbosity 0 \
    && chown -R app:app /app/var
USER app
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/v1/health/', timeout=2)"
# ASGI: HTTP and the WebSocket and SSE event streams (uvicorn workers: permessage-deflate, pings).
CMD ["gunicorn", "-c", "partyproject/gunicorn.py", "partyproject.asgi:application"]
