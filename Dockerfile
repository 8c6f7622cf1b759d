# syntax=docker/dockerfile:1
# The worker image: the service and its committed default model; market data is mounted
# (MARKET_DATA_DIR), state lives in the volume at /var/lib/tft-forecast.
#
#   docker build -t tft-forecast .                                   # CPU torch
#   docker build --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu126 -t tft-forecast:cuda .
#
# tests/deploy/test_image.py installs the package from exactly the files copied below,
# in a fresh virtual environment, and starts the worker's imports and the default model
# from there: a folder missing here fails CI.

FROM python:3.11-slim AS build
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies first, in a layer of their own: a code change does not reinstall torch.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > requirements.txt \
    && pip install --extra-index-url "$TORCH_INDEX" -r requirements.txt
COPY README.md ./
COPY schemas schemas
COPY features features
COPY regime regime
COPY tft tft
COPY inference inference
COPY persistence persistence
COPY lifecycle lifecycle
COPY research research
COPY stream stream
COPY tft_forecast.py ./
RUN pip install --no-deps .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH \
    TFT_DEFAULT_ARTIFACT=/app/artifacts/default.pt TFT_STATE_DIR=/var/lib/tft-forecast/faust \
    TFT_MODEL_STORE=/var/lib/tft-forecast/models TFT_WEB_BIND=0.0.0.0 MARKET_DATA_DIR=/data
RUN groupadd --system --gid 10001 tft \
    && useradd --system --uid 10001 --gid tft --home-dir /app --shell /usr/sbin/nologin tft \
    && install -d -o tft -g tft -m 0750 /var/lib/tft-forecast /app
COPY --from=build /opt/venv /opt/venv
COPY --chown=tft:tft artifacts/default.pt artifacts/default.regime.json artifacts/default.onnx /app/artifacts/
WORKDIR /app
VOLUME /var/lib/tft-forecast
EXPOSE 8007
USER 10001:10001
HEALTHCHECK --interval=10s --timeout=3s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8007/live', timeout=2)"]
CMD ["tft-forecast", "worker"]
