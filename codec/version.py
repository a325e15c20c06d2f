"""The installed spikecodec version (``spikecodec --version``, ``GetServerInfo``)."""

from __future__ import annotations

import importlib.metadata

try:
    VERSION = importlib.metadata.version("spikecodec")
except importlib.metadata.PackageNotFoundError:  # running from a source tree that was never installed
    VERSION = "unknown"
