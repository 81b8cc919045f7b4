# A base image for downstream apps: the triggers run in their builds.
FROM python:3.12-slim
WORKDIR /app
ONBUILD ARG PIP_INDEX_URL
ONBUILD COPY requirements.txt /app/
ONBUILD RUN pip install --no-cache-dir -r requirements.txt
ONBUILD COPY . /app
ONBUILD RUN python -m compileall -q /app
ONBUILD ENV APP_BUILT=1
ONBUILD HEALTHCHECK --interval=1m CMD python -c "import app"
ONBUILD LABEL org.opencontainers.image.base.name="acme/python-onbuild"
CMD ["python", "-m", "app"]
