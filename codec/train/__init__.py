"""Multi-stage training (``spikecodec train``): see :mod:`codec.train.stages`."""
