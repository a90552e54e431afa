"""Every function taking an axis reports the same mistake the same way (compiler/ops/axes.py)."""
import numpy as np
import pytest

from workbench import tensor as T

FUNCTIONS = {
    "sum": lambda x, a: T.sum(x, axis=a),
    "argmax": lambda x, a: T.argmax(x, axis=a),
    "sort": lambda x, a: T.sort(x, axis=a),
    "cumsum": lambda x, a: T.cumsum(x, axis=a),
    "concatenate": lambda x, a: T.concatenate([x, x], axis=a),
    "roll": lambda x, a: T.roll(x, 1, axis=a),
    "softmax": lambda x, a: T.nnet.softmax(x, axis=a),
    "repeat": lambda x, a: T.repeat(x, 2, axis=a),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_out_of_bounds_axis(name):
    with pytest.raises(np.exceptions.AxisError,
                       match=rf"^{name}: axis -3 is out of bounds for an input of 2 dimensions"):
        FUNCTIONS[name](T.dmatrix(), -3)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_non_integer_axis(name):
    with pytest.raises(TypeError, match=rf"^{name}: axis must be an int or None, got float 1.5"):
        FUNCTIONS[name](T.dmatrix(), 1.5)
