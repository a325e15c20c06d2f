"""Evaluation: rate-distortion sweeps of the codec against reference anchors, their scores,
result files and reports (what ``spikecodec bench`` runs).

::

    sources (sources.py) ──> prepared source: planes, scene centres, reference scenes (same recon), ground truth?
                   │
       jobs: (source, curve, param) ── cached in DIR/points/ (cache.py)? ── reuse
                   │ no
       ours:    codec.pipeline Encoder -> records -> Decoder -> scenes (8-bit) + regenerated planes
       anchors: codec.anchors on the reference scenes -> scenes -> 8-bit -> codec.regenerate -> planes
       imported: --vvc-outputs scenes (checked, codec.anchors.imported) -> 8-bit -> codec.regenerate
                   │                                                   (sweep.py, bench.py)
       score (scores.py over codec.metrics) -> point JSON in DIR/points/ (resumable)
                   │  merged with DIR/rd.json's earlier points (bench.py)
    BD rows (bdtable.py) -> rd.json, rd.csv, bd_rate.md, compressai/ (outputs.py), rd_*.png (plots.py)
                   │
    docs/results.md: python -m codec.evaluate.results DIR... (results.py)

Export: the reference scenes as PNG or 10-bit YUV for external VVC encoders (export.py,
``spikecodec reconstruct``). Beside the sweep: still images through a scene codec or an
anchor (images.py; the Kodak comparison, ``python -m codec.evaluate.kodak``) and the REDS
figures of the training records (reds.py).
"""
