"""Structured logs: one JSON object per line on stderr.

Each line has ``ts`` (ISO 8601 UTC), ``level``, ``logger``, ``event`` (the log
message) and the fields passed as ``extra={"fields": {...}}``::

    log.info("upload.done", extra={"fields": {"id": sid, "planes": 2000}})
    {"ts": "2026-11-23T05:40:01.123Z", "level": "INFO", "logger": "spikecodec.server",
     "event": "upload.done", "id": "...", "planes": 2000}
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any, TextIO

LOGGER_NAME = "spikecodec.server"


class JsonLineFormatter(logging.Formatter):
    """Formats a record as one compact JSON object (no newlines inside)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created,
                                         timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, separators=(",", ":"))


def configure(level: str = "INFO", stream: TextIO | None = None) -> logging.Logger:
    """Send the server's logger to ``stream`` (default stderr) as JSON lines; idempotent."""
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLineFormatter())
    logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False
    return logger


def get_logger() -> logging.Logger:
    return logging.getLogger(LOGGER_NAME)
