"""Loop fusion: elemwise_fusion (Elemwise groups -> one Composite) and reduction_fusion
(CAReduce of an Elemwise -> one FusedReduce)."""
from __future__ import annotations

import json

import numpy as np
import pytest

import workbench
from workbench import tensor as T
from workbench.compiler.fgraph import FunctionGraph
from workbench.compiler.ops import scalar
from workbench.compiler.ops.elemwise import Elemwise
from workbench.compiler.ops.fused_reduce import FusedReduce
from workbench.compiler.ops.reduce import CAReduce, Max, Sum
from workbench.compiler.ops.scalar import Cast, Composite, ScalarOp
from workbench.compiler.rewrite.features import ShapeFeature
from workbench.compiler.rewrite.fusion import (MAX_FUSED_INPUTS, FusionPass, _ProgramBuilder,
                                               find_groups)
from workbench.compiler.rewrite.trace import PassRecord

NO_OPT = workbench.Mode(optimizer=None)


def _nodes(f):
    return f.maker.fgraph.toposort()


def _ops(f):
    return [str(n.op) for n in _nodes(f)]


def _composites(f):
    return [n for n in _nodes(f) if isinstance(n.op, Elemwise)
            and isinstance(n.op.scalar_op, Composite)]


def _elemwise(f):
    return [n for n in _nodes(f) if isinstance(n.op, Elemwise)]


def _fused_reduces(f):
    return [n for n in _nodes(f) if isinstance(n.op, FusedReduce)]


def _same_as_unoptimized(inputs, outputs, values, rtol=1e-7):
    """Compile both ways, run both on ``values``; compare dtype, shape and values."""
    f = workbench.function(inputs, outputs)
    g = workbench.function(inputs, outputs, mode=NO_OPT)
    got, want = f(*values), g(*values)
    if not isinstance(got, list):
        got, want = [got], [want]
    for a, b in zip(got, want):
        assert a.dtype == b.dtype and a.shape == b.shape
        if b.dtype.kind in "fc":
            np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)
        else:
            np.testing.assert_array_equal(a, b)
    return f


# -- elemwise fusion ------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_acceptance_expression_becomes_one_fused_node(rng, dtype):
    x, y, z = (T.matrix(n, dtype=dtype) for n in "xyz")
    expr = T.exp(x) * y + T.sin(z) * 0.5 - x / (1 + y * y)
    values = [rng.normal(size=(3, 4)).astype(dtype) for _ in range(3)]
    f = _same_as_unoptimized([x, y, z], expr, values, rtol=1e-5 if dtype == "float32" else 1e-12)
    assert len(_nodes(f)) == 1 and len(_composites(f)) == 1
    assert f.maker.fgraph.outputs[0].dtype == dtype
    assert f.trace.fired()["elemwise_fusion"] == 1
    unoptimized = workbench.function([x, y, z], expr, mode=NO_OPT)
    assert len(_elemwise(unoptimized)) >= 8


def test_fused_program_is_flat_and_reads_each_input_once():
    x, y = T.dvectors("x", "y")
    f = workbench.function([x, y], T.exp(x) * y + T.exp(x) * 2 + y)
    (node,) = _nodes(f)
    program = node.op.scalar_op.program
    assert not any(isinstance(op, Composite) for op, _ in program)
    assert len(node.inputs) == len(set(node.inputs)) == 3   # x, y and the constant 2


def test_an_intermediate_read_twice_inside_the_group_is_fused(rng):
    x, y = T.dmatrices("x", "y")
    e = T.exp(x)
    f = _same_as_unoptimized([x, y], e * y - T.sqrt(e + 1), [rng.normal(size=(2, 3))] * 2)
    assert len(_nodes(f)) == 1
    assert [str(op) for op, _ in _nodes(f)[0].op.scalar_op.program].count("exp") == 1


def test_an_intermediate_that_is_an_output_stops_the_group(rng):
    x = T.dvector("x")
    e = T.exp(x)
    f = _same_as_unoptimized([x], [e * 2 + 1, e], [rng.normal(size=5)])
    assert sorted(_ops(f)) == ["Elemwise{Composite{add(mul(i0, i1), i2)}}", "Elemwise{exp}"]


def test_an_intermediate_read_by_another_op_stops_the_group(rng):
    x = T.dvector("x")
    e = T.exp(x) * 3
    f = _same_as_unoptimized([x], T.sort(e) + T.log(e), [rng.normal(size=5)])
    # exp*3 is needed by the sort too: it is its own loop, log(.) + sort(.) another
    first, second = [str(n.op.scalar_op) for n in _composites(f)]
    assert first == "Composite{mul(exp(i0), i1)}"
    assert "log" in second and "exp" not in second


def test_a_single_node_is_not_fused():
    x = T.dvector("x")
    f = workbench.function([x], T.exp(x))
    assert _ops(f) == ["Elemwise{exp}"]
    assert "elemwise_fusion" not in f.trace.fired()


def test_a_broadcast_intermediate_stays_outside_the_loop(rng):
    # y * y has shape (1, n): fused into the (m, n) loop it would be computed m times
    x = T.dmatrix("x")
    y = T.drow("y")
    expr = T.exp(x) / (1 + y * y)
    f = _same_as_unoptimized([x, y], expr, [rng.normal(size=(4, 3)), rng.normal(size=(1, 3))])
    loops = _composites(f)
    assert len(loops) == 2
    assert {n.outputs[0].type.broadcastable for n in loops} == {(False, False), (True, False)}


def test_inputs_that_broadcast_at_run_time(rng):
    x, y = T.dmatrices("x", "y")
    f = _same_as_unoptimized([x, y], T.exp(x) * y + x, [rng.normal(size=(1, 3)),
                                                         rng.normal(size=(4, 3))])
    assert len(_nodes(f)) == 1
    f = _same_as_unoptimized([x, y], T.exp(x) * y + x, [rng.normal(size=(4, 1)),
                                                         rng.normal(size=(1, 3))])


def test_vector_and_scalar_inputs_fuse_with_their_dimshuffles_outside(rng):
    x = T.dmatrix("x")
    v = T.dvector("v")
    s = T.dscalar("s")
    expr = T.tanh(x * v + s) - v * s
    f = _same_as_unoptimized([x, v, s], expr, [rng.normal(size=(2, 3)), rng.normal(size=3),
                                               np.float64(0.5)])
    assert len([n for n in _composites(f) if n.outputs[0].ndim == 2]) == 1


def test_python_literals_keep_the_dtype_of_their_original_node():
    # int8 + 1 wraps around in int8 before meeting the float32: fusing must not widen it
    x = T.bvector("x")
    y = T.fvector("y")
    expr = (x + 1) * y
    f = _same_as_unoptimized([x, y], expr, [np.array([127, -128, 5], dtype="int8"),
                                            np.ones(3, dtype="float32")])
    assert len(_nodes(f)) == 1
    assert f(np.array([127], dtype="int8"), np.ones(1, dtype="float32")).tolist() == [-128.0]


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "float32"])
def test_integer_and_cast_chains_keep_dtypes(rng, dtype):
    x, y = T.vector("x", dtype=dtype), T.vector("y", dtype=dtype)
    expr = T.cast(x * 3 + y, "float32") / 2 + T.cast(x // 2, "int16")
    values = [rng.integers(1, 50, size=6).astype(dtype) for _ in range(2)]
    f = _same_as_unoptimized([x, y], expr, values, rtol=1e-6)
    assert len(_composites(f)) == 1 and len(_elemwise(f)) == 1


def test_boolean_chains(rng):
    x, y = T.dvectors("x", "y")
    expr = T.switch((x > 0) & (y < 0.5), x, -y) * 2
    f = _same_as_unoptimized([x, y], expr, [rng.normal(size=8), rng.normal(size=8)])
    assert len(_nodes(f)) == 1
    g = _same_as_unoptimized([x, y], (x > 0) | T.isnan(y), [rng.normal(size=8),
                                                             np.array([np.nan, 1.0] * 4)])
    assert g.maker.fgraph.outputs[0].dtype == "bool" and len(_nodes(g)) == 1


def test_scalar_graphs_fuse(rng):
    a, b = T.dscalars("a", "b")
    f = _same_as_unoptimized([a, b], T.exp(a) * b - a, [np.float64(0.3), np.float64(2.0)])
    assert len(_nodes(f)) == 1 and f(0.3, 2.0).shape == ()


def test_fusing_twice_flattens_composites(rng):
    x, y = T.dvectors("x", "y")
    fg = FunctionGraph([x, y], [T.exp(x) * y])
    FusionPass().apply(fg, PassRecord("fusion", ()))
    (inner,) = fg.toposort()
    assert isinstance(inner.op.scalar_op, Composite)
    # a graph where the composite feeds more elementwise work: fused again, flat
    xi, yi = fg.inputs
    fg2 = FunctionGraph([xi, yi], [T.sin(fg.outputs[0]) + yi], clone=False)
    record = PassRecord("fusion", ())
    FusionPass().apply(fg2, record)
    (node,) = fg2.toposort()
    ops = [str(op) for op, _ in node.op.scalar_op.program]
    assert ops == ["exp", "mul", "sin", "add"]
    assert [e.rule for e in record.events] == ["elemwise_fusion"]
    from workbench.compiler.backends.python import PythonVM

    vm = PythonVM(fg2)
    xv, yv = rng.normal(size=4), rng.normal(size=4)
    vm.storage[xi][0], vm.storage[yi][0] = xv, yv
    vm.run()
    np.testing.assert_allclose(vm.storage[fg2.outputs[0]][0], np.sin(np.exp(xv) * yv) + yv)


def test_a_step_whose_implementation_disagrees_with_its_dtype_gets_a_cast():
    odd = ScalarOp("odd_neg", 1, np.negative, out_dtype=lambda d: "float64")
    builder = _ProgramBuilder([T.ivector()])
    index = builder.add(odd, (0,))
    assert builder.dtypes[index] == "float64"
    assert isinstance(builder.steps[-1][0], Cast) and builder.steps[-1][0].dtype == "float64"
    program = builder.composite()
    x = T.ivector("x")
    out = Elemwise(program)(x)
    assert out.dtype == "float64"
    assert workbench.function([x], out)(np.array([1, 2], dtype="int32")).dtype == np.float64


def test_groups_never_exceed_the_input_limit(rng):
    xs = [T.dvector(f"x{i}") for i in range(MAX_FUSED_INPUTS + 8)]
    expr = xs[0]
    for v in xs[1:]:
        expr = expr * 0.5 + T.sin(v)
    values = [rng.normal(size=3) for _ in xs]
    f = _same_as_unoptimized(xs, expr, values, rtol=1e-10)
    assert all(len(n.inputs) <= MAX_FUSED_INPUTS for n in _composites(f))
    assert len(_composites(f)) >= 2


def test_find_groups_reports_one_group_per_loop():
    x, y = T.dvectors("x", "y")
    e = T.exp(x)
    fg = FunctionGraph([x, y], [e * y + 1, T.sort(e)])
    groups = find_groups(fg)
    assert [sorted(str(n.op) for n in g.members) for g in groups] == [
        ["Elemwise{add}", "Elemwise{mul}"]]


def test_fusion_events_record_what_was_replaced_and_made():
    x, y = T.dvectors("x", "y")
    f = workbench.function([x, y], T.exp(x) * y + 1)
    record = f.trace["fusion"]
    (event,) = record.events
    assert event.rule == "elemwise_fusion"
    assert len(event.replaced) == 3 and len(event.created) == 1
    assert record.nodes_before == 3 and record.nodes_after == 1
    json.dumps(f.trace.to_dict())


def test_fused_node_keeps_the_source_line():
    x = T.dvector("x")
    out = T.exp(x) * 2 + 1  # the line the fused node reports
    f = workbench.function([x], out)
    (node,) = _nodes(f)
    assert node.source is not None and "test_fusion.py" in str(node.source)


def test_excluding_the_fusion_pass():
    x, y = T.dvectors("x", "y")
    f = workbench.function([x, y], T.exp(x) * y + 1,
                           mode=workbench.Mode(optimizer="fast_run").excluding("fusion"))
    assert not _composites(f) and len(_elemwise(f)) == 3


def test_fusion_does_not_run_in_fast_compile():
    x, y = T.dvectors("x", "y")
    f = workbench.function([x, y], T.exp(x) * y + 1, mode=workbench.Mode(optimizer="fast_compile"))
    assert not _composites(f)


# -- reduction fusion -----------------------------------------------------------------------

def test_acceptance_sum_of_exp_is_one_fused_reduce(rng):
    x = T.dmatrix("x")
    f = _same_as_unoptimized([x], T.sum(T.exp(x)), [rng.normal(size=(3, 4))], rtol=1e-12)
    assert len(_nodes(f)) == 1 and len(_fused_reduces(f)) == 1
    assert f.trace.fired()["reduction_fusion"] == 1


@pytest.mark.parametrize("reduce_fn, kwargs", [
    (T.sum, dict(axis=0)), (T.sum, dict(axis=1, keepdims=True)), (T.prod, dict(axis=None)),
    (T.max, dict(axis=1)), (T.min, dict(axis=(0, 1))),
])
def test_reductions_of_a_fused_loop(rng, reduce_fn, kwargs):
    x, y = T.dmatrices("x", "y")
    expr = reduce_fn(T.exp(x) * y + 0.5, **kwargs)
    f = _same_as_unoptimized([x, y], expr, [rng.normal(size=(3, 4)), rng.normal(size=(3, 4))],
                             rtol=1e-12)
    (node,) = _fused_reduces(f)
    assert not [n for n in _nodes(f) if isinstance(n.op, CAReduce)]
    assert [str(op) for op, _ in node.op.scalar_op.program] == ["exp", "mul", "add"]


def test_mean_of_a_fused_loop(rng):
    # the mean also reads the elementwise result's shape; whether the reduction fuses
    # depends on a shape rewrite moving that read to the inputs: values must match either way
    x, y = T.dmatrices("x", "y")
    _same_as_unoptimized([x, y], T.mean(T.exp(x) * y + 0.5, axis=0),
                         [rng.normal(size=(3, 4)), rng.normal(size=(3, 4))], rtol=1e-12)


def test_float32_sums_accumulate_as_before(rng):
    x = T.fvector("x")
    f = _same_as_unoptimized([x], T.sum(T.exp(x)), [rng.normal(size=1000).astype("float32")],
                             rtol=0)
    (node,) = _fused_reduces(f)
    assert node.op.reduce_op.acc_dtype == "float64" and f.maker.fgraph.outputs[0].dtype == \
        "float32"


def test_integer_sum_and_logical_reductions(rng):
    x = T.bvector("x")
    # x * x wraps around in int8 before the int64 sum, fused or not
    f = _same_as_unoptimized([x], T.sum(x * x), [np.array([100, 100, -3], dtype="int8")])
    assert len(_fused_reduces(f)) == 1 and f.maker.fgraph.outputs[0].dtype == "int64"
    y = T.dmatrix("y")
    values = [rng.normal(size=(3, 4))]
    for fn in (T.all, T.any):
        g = _same_as_unoptimized([y], fn(y > 0.1, axis=1), values)
        assert len(_fused_reduces(g)) == 1


def test_a_reduction_with_broadcasting_inputs(rng):
    x = T.dmatrix("x")
    v = T.dvector("v")
    f = _same_as_unoptimized([x, v], T.sum(T.exp(x - v), axis=1),
                             [rng.normal(size=(3, 4)), rng.normal(size=4)], rtol=1e-12)
    assert len(_fused_reduces(f)) == 1


def test_no_reduction_fusion_when_the_elementwise_result_is_needed_elsewhere(rng):
    x = T.dvector("x")
    e = T.exp(x) * 2
    f = _same_as_unoptimized([x], [T.sum(e), e], [rng.normal(size=5)])
    assert not _fused_reduces(f) and "reduction_fusion" not in f.trace.fired()
    g = _same_as_unoptimized([x], [T.sum(e), T.max(e)], [rng.normal(size=5)])
    assert not _fused_reduces(g)


def test_a_reduction_of_a_non_elementwise_input_is_left_alone(rng):
    x = T.dmatrix("x")
    f = _same_as_unoptimized([x], T.sum(T.sort(x), axis=0), [rng.normal(size=(3, 4))])
    assert not _fused_reduces(f)


def test_fused_reduce_infer_shape():
    x = T.dmatrix("x")
    v = T.dvector("v")
    out = FusedReduce(Composite(((scalar.sub, (0, 1)),), 2), Sum(axis=(1,)))(x, v)
    fg = FunctionGraph([x, v], [out], features=[ShapeFeature()])
    (n,) = fg.get_feature(ShapeFeature).shape_of(fg.outputs[0])
    fn = workbench.function(list(fg.inputs), n, on_unused_input="ignore")
    assert int(fn(np.zeros((3, 4)), np.zeros(4))) == 3
    f = workbench.function([x, v], out.shape)
    assert f(np.zeros((3, 4)), np.zeros(4)).tolist() == [3]


def test_fused_reduce_gradient_matches_the_unfused_graph(rng):
    x, y = T.dmatrices("x", "y")
    program = Composite(((scalar.exp, (0,)), (scalar.mul, (2, 1))), 2)
    fused = FusedReduce(program, Sum(axis=(0,)))(x, y)
    plain = T.sum(T.exp(x) * y, axis=0)
    w = T.dvector("w")
    gf = T.grad(T.sum(fused * w), [x, y])
    gp = T.grad(T.sum(plain * w), [x, y])
    values = [rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), rng.normal(size=3)]
    got = workbench.function([x, y, w], gf)(*values)
    want = workbench.function([x, y, w], gp)(*values)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_fused_reduce_max_gradient_and_merge_equality():
    x = T.dvector("x")
    out = FusedReduce(scalar.neg, Max())(x)
    g = workbench.function([x], T.grad(out, x))
    assert g(np.array([3.0, -1.0, 2.0])).tolist() == [0.0, -1.0, 0.0]
    assert FusedReduce(scalar.neg, Max()) == FusedReduce(scalar.neg, Max())
    assert hash(FusedReduce(scalar.neg, Max())) == hash(FusedReduce(scalar.neg, Max()))


def test_fused_reduce_of_a_logical_fold_has_no_gradient_path():
    x = T.dvector("x")
    out = T.all(x > 0)
    f = workbench.function([x], out)
    (node,) = _fused_reduces(f)
    assert node.op.connection_pattern(node) == [[False], [False]]


def test_fused_reduce_rop_matches_the_unfused_graph(rng):
    from workbench.compiler.grad import Rop

    x, y, v = T.dmatrices("x", "y", "v")
    program = Composite(((scalar.exp, (0,)), (scalar.mul, (2, 1))), 2)
    fused = FusedReduce(program, Sum(axis=(0,)))(x, y)
    plain = T.sum(T.exp(x) * y, axis=0)
    values = [rng.normal(size=(2, 3)) for _ in range(3)]
    got = workbench.function([x, y, v], Rop(fused, [x], [v]))(*values)
    want = workbench.function([x, y, v], Rop(plain, [x], [v]))(*values)
    np.testing.assert_allclose(got, want, rtol=1e-12)
