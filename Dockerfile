# The worker image. Models are baked in from artifacts/; market data is mounted.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY schemas schemas
COPY features features
COPY tft tft
COPY inference inference
COPY persistence persistence
COPY stream stream
COPY artifacts/default.pt artifacts/default.pt
RUN pip install --upgrade pip && pip install .
ENV TFT_WEB_HOST=0.0.0.0 TFT_STATE_DIR=/var/lib/tft-forecast
VOLUME /var/lib/tft-forecast
EXPOSE 8007
USER nobody
CMD ["tft-forecast", "worker"]
