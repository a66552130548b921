# One image for every mlops-fc service (worker, retrainer, api, ingest, topics job):
# each docker-compose service chooses its `mlops-fc ...` command.
# Python matches the project's interpreter (3.11); the tag is pinned for reproducible builds.
FROM python:3.11.7-slim-bookworm

# Installed into site-packages, the settings' default state dir would be read-only: the
# services keep their state (Faust tables, ...) in /var/lib/mlops-fc, a volume in compose.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MLOPS_FC_STATE_DIR=/var/lib/mlops-fc

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /home/app --create-home app \
    && mkdir -p /var/lib/mlops-fc/reports \
    && chown -R app:app /var/lib/mlops-fc

# Dependencies first, from the lock alone: this layer survives code changes.
COPY requirements.lock /tmp/requirements.lock
RUN pip install --no-cache-dir -r /tmp/requirements.lock && rm /tmp/requirements.lock

# Then the project itself, without re-resolving dependencies (the lock already holds them).
COPY pyproject.toml README.md /tmp/src/
COPY schemas/ /tmp/src/schemas/
COPY features/ /tmp/src/features/
COPY modelstore/ /tmp/src/modelstore/
COPY stack/ /tmp/src/stack/
COPY producers/ /tmp/src/producers/
COPY inference/ /tmp/src/inference/
COPY monitoring/ /tmp/src/monitoring/
COPY retrainer/ /tmp/src/retrainer/
COPY consumers/ /tmp/src/consumers/
COPY api/ /tmp/src/api/
COPY cli/ /tmp/src/cli/
COPY devstack/ /tmp/src/devstack/
COPY demo/ /tmp/src/demo/
RUN pip install --no-cache-dir --no-deps /tmp/src && rm -rf /tmp/src

USER app
WORKDIR /home/app

CMD ["mlops-fc", "--help"]
