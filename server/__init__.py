"""The gRPC service: servicer, stream store, configuration and the ``serve`` entry point.

A thin transport over :mod:`codec.pipeline`; see ``proto/spikecodec/v1/service.proto``.
"""
