"""docs/service.md lists every server setting but the codec defaults, with the default the code has."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from server.config import ServerConfig, env_name

DOC = Path(__file__).resolve().parents[1] / "docs" / "service.md"
#: documented as "see spikecodec serve --help" (they follow the codec's own defaults)
CODEC_DEFAULTS = {"quality", "window", "recon", "attention", "model", "intra_period", "gop", "gop_size", "exact"}


def test_every_setting_is_documented_with_its_default() -> None:
    rows = re.findall(r"^\| `--([a-z-]+)` \| `(SPIKECODEC_\w+)` \| ([^|]+) \|", DOC.read_text(), flags=re.M)
    documented = {flag.replace("-", "_"): (env, default.strip()) for flag, env, default in rows}
    config = ServerConfig()
    for f in fields(ServerConfig):
        if f.name in CODEC_DEFAULTS:
            continue
        assert f.name in documented, f"--{f.name.replace('_', '-')} missing from docs/service.md"
        env, default = documented[f.name]
        assert env == env_name(f.name)
        value = getattr(config, f.name)
        expected = "(none)" if value == "" else f"`{value:g}`" if isinstance(value, float) else f"`{value}`"
        assert default == expected, f"{f.name}: docs say {default}, code says {expected}"
    assert set(documented) <= {f.name for f in fields(ServerConfig)}
