"""Protocol packages of spikecodec, one per version."""
