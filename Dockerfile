# Briefing service image: CPU torch, non-root, model weights baked in at build time so the
# container starts offline.
#   docker build -t briefing .                                  # google/flan-t5-base
#   docker build --build-arg MODEL=google/flan-t5-small -t briefing .
#   docker build --build-arg MODEL= -t briefing .               # no weights: extractive engine
#   docker run -p 8000:8000 -v briefing-data:/data briefing
#
# Stages, so a code change rebuilds only the last layers: deps (from pyproject.toml alone),
# weights (the download; no project code), converted (the CTranslate2 conversion, which reads
# only the engine, preprocessing, prompt and settings modules), and the image itself.

# A pinned base (Python patch release and Debian release); bump deliberately.
FROM python:3.11.14-slim-bookworm AS deps

ARG TORCH_VERSION=2.13.0
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_DISABLE_TELEMETRY=1
WORKDIR /app

# torch first, from the CPU index, so nothing pulls a CUDA build.
RUN pip install --index-url https://download.pytorch.org/whl/cpu "torch==${TORCH_VERSION}"

# The project's dependencies, read from pyproject.toml: no code yet, so this layer stays.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt


FROM deps AS weights
ARG MODEL=google/flan-t5-base
ARG MODEL_REVISION=
# Weights are fetched once, here (the files `briefing model pull` fetches); at run time the
# container needs no network.
RUN mkdir -p /opt/model && \
    if [ -n "${MODEL}" ]; then \
        python -c "import sys; from huggingface_hub import snapshot_download; snapshot_download(repo_id=sys.argv[1], revision=sys.argv[2] or None, local_dir='/opt/model', allow_patterns=['*.json', '*.model', '*.safetensors', '*.txt'])" "${MODEL}" "${MODEL_REVISION}"; \
    fi


FROM weights AS converted
ARG MODEL=google/flan-t5-base
# The modules the conversion imports, and nothing else: API, digest or storage changes do not
# convert again.
COPY service/__init__.py service/config.py service/errors.py service/lengths.py ./service/
COPY service/sites.py service/words.py ./service/
COPY prompts ./prompts
COPY service/prompts ./service/prompts
COPY service/preprocess ./service/preprocess
COPY service/engines ./service/engines
# The CTranslate2 conversion (int8) goes into /data: a new named volume starts with the
# image's /data, so the first start loads it instead of converting (see README).
RUN mkdir -p /data && \
    if [ -n "${MODEL}" ]; then \
        BRIEFING_MODEL=/opt/model BRIEFING_DATA_DIR=/data HF_HUB_OFFLINE=1 \
        BRIEFING_MODEL_LOAD_TIMEOUT_S=1800 python -m service.engines.ctranslate2_runtime prepare; \
    fi


FROM deps
RUN groupadd --system briefing && \
    useradd --system --uid 10001 --gid briefing --home-dir /app briefing
COPY --from=weights /opt/model /opt/model
COPY --from=converted --chown=briefing:briefing /data /data
COPY pyproject.toml README.md ./
COPY prompts ./prompts
COPY service ./service
# A regular (non-editable) install: the prompts come from the installed package.
RUN pip install --no-deps . && rm -rf /app/service /app/prompts /app/build

ENV BRIEFING_DATA_DIR=/data \
    BRIEFING_MODEL=/opt/model \
    BRIEFING_HOST=0.0.0.0 \
    BRIEFING_PORT=8000 \
    HF_HUB_OFFLINE=1
USER 10001
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["briefing", "serve"]
