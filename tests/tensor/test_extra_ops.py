import numpy as np
import pytest
from hypothesis import given, strategies as st

import workbench as theano
from workbench import tensor as T

from opcheck import check_op


@given(st.lists(st.integers(0, 6), max_size=12), st.sampled_from(["int8", "int32", "int64"]),
       st.one_of(st.none(), st.integers(0, 9)))
def test_bincount_matches_numpy(values, dtype, minlength):
    x = np.array(values, dtype=dtype)
    check_op(lambda v: T.extra_ops.bincount(v, minlength=minlength),
             lambda v: np.bincount(v, minlength=minlength or 0), x)


def test_bincount_weights_and_errors():
    x = np.array([0, 2, 2], dtype="int32")
    w = np.array([0.5, 1.0, 2.0], dtype="float32")
    check_op(lambda a, b: T.extra_ops.bincount(a, b), np.bincount, x, w)
    xv = T.ivector("x")
    f = theano.function([xv], T.extra_ops.bincount(xv))
    with pytest.raises(ValueError, match="negative"):
        f(np.array([1, -1], dtype="int32"))
    with pytest.raises(TypeError, match="non-negative integers"):
        T.extra_ops.bincount(T.dvector())


def test_to_one_hot():
    y = np.array([2, 0, 1, 2], dtype="int64")
    check_op(lambda v: T.extra_ops.to_one_hot(v, 3), lambda v: np.eye(3)[v], y)
    with pytest.raises(TypeError, match="integer vector"):
        T.extra_ops.to_one_hot(T.dvector(), 3)


def test_reexports_are_the_tensor_functions():
    assert T.extra_ops.cumsum is T.cumsum and T.extra_ops.repeat is T.repeat
