"""``spikecodec bench``: rate-distortion sweeps of the codec against reference anchors.

::

    sources ──> prepared source: planes, scene centres, reference scenes (same recon), ground truth?
                   │
       jobs: (source, curve, param) ── cache hit? ── skip
                   │ no
       ours:    codec.pipeline Encoder -> records -> Decoder -> scenes (8-bit) + regenerated planes
       anchors: codec.anchors on the reference scenes -> scenes -> 8-bit -> codec.regenerate -> planes
       imported: --vvc-outputs scenes -> 8-bit -> codec.regenerate -> planes
                   │
       score (client.report, codec.metrics) -> point JSON in DIR/points/ (resumable)
                   │
    rd.json, rd.csv, bd_rate.md (vs VVC all-intra, scene- and ISI-PSNR domains), rd_*.png
"""
