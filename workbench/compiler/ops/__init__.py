"""Ops, one module per family: scalar, elemwise, reduce, blas, shape, subtensor, nnet, ..."""
