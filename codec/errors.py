"""Exceptions that carry a one-line reason for the user.

The command line prints ``str(error)`` on stderr and exits non-zero; the server
maps them to gRPC status codes. Anything else escaping is a bug.
"""


class SpikecodecError(Exception):
    """Base class: bad input the user can fix, with a one-line message."""


class SpikeFormatError(SpikecodecError):
    """Spike data of the wrong shape, size or layout (truncated files, bad H/W, ...)."""


class BitstreamError(SpikecodecError):
    """A ``.spkc`` container that is corrupt, truncated or of an unknown version."""
