"""The gRPC service: servicer, stream store, configuration and the ``serve`` entry point.

A thin transport over :mod:`codec.pipeline`; see ``proto/spikecodec_proto/v1/service.proto``.
"""
