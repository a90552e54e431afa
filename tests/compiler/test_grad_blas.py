"""Gradients of the products (Dot, TensorDot, BatchedDot, MatMul) and of the functions
built on them (outer, inner, vdot, batched_tensordot): finite differences and the Rop/Lop
identity for every ndim combination, batch broadcasting, R_op values, second derivatives."""
from __future__ import annotations

import numpy as np
import pytest

from gradcheck import check_grad
from workbench import tensor as T
from workbench.compiler.ops import blas as ops
from workbench.gradient import Rop, grad


def _r(*shape, seed=0):
    return np.random.default_rng(seed + sum(shape)).standard_normal(shape)


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)),
                                   ((2, 3), (3, 4)), ((1, 3), (3, 1)), ((3, 1), (1, 4)),
                                   ((0, 3), (3, 2)), ((2, 0), (0, 3)), ((1,), (1, 1))])
def test_dot_grad(sa, sb):
    check_grad(lambda a, b: ops.Dot()(a, b), _r(*sa), _r(*sb, seed=1))


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)),
                                   ((2, 3), (3, 4))])
def test_dot_grad_one_operand(sa, sb):
    a, b = _r(*sa), _r(*sb, seed=1)
    check_grad(lambda x, y: T.dot(x, y), a, b, wrt=[0])
    check_grad(lambda x, y: T.dot(x, y), a, b, wrt=[1])


def test_dot_grad_values():
    a, b = T.dmatrix("a"), T.dmatrix("b")
    ga, gb = grad(T.sum(T.dot(a, b)), [a, b])
    av, bv = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    np.testing.assert_allclose(ga.eval({a: av, b: bv}), np.ones((2, 4)) @ bv.T)
    np.testing.assert_allclose(gb.eval({a: av, b: bv}), av.T @ np.ones((2, 4)))


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)),
                                   ((2, 3), (3, 4))])
def test_dot_rop_is_bilinear(sa, sb):
    a, b = T.TensorType("float64", (None,) * len(sa))("a"), \
        T.TensorType("float64", (None,) * len(sb))("b")
    ua, ub = a.type("ua"), b.type("ub")
    jv = Rop(ops.Dot()(a, b), [a, b], [ua, ub])
    av, bv, uav, ubv = _r(*sa), _r(*sb, seed=1), _r(*sa, seed=2), _r(*sb, seed=3)
    want = np.dot(uav, bv) + np.dot(av, ubv)
    np.testing.assert_allclose(jv.eval({a: av, b: bv, ua: uav, ub: ubv}), want)
    only_a = Rop(ops.Dot()(a, b), a, ua)
    np.testing.assert_allclose(only_a.eval({a: av, b: bv, ua: uav}), np.dot(uav, bv))


@pytest.mark.parametrize("sa,sb", [((2, 3, 4), (4, 3)), ((3, 4), (2, 4, 2)),
                                   ((2, 2, 3), (2, 3, 2))])
def test_dot_of_nd_operands_grad(sa, sb):
    check_grad(lambda a, b: T.dot(a, b), _r(*sa), _r(*sb, seed=1))


@pytest.mark.parametrize("sa,sb,axes", [
    ((2, 3, 4), (3, 4, 2), 2), ((2, 3), (3, 4), 1), ((2, 3), (4, 2), 0),
    ((2, 3, 4), (4, 3, 2), [[1, 2], [1, 0]]), ((3, 2, 4), (4, 5, 3), [[0, 2], [2, 0]]),
    ((2, 3, 4), (2, 3, 4), 3), ((4, 2, 3), (2, 3, 4), [[2, 0], [1, 2]]),
    ((2, 3), (3,), [[1], [0]]), ((3,), (2, 3), [[0], [1]]), ((1, 3), (3, 1), [[0, 1], [1, 0]]),
])
def test_tensordot_grad(sa, sb, axes):
    check_grad(lambda a, b: T.tensordot(a, b, axes), _r(*sa), _r(*sb, seed=1))


def test_tensordot_op_grad_and_rop():
    op = ops.TensorDot(((2, 0), (0, 1)))
    check_grad(lambda a, b: op(a, b), _r(3, 2, 4), _r(4, 3, 2, seed=1))
    a, b = T.dtensor3("a"), T.dtensor3("b")
    ua = a.type("ua")
    jv = Rop(op(a, b), a, ua)
    assert isinstance(jv.owner.op, ops.TensorDot)


@pytest.mark.parametrize("sa,sb", [((2, 3), (2, 3)), ((2, 4, 3), (2, 3)), ((2, 3), (2, 3, 4)),
                                   ((2, 4, 3), (2, 3, 5)), ((2, 5, 4, 3), (2, 3, 2)),
                                   ((2, 4, 3), (2, 2, 3, 2)), ((2, 3), (2, 2, 3, 2)),
                                   ((1, 2, 3), (1, 3, 1)), ((3, 1, 2), (3, 2, 2))])
def test_batched_dot_grad(sa, sb):
    check_grad(lambda a, b: ops.BatchedDot()(a, b), _r(*sa), _r(*sb, seed=1))


@pytest.mark.parametrize("sa,sb", [((3,), (3, 2)), ((3, 2), (3,)), ((3, 2, 2), (3,))])
def test_batched_dot_with_a_vector_grad(sa, sb):
    check_grad(lambda a, b: T.batched_dot(a, b), _r(*sa), _r(*sb, seed=1))


@pytest.mark.parametrize("sx,sy,axes", [((2, 3, 4), (2, 4, 5), [[2], [1]]),
                                        ((2, 3, 4), (2, 5, 3, 4), [[1, 2], [2, 3]]),
                                        ((2, 3, 4), (2, 3, 4), 2)])
def test_batched_tensordot_grad(sx, sy, axes):
    check_grad(lambda x, y: T.batched_tensordot(x, y, axes), _r(*sx), _r(*sy, seed=1))


@pytest.mark.parametrize("sa,sb", [
    ((2, 3, 4), (4, 5)), ((4,), (2, 4, 5)), ((2, 3, 4), (4,)), ((1, 3, 4), (5, 4, 2)),
    ((5, 1, 3, 4), (2, 4, 2)), ((3, 4), (2, 2, 4, 5)), ((2, 1, 3, 4), (1, 5, 4, 2)),
    ((2, 3, 4), (2, 4, 1)), ((0, 3, 4), (1, 4, 2)), ((3,), (3,)), ((2, 3), (3,)),
])
def test_matmul_grad(sa, sb):
    check_grad(lambda a, b: ops.MatMul()(a, b), _r(*sa), _r(*sb, seed=1))


@pytest.mark.parametrize("sa,sb", [((1, 3, 4), (5, 4, 2)), ((5, 1, 3, 4), (2, 4, 2)),
                                   ((2, 1, 3, 4), (1, 5, 4, 2))])
def test_matmul_grad_with_statically_broadcast_batch_axes(sa, sb):
    # the static shape says which batch axes broadcast: summed without a run-time reshape
    def build(a, b):
        return T.matmul(T.specify_shape(a, sa), T.specify_shape(b, sb))

    check_grad(build, _r(*sa), _r(*sb, seed=1))


def test_matmul_grad_values_with_broadcasting():
    a, b = T.dtensor3("a"), T.dtensor3("b")
    av, bv = _r(1, 2, 3), _r(4, 3, 2, seed=1)
    ga, gb = grad(T.sum(T.matmul(a, b)), [a, b])
    ones = np.ones((4, 2, 2))
    np.testing.assert_allclose(ga.eval({a: av, b: bv}),
                               np.sum(ones @ bv.transpose(0, 2, 1), axis=0, keepdims=True))
    np.testing.assert_allclose(gb.eval({a: av, b: bv}), av.transpose(0, 2, 1) @ ones)


@pytest.mark.parametrize("fn,sa,sb", [(T.outer, (3,), (2,)), (T.inner, (2, 3), (4, 3)),
                                      (T.inner, (3,), (3,)), (T.vdot, (2, 3), (2, 3))])
def test_outer_inner_vdot_grad(fn, sa, sb):
    check_grad(fn, _r(*sa), _r(*sb, seed=1))


# ---------------------------------------------------------------------------------------
# second derivatives


def test_hessian_of_quadratic_form():
    x = T.dvector("x")
    a = np.array([[1.0, 2.0, 0.0], [0.5, 3.0, 1.0], [0.0, 1.0, 2.0]])
    h = T.hessian(T.dot(x, T.dot(T.constant(a), x)), x)
    np.testing.assert_allclose(h.eval({x: [0.3, -1.0, 2.0]}), a + a.T)


def test_grad_of_grad_of_matrix_product():
    check_grad(lambda a, b: grad(T.sum(T.dot(a, b) ** 2), a), _r(2, 3), _r(3, 2, seed=1))


def test_grad_of_grad_of_batched_dot_and_matmul():
    check_grad(lambda a, b: grad(T.sum(T.batched_dot(a, b) ** 2), b),
               _r(2, 2, 3), _r(2, 3, 2, seed=1))
    check_grad(lambda a, b: grad(T.sum(T.matmul(a, b) ** 2), a),
               _r(1, 2, 3), _r(2, 3, 2, seed=1))
