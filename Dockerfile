# The spikecodec server: `spikecodec serve` on port 50051, stream store in the /data volume.
#
#   docker build -t spikecodec .            (or: docker compose up)
#
# torch comes from the package index pip is given; point PIP_EXTRA_INDEX_URL at a
# CPU-only torch wheel index to keep the image small (the server runs on CPU).
FROM python:3.11-slim

ARG PIP_EXTRA_INDEX_URL=""
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_EXTRA_INDEX_URL=${PIP_EXTRA_INDEX_URL}

WORKDIR /app
COPY pyproject.toml README.md ./
COPY proto proto
COPY codec codec
COPY server server
COPY client client
RUN pip install '.[codec]' && rm -rf /app/build

RUN useradd --uid 10001 --create-home spikecodec && mkdir /data && chown spikecodec /data
USER spikecodec
VOLUME /data

ENV SPIKECODEC_HOST="[::]" \
    SPIKECODEC_PORT=50051 \
    SPIKECODEC_STORE=/data \
    SPIKECODEC_TORCH_THREADS=2 \
    OMP_NUM_THREADS=2
EXPOSE 50051
# SIGTERM: stop accepting, let in-flight streams finish within SPIKECODEC_GRACE_S, exit 0
STOPSIGNAL SIGTERM
ENTRYPOINT ["spikecodec"]
CMD ["serve"]
