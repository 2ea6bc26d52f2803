# Briefing service image: CPU torch, non-root, model weights baked in at build time so the
# container starts offline.
#   docker build -t briefing .                                  # google/flan-t5-base
#   docker build --build-arg MODEL=google/flan-t5-small -t briefing .
#   docker build --build-arg MODEL= -t briefing .               # no weights: extractive engine
#   docker run -p 8000:8000 -v briefing-data:/data briefing
FROM python:3.11-slim

ARG TORCH_VERSION=2.13.0
ARG MODEL=google/flan-t5-base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BRIEFING_DATA_DIR=/data \
    HF_HUB_DISABLE_TELEMETRY=1

RUN groupadd --system briefing && useradd --system --uid 10001 --gid briefing --home-dir /app briefing

WORKDIR /app

# torch first, from the CPU index, so nothing pulls a CUDA build.
RUN pip install --index-url https://download.pytorch.org/whl/cpu "torch==${TORCH_VERSION}"

COPY pyproject.toml README.md ./
COPY service ./service
COPY prompts ./prompts
RUN pip install -e .

# Weights are fetched once, here; at run time the container needs no network.
RUN if [ -n "${MODEL}" ]; then \
        briefing model pull "${MODEL}" --dir /opt/model && chmod -R a+rX /opt/model; \
    fi
ENV BRIEFING_MODEL=/opt/model \
    HF_HUB_OFFLINE=1

# The CTranslate2 conversion (int8) is made here too, into /data: a new named volume starts
# with the image's /data, so the first start loads it instead of converting (see README).
RUN mkdir -p /data && \
    if [ -n "${MODEL}" ]; then \
        BRIEFING_MODEL_LOAD_TIMEOUT_S=1800 python -m service.engines.ctranslate2_runtime prepare; \
    fi && \
    chown -R briefing:briefing /data
USER 10001
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["briefing", "serve", "--host", "0.0.0.0", "--port", "8000"]
