"""The wire contract: ``spikecodec/v1/*.proto`` and the stubs generated from them.

Regenerate the stubs with ``python -m proto.generate`` after editing a ``.proto``;
``tests/test_proto.py`` fails when the committed stubs drift from the sources.
"""
