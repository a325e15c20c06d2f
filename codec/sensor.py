"""Sensor parameters shared by the simulator, file headers, the bitstream and regeneration."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

from codec.errors import SpikeFormatError
from codec.options import DEFAULT_INIT, DEFAULT_RESET, INIT_STATES, RESET_MECHANISMS
from codec.simulate.neuron import IntegrateAndFire

#: the PKU Vidar camera's plane rate in Hz
CAMERA_PLANE_RATE = 20_000.0


@dataclass(frozen=True)
class SensorParams:
    """How light became spikes (and how decoded scenes become spikes again).

    Attributes:
        threshold: firing threshold ``theta`` in membrane units.
        alpha: membrane increment per plane for scene intensity 1.0; with the
            defaults a scene value is a firing rate in spikes per plane.
        reset_mechanism: ``"zero"``, ``"subtract"`` or ``"mod"``.
        tau: leak time constant in planes, ``None`` for a perfect integrator.
        init: initial membrane, ``"zero"`` or ``"uniform"`` (seeded by ``seed``).
        seed: seed of the uniform initial membrane.
        plane_rate: planes per second (Hz).
    """

    threshold: float = 1.0
    alpha: float = 1.0
    reset_mechanism: str = DEFAULT_RESET
    tau: float | None = None
    init: str = DEFAULT_INIT
    seed: int = 0
    plane_rate: float = CAMERA_PLANE_RATE
    #: the neuron array :meth:`neurons` builds
    neuron_type: ClassVar[type[IntegrateAndFire]] = IntegrateAndFire

    def __post_init__(self) -> None:
        if self.reset_mechanism not in RESET_MECHANISMS:
            raise SpikeFormatError(f"reset_mechanism must be one of {RESET_MECHANISMS}, got {self.reset_mechanism!r}")
        if self.init not in INIT_STATES:
            raise SpikeFormatError(f"init must be one of {INIT_STATES}, got {self.init!r}")
        for name in ("threshold", "alpha", "plane_rate", "tau"):
            value = getattr(self, name)
            if name == "tau" and value is None:
                continue
            # NaN passes every comparison and inf overflows later: refuse both here, where every reader passes
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise SpikeFormatError(f"{name} must be a finite number, got {value!r}")
            if value <= 0:
                raise SpikeFormatError(f"{name} must be positive, got {value!r}")

    def neurons(self, shape: tuple[int, int]) -> IntegrateAndFire:
        """A fresh :class:`IntegrateAndFire` array of ``shape = (H, W)`` with these parameters."""
        return self.neuron_type(
            shape,
            threshold=self.threshold,
            alpha=self.alpha,
            reset_mechanism=self.reset_mechanism,  # type: ignore[arg-type]
            tau=self.tau,
            init=self.init,  # type: ignore[arg-type]
            seed=self.seed,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "SensorParams":
        """Build from a dict (HDF5 attributes, JSON, proto); unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise SpikeFormatError(f"unknown sensor parameters: {sorted(unknown)}")
        try:
            return cls(**values)
        except TypeError as err:
            raise SpikeFormatError(f"bad sensor parameters {values}: {err}") from None
