"""The wire contract of spikecodec: ``v1/*.proto``, the stubs generated from them, and
:mod:`spikecodec_proto.wire`, the one hand-written module that turns spike streams,
``.spkc`` records and sensor parameters into messages and back.

The import name is ``spikecodec_proto`` (the folder is ``proto/spikecodec_proto``), so it
cannot shadow the ``proto`` package of ``proto-plus``. Regenerate the stubs with
``python -m spikecodec_proto.generate`` after editing a ``.proto``;
``tests/test_proto.py`` fails when the committed stubs drift from the sources.
"""
