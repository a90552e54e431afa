"""Tensor constructors, constants, as_tensor_variable and cast."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

import workbench
from workbench import tensor as T
from opcheck import check_op

PREFIXES = {"b": "int8", "w": "int16", "i": "int32", "l": "int64", "f": "float32",
            "d": "float64", "c": "complex64", "z": "complex128"}
KINDS = {"scalar": (), "vector": (None,), "row": (1, None), "col": (None, 1),
         "matrix": (None, None), "tensor3": (None,) * 3, "tensor4": (None,) * 4,
         "tensor5": (None,) * 5}
PLURALS = {"scalar": "scalars", "vector": "vectors", "row": "rows", "col": "cols",
           "matrix": "matrices", "tensor3": "tensor3s", "tensor4": "tensor4s",
           "tensor5": "tensor5s"}


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("prefix", sorted(PREFIXES))
def test_typed_constructors(prefix, kind):
    ttype = getattr(T, prefix + kind)
    x = ttype("x")
    assert x.type == ttype and x.name == "x"
    assert x.dtype == PREFIXES[prefix]
    assert x.type.shape == KINDS[kind]
    assert x.broadcastable == tuple(s == 1 for s in KINDS[kind])
    assert x.ndim == len(KINDS[kind])
    many = getattr(T, prefix + PLURALS[kind])("a", "b", "c")
    assert [v.name for v in many] == ["a", "b", "c"]
    assert all(v.type == ttype for v in many)
    assert len(getattr(T, prefix + PLURALS[kind])(2)) == 2


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_generic_constructors_follow_floatX(kind):
    make, plural = getattr(T, kind), getattr(T, PLURALS[kind])
    assert make("x").dtype == "float64"
    assert make("x", dtype="int32").dtype == "int32"
    workbench.config.floatX = "float32"
    assert make().dtype == "float32"
    assert [v.dtype for v in plural("x", "y")] == ["float32", "float32"]
    assert [v.name for v in plural("x", "y")] == ["x", "y"]
    assert make().type.shape == KINDS[kind]


def test_seed_examples():
    x, y, z = T.matrices("x", "y", "z")
    assert (x.name, y.name, z.name) == ("x", "y", "z")
    assert T.dscalar().type == T.dscalar
    assert T.dmatrices("x", "y")[1].type == T.dmatrix
    workbench.config.floatX = "float32"
    assert T.scalar().dtype == "float32"


def test_change_flags_floatX():
    with workbench.change_flags(floatX="float32"):
        assert T.vector().dtype == "float32"
    assert T.vector().dtype == "float64"


def test_tensor_constructor():
    assert T.tensor("float32", shape=(None, 3)).type.shape == (None, 3)
    assert T.tensor("int8", broadcastable=(True, False)).type == T.brow
    assert T.tensor(shape=(None,)).dtype == "float64"
    assert T.tensor("float64", (False, True)).type == T.dcol  # Theano's positional pattern
    with pytest.raises(TypeError, match="shape"):
        T.tensor("float64")


@pytest.mark.parametrize("value,dtype,shape", [
    (1, "int64", ()), (1.5, "float64", ()), (True, "bool", ()), (1j, "complex128", ()),
    ([1, 2], "int64", (2,)), ([[1.0], [2.0]], "float64", (2, 1)),
    (np.float32(2), "float32", ()), (np.arange(3, dtype="uint8"), "uint8", (3,)),
])
def test_constant(value, dtype, shape):
    c = T.constant(value)
    assert c.dtype == dtype and c.type.shape == shape
    np.testing.assert_array_equal(c.data, value)
    assert isinstance(c.data, np.ndarray)


def test_constant_weak_and_strong():
    assert T.constant(2).weak and T.constant(2.0).weak
    assert not T.constant(np.int64(2)).weak
    assert not T.constant(2, dtype="int8").weak
    assert T.constant(2, dtype="int8").dtype == "int8"
    assert T.constant(2, ndim=2).type.shape == (1, 1)
    with pytest.raises(ValueError, match="ndim"):
        T.constant([1, 2], ndim=0)
    workbench.config.floatX = "float32"
    assert T.constant(1.5).dtype == "float32"
    assert T.constant(1.5, dtype="float64").dtype == "float64"


@pytest.mark.parametrize("bad", ["abc", [[1, 2], [3]], {"a": 1}, object()])
def test_constant_refuses(bad):
    with pytest.raises(TypeError):
        T.constant(bad)
    with pytest.raises(TypeError):
        T.as_tensor_variable(bad)


def test_as_tensor_variable():
    x = T.dmatrix("x")
    assert T.as_tensor_variable(x) is x
    assert T.as_tensor_variable(x, ndim=3).broadcastable == (True, False, False)
    with pytest.raises(ValueError, match="2 dimensions"):
        T.as_tensor_variable(x, ndim=1)
    assert T.as_tensor_variable([[1, 2], [3, 4]]).type.shape == (2, 2)
    assert T.as_tensor is T.as_tensor_variable
    assert T.as_tensor_variable(workbench.Out(x)) is x
    from workbench.compiler.types import generic

    with pytest.raises(TypeError, match="not a tensor"):
        T.as_tensor_variable(generic())


@given(src=st.sampled_from(["bool", "int8", "int32", "uint8", "float32", "float64",
                            "complex64"]),
       dst=st.sampled_from(["bool", "int8", "int16", "int64", "uint8", "float32",
                            "float64", "complex128"]))
def test_cast(src, dst):
    x = np.array([0, 1, 3, 200], dtype=np.int64).astype(src) if src != "bool" else \
        np.array([True, False])
    if src.startswith("complex") and dst not in ("bool", "complex128"):
        with pytest.raises(TypeError, match="ambiguous"):
            T.cast(T.TensorType(src, (None,))(), dst)
        return

    def ref(v):
        return v.astype(dst)

    out = check_op(lambda v: T.cast(v, dst), ref, x)[0]
    assert out.dtype == dst
    check_op(lambda v: v.astype(dst), ref, x)


def test_cast_to_same_dtype_is_identity_and_floatX():
    x = T.dvector()
    assert T.cast(x, "float64") is x
    workbench.config.floatX = "float32"
    assert T.cast(x, "floatX").dtype == "float32"


def test_get_scalar_constant_value():
    assert T.get_scalar_constant_value(T.constant(3)) == 3
    assert T.get_scalar_constant_value(T.constant([2, 2])) == 2
    assert T.get_scalar_constant_value(4.5) == 4.5
    with pytest.raises(T.NotScalarConstantError):
        T.get_scalar_constant_value(T.dscalar())
    with pytest.raises(T.NotScalarConstantError):
        T.get_scalar_constant_value(T.constant([1, 2]))


def test_variable_protocols():
    x = T.dvector("x")
    with pytest.raises(TypeError, match="truth value"):
        bool(x)
    with pytest.raises(TypeError, match="len"):
        len(x)
    with pytest.raises(TypeError, match="iterate"):
        iter(x).__next__()
    assert (x == x) is True and (x != T.dvector()) is True  # identity, as in Theano
    assert {x: 1}[x] == 1
    assert +x is x


def test_shared_in_expressions():
    w = T.shared(np.ones((2, 2)), "w")
    assert isinstance(w, T.TensorSharedVariable)
    np.testing.assert_array_equal((w * 2 + 1).eval(), np.full((2, 2), 3.0))
    assert w.type == T.dmatrix
    assert workbench.shared(np.float32(1)).type == T.fscalar
    assert workbench.shared(1.5).type == T.dscalar
    assert workbench.shared(1).type == T.lscalar
    assert workbench.shared([True]).type == T.TensorType("bool", (None,))
    assert workbench.shared(np.zeros((1, 3)), broadcastable=(True, False)).type == T.drow
    assert workbench.shared(np.zeros((2, 3)), shape=(2, None)).type.shape == (2, None)


@pytest.mark.parametrize("bad", ["text", {"a": 1}, [[1], [2, 3]], T.dscalar()])
def test_shared_refuses(bad):
    with pytest.raises(TypeError):
        workbench.shared(bad)


def test_shared_unknown_argument():
    with pytest.raises(TypeError, match="unexpected"):
        workbench.shared(1.0, bogus=True)
