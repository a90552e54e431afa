"""canonicalize: ops that do nothing at run time, shapes from input shapes, allocations and
reductions."""
from __future__ import annotations

import numpy as np
import pytest

import workbench
from workbench import tensor as T
from workbench.compiler.ops.gradflow import disconnected_grad, grad_clip, grad_scale

from rewritecheck import compare, pass_ops as canonical_ops


def ref_ops(ref):
    return [str(n.op) for n in ref.maker.fgraph.toposort()]


@pytest.fixture
def M(rng):
    return rng.normal(size=(3, 4))


# -- reshape, dimshuffle, subtensor -----------------------------------------------------------

@pytest.mark.parametrize("make", [lambda x: x.reshape(x.shape),
                                  lambda x: x.reshape((x.shape[0], x.shape[1])),
                                  lambda x: T.reshape(T.tensor("float64", shape=(3, 4)), (3, 4))])
def test_useless_reshape(M, make):
    x = T.dmatrix("x")
    out = make(x)
    inputs = [i for i in workbench.compiler.graph.graph_inputs([out]) if i.owner is None
              and not isinstance(i, workbench.compiler.graph.Constant)]
    f, ref = compare(inputs, out, [M])
    assert "Reshape{ndim=2}" in ref_ops(ref)
    assert "Reshape{ndim=2}" not in canonical_ops(f)
    assert "local_useless_reshape" in f.trace.fired()


def test_reshape_of_a_vector_to_minus_one(rng):
    x = T.fvector("x")
    f, _ = compare([x], x.reshape((-1,)), [rng.normal(size=5).astype("float32")])
    assert "local_useless_reshape" in f.trace.fired()


def test_reshape_to_another_shape_stays(M):
    x = T.dmatrix("x")
    f, _ = compare([x], x.reshape((x.shape[1], x.shape[0])), [M])
    assert "local_useless_reshape" not in f.trace.fired()
    assert "Reshape{ndim=2}" in canonical_ops(f)


def test_reshape_of_reshape(M):
    x = T.dmatrix("x")
    f, ref = compare([x], x.reshape((-1,)).reshape((4, 3)), [M])
    assert ref_ops(ref).count("Reshape{ndim=1}") == 1
    assert canonical_ops(f) == ["Reshape{ndim=2}"]
    assert "local_reshape_reshape" in f.trace.fired()


def test_double_transpose(M):
    x = T.dmatrix("x")
    f, ref = compare([x], T.exp(x.T.T), [M])
    assert ref_ops(ref).count("Transpose") == 2
    assert canonical_ops(f) == ["Elemwise{exp}"]
    assert "local_dimshuffle_merge" in f.trace.fired()


def test_dimshuffle_of_dimshuffle_is_one(rng):
    x = T.dvector("x")
    f, _ = compare([x], x.dimshuffle("x", 0).dimshuffle(1, 0, "x"), [rng.normal(size=3)])
    assert canonical_ops(f) == ["DimShuffle{0,x,x}"]


def test_dimshuffle_that_drops_keeps_its_run_time_check(rng):
    x = T.dmatrix("x")
    out = T.squeeze(x, 0).dimshuffle(0, "x")
    f, _ = compare([x], out, [rng.normal(size=(1, 3))])
    assert "local_dimshuffle_merge" in f.trace.fired()
    with pytest.raises(ValueError):
        f(rng.normal(size=(2, 3)))


@pytest.mark.parametrize("index", [lambda x: x[:], lambda x: x[0:], lambda x: x[::1],
                                   lambda x: x[0:x.shape[0]], lambda x: x[:, 0:x.shape[1]]])
def test_useless_subtensor(M, index):
    x = T.dmatrix("x")
    f, ref = compare([x], index(x) * 2, [M])
    assert "local_useless_subtensor" in f.trace.fired()
    assert canonical_ops(f) == ["Elemwise{mul}"]


def test_subtensor_beyond_the_static_length_is_everything(M):
    x = T.tensor("float64", shape=(3, 4), name="x")
    f, _ = compare([x], x[0:10] * 2, [M])
    assert "local_useless_subtensor" in f.trace.fired()


@pytest.mark.parametrize("index", [lambda x: x[1:], lambda x: x[::-1], lambda x: x[0],
                                   lambda x: x[:2], lambda x: x[:x.shape[1]]])
def test_subtensor_taking_less_stays(M, index):
    x = T.dmatrix("x")
    f, _ = compare([x], index(x) * 2, [M])
    assert "local_useless_subtensor" not in f.trace.fired()


# -- casts, copies, assertions, gradient-flow ops -------------------------------------------------

def test_cast_of_lossless_cast(rng):
    x = T.bvector("x")
    f, ref = compare([x], T.cast(T.cast(x, "int64"), "float32"), [np.array([-3, 100], "int8")])
    assert len(ref_ops(ref)) == 2
    assert canonical_ops(f) == ["Elemwise{convert_to_float32}"]
    assert "local_useless_cast" in f.trace.fired()


def test_cast_of_lossy_cast_stays(rng):
    x = T.dvector("x")
    f, _ = compare([x], T.cast(T.cast(x, "int8"), "float64"), [rng.normal(size=4) * 100])
    assert "local_useless_cast" not in f.trace.fired()


def test_cast_back_to_the_source_dtype(rng):
    x = T.fvector("x")
    f, _ = compare([x], T.cast(T.cast(x, "float64"), "float32") + 1,
                   [rng.normal(size=3).astype("float32")])
    assert canonical_ops(f) == ["Elemwise{add}"]


def test_tensor_copy_is_removed_and_outputs_still_do_not_alias(M):
    x = T.dmatrix("x")
    f, _ = compare([x], x.copy(), [M])
    assert "local_remove_tensor_copy" in f.trace.fired()
    value = M.copy()
    out = f(value)
    out[0, 0] = 99.0
    assert value[0, 0] == M[0, 0]


def test_useless_specify_shape(M):
    x = T.dmatrix("x")
    specified = T.specify_shape(x, (3, 4))
    f, ref = compare([x], T.specify_shape(specified, (3, 4)) * 2, [M])
    assert ref_ops(ref).count("SpecifyShape{axes=(0, 1)}") == 2
    assert canonical_ops(f).count("SpecifyShape{axes=(0, 1)}") == 1
    assert "local_useless_specify_shape" in f.trace.fired()
    with pytest.raises(AssertionError):
        f(np.ones((2, 4)))


def test_useless_rebroadcast(rng):
    x = T.dmatrix("x")
    row = T.addbroadcast(x, 0)
    f, _ = compare([x], T.unbroadcast(T.addbroadcast(row, 0), 0) + 1, [rng.normal(size=(1, 3))])
    assert "local_useless_rebroadcast" in f.trace.fired()
    assert canonical_ops(f).count("Rebroadcast{0:1}") <= 1


@pytest.mark.parametrize("flow", [T.consider_constant, T.zero_grad, disconnected_grad,
                                  lambda v: grad_clip(v, -1, 1), lambda v: grad_scale(v, 2.0)])
def test_gradient_flow_ops_are_removed(M, flow):
    x = T.dmatrix("x")
    f, ref = compare([x], flow(x) * 2, [M])
    assert len(ref_ops(ref)) == 2
    assert canonical_ops(f) == ["Elemwise{mul}"]
    assert "local_remove_gradient_flow" in f.trace.fired()


# -- shapes -----------------------------------------------------------------------------------

def test_shape_of_a_computed_value_needs_no_computation(M):
    x = T.dmatrix("x")
    f, ref = compare([x], T.exp(x).shape, [M])
    assert "Elemwise{exp}" in ref_ops(ref)
    assert [str(n.op) for n in f.maker.fgraph.toposort()] == ["Shape"]
    assert "local_shape_of_computed" in f.trace.fired()


def test_shape_i_of_a_computed_value(M):
    x = T.dmatrix("x")
    f, _ = compare([x], T.exp(x * 2).shape[1], [M])
    assert [str(n.op) for n in f.maker.fgraph.toposort()] == ["Shape_i{1}"]
    assert "local_subtensor_of_shape" in f.trace.fired()


def test_shape_of_a_broadcast_reads_both_operands(M, rng):
    x, v = T.dmatrix("x"), T.dvector("v")
    f, _ = compare([x, v], (x + v).shape, [M, rng.normal(size=4)])
    assert "Elemwise{add}" not in " ".join(str(n.op) for n in f.maker.fgraph.toposort())
    assert f(np.ones((3, 1)), np.ones(4)).tolist() == [3, 4]


def test_static_shape_is_a_constant():
    x = T.tensor("float64", shape=(2, 5), name="x")
    f = workbench.function([x], T.exp(x).shape)
    assert f.maker.fgraph.toposort() == []
    assert f(np.ones((2, 5))).tolist() == [2, 5]


def test_shape_of_a_value_needed_anyway_is_not_expanded(M, rng):
    # both x + v and its shape are outputs: reading the shape of the computed sum is cheaper
    # than the switch expressions broadcasting needs
    x, v = T.dmatrix("x"), T.dvector("v")
    s = x + v
    f, _ = compare([x, v], [s, s.shape[0]], [M, rng.normal(size=4)])
    assert "switch" not in " ".join(str(n.op) for n in f.maker.fgraph.toposort())


def test_shape_of_a_graph_input_is_read():
    x = T.dmatrix("x")
    f = workbench.function([x], x.shape[0])
    assert [str(n.op) for n in f.maker.fgraph.toposort()] == ["Shape_i{0}"]


# -- allocations ------------------------------------------------------------------------------

def test_elemwise_reads_the_value_of_a_covered_alloc(M):
    s, x = T.dscalar("s"), T.dmatrix("x")
    f, ref = compare([s, x], T.alloc(s, x.shape[0], x.shape[1]) + x, [1.5, M])
    assert "Alloc" in ref_ops(ref)
    assert "Alloc" not in canonical_ops(f)


def test_alloc_sinks_past_an_elemwise_of_single_elements(rng):
    s, n = T.dscalar("s"), T.lscalar("n")
    f, _ = compare([s, n], T.exp(T.alloc(s, n)) * 2, [0.5, 3])
    assert canonical_ops(f) == ["Elemwise{exp}", "Elemwise{mul}", "Alloc"]
    assert "local_elemwise_alloc" in f.trace.fired()


def test_alloc_that_may_broadcast_the_other_operand_stays(rng):
    s, v, n = T.dscalar("s"), T.dvector("v"), T.lscalar("n")
    f, _ = compare([s, v, n], T.exp(T.alloc(s, n, 4) + v), [0.5, rng.normal(size=4), 3])
    assert f(0.5, np.ones(1), 3).shape == (3, 4)  # v broadcast: the alloc gives the shape


def test_useless_alloc(M):
    x = T.dmatrix("x")
    f, _ = compare([x], T.alloc(x, x.shape[0], x.shape[1]) * 2, [M])
    assert canonical_ops(f) == ["Elemwise{mul}"]
    assert "local_useless_alloc" in f.trace.fired()


def test_alloc_of_alloc(rng):
    s, n = T.dscalar("s"), T.lscalar("n")
    f, _ = compare([s, n], T.alloc(T.alloc(s, n), 2, n), [0.5, 3])
    assert canonical_ops(f) == ["Alloc"]


def test_ones_like_and_zeros_like_from_gradients_go_away(M):
    x = T.dmatrix("x")
    f, ref = compare([x], T.ones_like(x) * T.exp(x) + T.zeros_like(x), [M])
    assert ref_ops(ref).count("Alloc") == 2
    assert canonical_ops(f) == ["Elemwise{exp}"]


# -- reductions ----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64", "int8"])
def test_sum_of_sum(rng, dtype):
    x = T.tensor(dtype, shape=(None, None, None), name="x")
    f, ref = compare([x], x.sum(axis=1).sum(axis=1),
                     [(rng.normal(size=(2, 3, 4)) * 10).astype(dtype)])
    assert canonical_ops(f) == ["Sum{axis=(1, 2)}"]
    assert "local_sum_sum" in f.trace.fired()


def test_sum_of_all_of_a_sum_is_one_sum(M):
    x = T.dmatrix("x")
    f, _ = compare([x], x.sum(axis=0).sum(), [M])
    assert canonical_ops(f) == ["Sum"]


def test_sum_of_a_sum_read_elsewhere_stays(M):
    x = T.dmatrix("x")
    s = x.sum(axis=0)
    f, _ = compare([x], [s.sum(), s * 2], [M])
    assert "local_sum_sum" not in f.trace.fired()


def test_sums_of_different_dtypes_are_not_merged(M):
    x = T.fmatrix("x")
    # the inner sum is float64, the outer one float64 but accumulating in float64 too: merged;
    # an int8 sum (int64) summed as float32 is not
    f, _ = compare([x], x.sum(axis=0, dtype="float64").sum(), [M.astype("float32")])
    assert "local_sum_sum" in f.trace.fired()
    i = T.bmatrix("i")
    g, _ = compare([i], i.sum(axis=0).sum(dtype="float32"), [np.ones((2, 3), dtype="int8")])
    assert "local_sum_sum" not in g.trace.fired()


@pytest.mark.parametrize("reduce", [T.sum, T.max, T.prod, T.all])
def test_reduction_over_size_one_axes(rng, reduce):
    x = T.TensorType("int8", (1, None))("x")
    f, ref = compare([x], reduce(x, axis=0), [np.array([[3, -1, 0]], dtype="int8")])
    assert "local_reduce_useless_axes" in f.trace.fired()
    assert not any("Sum" in o or "Max" in o or "Prod" in o or "All" in o
                   for o in canonical_ops(f))


def test_reduction_keeps_the_other_axes(rng):
    x = T.TensorType("float32", (None, 1, None))("x")
    f, _ = compare([x], T.sum(x, axis=(1, 2)), [rng.normal(size=(2, 1, 3)).astype("float32")])
    assert "Sum{axis=(1,)}" in canonical_ops(f)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sum_of_scaled(rng, dtype):
    x = T.tensor(dtype, shape=(None, None), name="x")
    f, ref = compare([x], (0.01 * x).sum(axis=0) + (x * 3).sum(),
                     [rng.normal(size=(3, 4)).astype(dtype)])
    assert f.trace.fired()["local_sum_of_scaled"] == 2
    assert f.maker.fgraph.outputs[0].dtype == dtype


def test_sum_of_an_integer_scaled_by_a_float_is_left_alone():
    # int * 2.5 is float64, but sum(int) would be int64: not the same sum
    i = T.ivector("i")
    f, _ = compare([i], (i * 2.5).sum(), [np.array([1, 2, 3], dtype="int32")])
    assert "local_sum_of_scaled" not in f.trace.fired()
