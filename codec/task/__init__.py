"""Task fidelity: how much rate a recognition network can lose before it stops recognising.

A labelled set of spike clips (:mod:`codec.task.data`: the bundled digits, simulated, or a
user's file) is coded by every curve of the bench, a fixed classifier
(:mod:`codec.task.classifier`, trained by :mod:`codec.task.train`) reads a view of what each
decoder returns (:mod:`codec.task.views`), and its top-1 accuracy is reported against bits
per spike-pixel with the lowest rate that keeps it within a point of the uncompressed
accuracy (:mod:`codec.task.run`, :mod:`codec.task.report`; ``spikecodec task``).
"""
