"""Spike I/O: bit packing, PKU ``.dat`` and HDF5 readers/writers, block iteration."""
