"""Evaluation: rate-distortion sweeps of the codec against reference anchors, their scores,
result files and reports (what ``spikecodec bench`` runs).

::

    sources (sources.py) ──> prepared source: planes, scene centres, reference scenes (same recon), ground truth?
                   │
       jobs: (source, curve, param) ── cached in DIR/points/ (cache.py)? ── reuse
                   │ no
       ours:    codec.pipeline Encoder -> records -> Decoder -> scenes (8-bit) + regenerated planes
       anchors: codec.anchors on the reference scenes -> scenes -> 8-bit -> codec.regenerate -> planes
       imported: --vvc-outputs scenes -> 8-bit -> codec.regenerate -> planes
                   │                                                   (sweep.py, bench.py)
       score (scores.py over codec.metrics) -> point JSON in DIR/points/ (resumable)
                   │
    rd.json (with date and commit), rd.csv, bd_rate.md, rd_*.png (outputs.py)
                   │
    docs/results.md: python -m codec.evaluate.results DIR... (results.py)

Beside the sweep: still images through a scene codec or an anchor (images.py; the Kodak
comparison, ``python -m codec.evaluate.kodak``) and the REDS figures of the training
records (reds.py).
"""
