"""GOP-parallel coding on a real local Ray cluster: the same bytes and planes as one process."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from client.cli import main
from codec.errors import BitstreamError, SpikecodecError
from codec.io import open_writer
from codec.pipeline import Decoder, Encoder, EncoderConfig
from codec.pipeline.jobs import JobQueue, run_job
from codec.pipeline.workers import WorkerPool
from codec.sensor import SensorParams

ray = pytest.importorskip("ray")

H, W, K = 48, 64, 8


def spikes(planes: int = 12 * K + 5) -> np.ndarray:
    """``(T, 48, 64)`` spikes of a moving gradient (predicted scenes have something to predict)."""
    t = np.arange(planes)[:, None, None]
    y, x = np.mgrid[0:H, 0:W]
    light = 0.15 + 0.7 * (0.5 + 0.5 * np.sin((x + 0.05 * t) / 9.0 + y / 13.0))
    return SensorParams(seed=3).neurons((H, W))(light)


def encode(config: EncoderConfig, planes: np.ndarray, pool: WorkerPool | None = None,
           push: int = 37) -> tuple[bytes, Encoder]:
    encoder = Encoder(config, H, W, num_planes=len(planes), pool=pool)
    records = [encoder.header_record()]
    for start in range(0, len(planes), push):
        records += encoder.push(planes[start : start + push])
    records += encoder.finish()
    return b"".join(records), encoder


def decode(stream: bytes, pool: WorkerPool | None = None) -> tuple[np.ndarray, list]:
    scenes: list = []
    decoder = Decoder(on_scene=lambda c, s: scenes.append((c, s.tobytes())), pool=pool)
    planes = decoder.push(stream)
    decoder.finish()
    return planes, scenes


@pytest.fixture(scope="module")
def cluster():
    """A local Ray cluster of 2 CPUs and a small object store, shared by the tests here."""
    ray.init(num_cpus=2, object_store_memory=80 * 2**20, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    yield
    ray.shutdown()


@pytest.mark.slow
def test_encode_and_decode_commands_with_workers(cluster, tmp_path: Path, capsys) -> None:
    # first in this module: the commands' 2 workers take both CPUs of the cluster, before the pools below
    src = tmp_path / "in.h5"
    with open_writer(src, H, W, SensorParams(seed=3)) as writer:
        writer.write(spikes(8 * K))
    flags = ["--quality", "3", "--window", str(K), "--intra-period", "4", "--gop-size", "2", "--json"]
    summaries = {}
    for name, extra in (("one", []), ("two", ["--workers", "2"])):
        assert main(["encode", str(src), "-o", str(tmp_path / f"{name}.spkc"), *flags, *extra]) == 0
        summaries[name] = json.loads(capsys.readouterr().out)
        assert main(["decode", str(tmp_path / "one.spkc"), "-o", str(tmp_path / f"{name}.dat"), *extra]) == 0
        capsys.readouterr()
    assert (summaries["one"]["workers"], summaries["two"]["workers"]) == (0, 2)
    assert (tmp_path / "one.spkc").read_bytes() == (tmp_path / "two.spkc").read_bytes()
    assert (tmp_path / "one.dat").read_bytes() == (tmp_path / "two.dat").read_bytes()


@pytest.fixture(scope="module")
def pools(cluster):
    """Pools of 1 and 2 workers on the 2 CPUs (jobs cut as short as they can be: many jobs, many chains)."""
    with WorkerPool(workers=1, job_scenes=1, cpus_per_worker=0.5) as one, \
            WorkerPool(workers=2, job_scenes=1, cpus_per_worker=0.5) as two:
        yield {1: one, 2: two}


CONFIGS = {  # 13 scenes each
    "random-access": EncoderConfig(quality=3, window=K, intra_period=4, gop_size=2),
    "low-delay": EncoderConfig(quality=3, window=K, intra_period=3, gop="low-delay"),
    "exact": EncoderConfig(quality=3, window=K, intra_period=4, gop_size=2, exact="scenes"),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CONFIGS))
def test_workers_give_the_one_process_bytes_and_planes(pools, name) -> None:
    planes = spikes()
    single, reference = encode(CONFIGS[name], planes)
    for workers in (1, 2) if name == "random-access" else (2,):
        parallel, encoder = encode(CONFIGS[name], planes, pools[workers], push=50)
        assert parallel == single, f"{workers} workers"
        assert encoder.predictor.modes == reference.predictor.modes
        assert encoder.num_scenes == reference.num_scenes == 13
        assert encoder.jobs.submitted >= 3  # jobs cut at every forced intra scene
        # random access: the B scenes after a cut reference the anchor before it, coded again
        assert (encoder.jobs.chain_scenes > 0) == (name != "low-delay")
    if name == "random-access":
        expected = decode(single)
        got = decode(single, pools[2])
        np.testing.assert_array_equal(got[0], expected[0])
        assert got[1] == expected[1]


def test_random_access_jobs_need_whole_gops_in_an_intra_period(pools) -> None:
    with pytest.raises(SpikecodecError, match=r"intra period \(6\) is a multiple of the GOP size \(4\)"):
        Encoder(EncoderConfig(quality=3, window=K, intra_period=6, gop_size=4), H, W, pool=pools[1])


def test_a_damaged_scene_fails_as_in_one_process(pools) -> None:
    stream, _ = encode(EncoderConfig(quality=3, window=K, gop="intra"), spikes(4 * K))
    damaged = bytearray(stream)
    damaged[-40] ^= 0xFF  # inside the last scene record's payload (checked by its CRC)
    with pytest.raises(BitstreamError) as single:
        decode(bytes(damaged))
    with pytest.raises(BitstreamError) as parallel:
        decode(bytes(damaged), pools[2])
    assert str(parallel.value) == str(single.value)


def test_pool_flags_are_checked() -> None:
    with pytest.raises(SpikecodecError, match="workers must be at least 1, got 0"):
        WorkerPool(workers=0)
    assert main(["encode", "x.h5", "-o", "x.spkc", "--workers", "0"]) == 2


class _Here:
    """Runs each job at once, in this process: what the queue sends where is all this test looks at."""

    def __init__(self) -> None:
        self.jobs: list[tuple[list[int], list[int]]] = []

    def submit(self, chain, job):
        self.jobs.append((list(chain), list(job)))
        return run_job(chain, job, lambda index: index)

    def ready(self, handle) -> bool:
        return True

    def results(self, handle):
        return handle


def test_default_random_access_jobs_and_their_chains() -> None:
    """Intra every 32 scenes, anchor every 16: a job is an intra period; its chain the two anchors before it."""
    from codec.pipeline.gop import bisection

    here = _Here()
    queue: JobQueue[int, int, int] = JobQueue(here, min_scenes=1, max_in_flight=1)
    done, anchor = [], -1
    for next_anchor in range(0, 97, 16):
        refs = () if next_anchor % 32 == 0 else ((anchor,) if anchor >= 0 else ())
        done += queue.add(next_anchor, refs, next_anchor, next_anchor, independent=not refs)
        for index, _, earlier, later in bisection(anchor, next_anchor):
            done += queue.add(index, (earlier, later), index, index, independent=False)
        queue.release(next_anchor)
        anchor = next_anchor
    done += queue.flush()
    assert len(done) == 97 and all(local == result for local, result in done)
    assert [(chain, job[0], len(job)) for chain, job in here.jobs] == [
        ([], 0, 17), ([0, 16], 32, 32), ([32, 48], 64, 32), ([64, 80], 96, 16)]
    assert queue.chain_scenes == 6
