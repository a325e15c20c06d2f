"""Fixtures shared by the whole suite."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
#: ../shared beside the clone (CI puts it there); tests may read it, the product may not.
SHARED_DATA = REPO.parent / "shared" / "data"

torch.set_num_threads(2)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ``../shared/data``; tests that need it skip loudly when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def reds_dat(shared_data: Path) -> Path:
    """A real 301-plane 250x400 PKU ``.dat`` recording."""
    return shared_data / "spikes" / "reds_203_part2.dat"
