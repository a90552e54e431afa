"""Gradients of the indexing ops: basic and advanced indexing, set/inc_subtensor, take,
choose, nonzero. Each checked against finite differences and the Rop/Lop identity
(``check_grad``), and where the semantics are a choice (duplicates, set vs inc), by value."""
import numpy as np
import pytest

from workbench import tensor as T
from workbench.gradient import DisconnectedInputError, Lop, grad, hessian

from gradcheck import check_grad

RNG = np.random.default_rng(7)
M = RNG.standard_normal((3, 4))
C3 = RNG.standard_normal((2, 3, 4))
V = RNG.standard_normal(5)

# ---------------------------------------------------------------------------------------
# Reading: x[index]

BASIC = {
    "int": (lambda x: x[1], M),
    "negative int": (lambda x: x[-1], M),
    "two ints": (lambda x: x[2, -1], M),
    "slice": (lambda x: x[1:], M),
    "step": (lambda x: x[::2], M),
    "negative step": (lambda x: x[::-1], M),
    "negative bounds and step": (lambda x: x[-1:0:-2], V),
    "slice past the end": (lambda x: x[2:10], V),
    "empty slice": (lambda x: x[3:1], M),
    "column": (lambda x: x[:, 1], M),
    "int and reversed slice": (lambda x: x[1, ::-2], M),
    "newaxis": (lambda x: x[None], M),
    "newaxis inside": (lambda x: x[:, None, 1:], M),
    "ellipsis last axis": (lambda x: x[..., 0], C3),
    "ellipsis first": (lambda x: x[1, ...], C3),
    "ellipsis and newaxis": (lambda x: x[..., None, ::2], C3),
    "3-d mixed": (lambda x: x[1, :, -2:], C3),
    "scalar of vector": (lambda x: x[3], V),
    "empty input": (lambda x: x[:, 1:], np.zeros((0, 3))),
}


@pytest.mark.parametrize("name", sorted(BASIC))
def test_basic_indexing_grad(name):
    build, value = BASIC[name]
    check_grad(build, value)


@pytest.mark.parametrize("start,stop,step", [(1, None, None), (-1, 0, -1), (0, 4, 2),
                                             (-3, -1, 1)])
def test_symbolic_slice_grad(start, stop, step):
    ints = [np.int64(p) for p in (start, stop, step) if p is not None]

    def build(x, *parts):
        it = iter(parts)
        start_, stop_, step_ = (None if p is None else next(it) for p in (start, stop, step))
        return x[start_:stop_:step_]

    check_grad(build, V, *ints)


def test_symbolic_int_index_grad():
    check_grad(lambda x, i, j: x[i, :j], M, np.int64(-2), np.int64(3))


ADVANCED = {
    "vector with duplicates": (lambda x: x[[0, 0, 2]], M),
    "negative entries": (lambda x: x[[-1, 0, -1]], V),
    "matrix index": (lambda x: x[np.array([[0, 1], [1, 1]])], M),
    "two arrays with duplicates": (lambda x: x[[0, 2, 0], [1, 1, 1]], M),
    "broadcast arrays": (lambda x: x[np.array([[0], [2]]), np.array([1, 3, 1])], M),
    "slice then array": (lambda x: x[:, [3, 0, 3]], M),
    "sliced slice then array": (lambda x: x[1:, [0, 0]], M),
    "array then slice": (lambda x: x[[2, 0], 1:], M),
    "int and array": (lambda x: x[1, [0, 2, 2]], M),
    "array and int": (lambda x: x[[0, 2], -1], M),
    "ellipsis then array": (lambda x: x[..., [1, 1]], C3),
    "arrays separated by a slice": (lambda x: x[[1, 0], :, [2, 2]], C3),
    "arrays separated by newaxis": (lambda x: x[[0, 1], None, [1, 3]], M),
    "array then newaxis": (lambda x: x[[1, 1], None], M),
    "empty index": (lambda x: x[np.zeros(0, dtype="int64")], M),
    "boolean mask": (lambda x: x[M > 0], M),
    "row mask": (lambda x: x[np.array([True, False, True])], M),
    "row mask and slice": (lambda x: x[np.array([True, False, True]), 1:], M),
    "mask of last axes": (lambda x: x[:, C3[0] > 0], C3),
    "all-false mask": (lambda x: x[M > 100], M),
}


@pytest.mark.parametrize("name", sorted(ADVANCED))
def test_advanced_indexing_grad(name):
    build, value = ADVANCED[name]
    check_grad(build, value)


@pytest.mark.parametrize("index", [np.array([2, 2, 0]), np.array([[1, 0], [1, 1]]),
                                   np.array([True, False, True])])
def test_symbolic_advanced_index_grad(index):
    # the index is a constant in verify_grad and a symbolic input in the Rop/Lop check
    check_grad(lambda x, i: x[i], M, index)
    check_grad(lambda x, i: x[1:, i] if i.dtype != "bool" else x[i, 1:], M, index)


def test_duplicated_indices_accumulate():
    x = T.dvector("x")
    g = grad(T.sum(x[[0, 0, 2, 0]]), x)
    assert g.eval({x: np.zeros(3)}).tolist() == [3.0, 0.0, 1.0]
    g2 = grad(T.sum(x[np.array([[0, 1], [0, 0]])]), x)
    assert g2.eval({x: np.zeros(3)}).tolist() == [3.0, 1.0, 0.0]


def test_indexing_gradient_zeros_outside_the_part():
    x = T.dmatrix("x")
    g = grad(T.sum(x[1:, ::2]), x)
    assert g.eval({x: np.zeros((2, 3))}).tolist() == [[0.0, 0.0, 0.0], [1.0, 0.0, 1.0]]


def test_index_inputs_are_disconnected():
    x, i = T.dvector("x"), T.lscalar("i")
    m, iv = T.TensorType("bool", (None,))("m"), T.lvector("iv")
    for index, cost in [(i, T.sum(x[i:])), (iv, T.sum(x[iv])), (iv, T.sum(x[1:][iv])),
                        (m, T.sum(x[m])), (i, T.sum(T.inc_subtensor(x[i], 1.0)))]:
        with pytest.raises(DisconnectedInputError):
            grad(cost, index)
    g = grad(T.sum(x[iv]), iv, disconnected_inputs="ignore")
    assert g.eval({iv: [0, 1]}).tolist() == [0.0, 0.0]


# ---------------------------------------------------------------------------------------
# Writing: set_subtensor / inc_subtensor

WRITES = {
    # name: (index the part of x, x, y)
    "slice, full y": (lambda x: x[1:, :2], M, RNG.standard_normal((2, 2))),
    "slice, row y": (lambda x: x[1:, :2], M, RNG.standard_normal((1, 2))),
    "slice, vector y": (lambda x: x[:, ::2], M, RNG.standard_normal(2)),
    "int, scalar y": (lambda x: x[1, 2], M, np.array(0.5)),
    "newaxis and ellipsis": (lambda x: x[None, ..., 1], C3, RNG.standard_normal((1, 2, 3))),
    "reversed": (lambda x: x[::-1], V, RNG.standard_normal(5)),
    "vector index with duplicates": (lambda x: x[[0, 2, 0]], M, RNG.standard_normal((3, 4))),
    "vector index, broadcast y": (lambda x: x[[0, 2, 0]], M, RNG.standard_normal((1, 4))),
    "two arrays with duplicates": (lambda x: x[[0, 2, 0], [1, 1, 1]], M,
                                   RNG.standard_normal(3)),
    "duplicates, scalar y": (lambda x: x[[0, 0], [3, 3]], M, RNG.standard_normal(())),
    "slice and array": (lambda x: x[1:, [3, 0, 3]], M, RNG.standard_normal((2, 3))),
    "arrays separated by a slice": (lambda x: x[[1, 0, 1], :, [2, 2, 2]], C3,
                                    RNG.standard_normal((3, 3))),
    "boolean mask": (lambda x: x[M > 0], M, RNG.standard_normal(1)),
    "row mask and slice": (lambda x: x[np.array([True, False, True]), 1:], M,
                           RNG.standard_normal((2, 3))),
}


@pytest.mark.parametrize("write", [T.set_subtensor, T.inc_subtensor],
                         ids=["set", "inc"])
@pytest.mark.parametrize("name", sorted(WRITES))
def test_write_grad(name, write):
    part, x, y = WRITES[name]
    check_grad(lambda a, b: write(part(a), b), x, y)


@pytest.mark.parametrize("write", [T.set_subtensor, T.inc_subtensor], ids=["set", "inc"])
def test_write_with_symbolic_index_grad(write):
    check_grad(lambda a, b, i: write(a[i:, 1], b), M, RNG.standard_normal(2), np.int64(1))
    check_grad(lambda a, b, i: write(a[i], b), M, RNG.standard_normal((1, 4)),
               np.array([2, 2, 0]))


def test_set_and_inc_gradients_by_value():
    x, y = T.dvector("x"), T.dvector("y")
    values = {x: np.zeros(4), y: np.zeros(2)}
    gx, gy = grad(T.sum(T.set_subtensor(x[1:3], y)), [x, y])
    assert gx.eval(values).tolist() == [1.0, 0.0, 0.0, 1.0]
    assert gy.eval(values).tolist() == [1.0, 1.0]
    gx, gy = grad(T.sum(T.inc_subtensor(x[1:3], y)), [x, y])
    assert gx.eval(values).tolist() == [1.0, 1.0, 1.0, 1.0]
    assert gy.eval(values).tolist() == [1.0, 1.0]


def test_set_with_duplicates_only_the_kept_value_gets_gradient():
    x, y = T.dvector("x"), T.dvector("y")
    values = {x: np.zeros(3), y: np.zeros(3)}
    gx, gy = grad(T.sum(T.set_subtensor(x[[0, 2, 0]], y)), [x, y])
    # NumPy keeps the last of the values written to position 0
    assert gy.eval(values).tolist() == [0.0, 1.0, 1.0]
    assert gx.eval(values).tolist() == [0.0, 1.0, 0.0]
    gx, gy = grad(T.sum(T.inc_subtensor(x[[0, 2, 0]], y)), [x, y])
    assert gy.eval(values).tolist() == [1.0, 1.0, 1.0]
    assert gx.eval(values).tolist() == [1.0, 1.0, 1.0]


def test_broadcast_y_gets_the_sum_of_its_copies():
    x, y = T.dmatrix("x"), T.drow("y")
    gy = grad(T.sum(T.inc_subtensor(x[:, 1:], y)), y)
    assert gy.eval({x: np.zeros((3, 3)), y: np.zeros((1, 2))}).tolist() == [[3.0, 3.0]]
    # y broadcast at run time (its type does not say so)
    z = T.dmatrix("z")
    gz = grad(T.sum(T.set_subtensor(x[:, 1:], z)), z)
    assert gz.eval({x: np.zeros((3, 3)), z: np.zeros((1, 2))}).tolist() == [[3.0, 3.0]]


def test_inplace_write_op_has_the_same_gradient():
    from workbench.compiler.ops.subtensor import IncSubtensor

    x, y = T.dvector("x"), T.dvector("y")
    out = IncSubtensor([(1, None, None)], inplace=True, set_instead_of_inc=True)(x, y)
    gx, gy = grad(T.sum(out), [x, y])
    values = {x: np.zeros(3), y: np.zeros(2)}
    assert gx.eval(values).tolist() == [1.0, 0.0, 0.0]
    assert gy.eval(values).tolist() == [1.0, 1.0]


# ---------------------------------------------------------------------------------------
# take, choose, nonzero


@pytest.mark.parametrize("mode", ["raise", "wrap", "clip"])
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_take_grad(mode, axis):
    indices = np.array([[2, -1], [0, 2]]) if mode == "raise" else np.array([[5, -1], [0, 9]])
    check_grad(lambda a, i: T.take(a, i, axis=axis, mode=mode), M, indices)
    check_grad(lambda a: T.take(a, np.int64(-2), axis=axis, mode=mode), M)


def test_take_wrap_accumulates_wrapped_duplicates():
    a = T.dvector("a")
    g = grad(T.sum(T.take(a, np.array([0, 3, -3, 7]), mode="wrap")), a)
    assert g.eval({a: np.zeros(3)}).tolist() == [3.0, 1.0, 0.0]
    g = grad(T.sum(T.take(a, np.array([-5, 0, 7]), mode="clip")), a)
    assert g.eval({a: np.zeros(3)}).tolist() == [2.0, 0.0, 1.0]


CHOOSE_INDEX = np.array([[0, 1, 2, 1], [2, 2, 0, 0], [1, 0, 0, 1]])


@pytest.mark.parametrize("mode", ["raise", "wrap", "clip"])
def test_choose_list_grad(mode):
    a = CHOOSE_INDEX if mode == "raise" else CHOOSE_INDEX * 2 - 1
    # the choices broadcast against each other and against a
    check_grad(lambda x, y, z, i: T.choose(i, [x, y, z], mode=mode), M, M[0], M[:, :1], a)


@pytest.mark.parametrize("mode", ["raise", "wrap", "clip"])
def test_choose_stacked_grad(mode):
    a = CHOOSE_INDEX[:, :2] if mode == "raise" else CHOOSE_INDEX[:, :2] + 2
    check_grad(lambda c, i: T.choose(i, c, mode=mode), RNG.standard_normal((3, 2)), a)
    check_grad(lambda c, i: T.choose(i, c, mode=mode), RNG.standard_normal((3, 3, 1)), a)


def test_choose_by_value_and_index_disconnected():
    a = T.lvector("a")
    x, y = T.dvector("x"), T.dscalar("y")
    gx, gy = grad(T.sum(T.choose(a, [x, y])), [x, y])
    values = {a: [0, 1, 1], x: np.zeros(3), y: 0.0}
    assert gx.eval(values).tolist() == [1.0, 0.0, 0.0]
    assert float(gy.eval(values)) == 2.0
    with pytest.raises(DisconnectedInputError):
        grad(T.sum(T.choose(a, [x, y])), a)


def test_nonzero_is_disconnected_and_nonzero_values_differentiable():
    x = T.dmatrix("x")
    with pytest.raises(DisconnectedInputError):
        grad(T.cast(T.sum(T.flatnonzero(x)), "float64"), x)
    with pytest.raises(DisconnectedInputError):
        grad(T.cast(T.sum(T.nonzero(x, return_matrix=True)), "float64"), x)
    value = np.array([[0.0, 1.5], [-2.0, 0.0]])
    # (finite differences would move the zeros off zero: the mask is held fixed here)
    check_grad(lambda a, m: a[T.neq(m, 0)], value, (value != 0).astype("int8"))
    g = grad(T.sum(T.nonzero_values(x)), x)
    assert g.eval({x: value}).tolist() == [[0.0, 1.0], [1.0, 0.0]]
    # the values picked by a nonzero index get the gradient
    rows, cols = T.nonzero(x)
    g = grad(T.sum(x[rows, cols]), x)
    assert g.eval({x: value}).tolist() == [[0.0, 1.0], [1.0, 0.0]]


def test_connection_patterns():
    from workbench.compiler.gradtypes import connection_pattern

    x, y, i = T.dmatrix("x"), T.dvector("y"), T.lscalar("i")
    assert connection_pattern(x[i, 1:].owner) == [[True], [False]]
    assert connection_pattern(T.set_subtensor(x[i], y).owner) == [[True], [True], [False]]
    assert connection_pattern(T.flatnonzero(x).owner) == [[False]]
    assert connection_pattern(T.choose(T.lvector(), [y, y]).owner) == [[False], [True], [True]]


# ---------------------------------------------------------------------------------------
# Second derivatives


@pytest.mark.parametrize("part", [lambda x: x[1:, ::-1], lambda x: x[[0, 2, 0]],
                                  lambda x: x[[0, 2, 0], [1, 1, 3]], lambda x: x[M > 0]],
                         ids=["basic", "advanced1", "advanced", "mask"])
def test_gradient_graph_is_differentiable(part):
    # Lop(f, x, v) is linear in v: differentiating it again gives f's transpose back
    v_value = RNG.standard_normal(np.asarray(part(M)).shape)
    check_grad(lambda x, v: Lop(part(x), x, v), M, v_value, wrt=[1])


@pytest.mark.parametrize("write", [T.set_subtensor, T.inc_subtensor], ids=["set", "inc"])
def test_write_gradient_graph_is_differentiable(write):
    y = RNG.standard_normal((1, 4))
    v_value = RNG.standard_normal(M.shape)
    # the gradient graphs depend on v only (the writes are linear)
    check_grad(lambda x, b, v: Lop(write(x[[0, 2, 0]], b), b, v), M, y, v_value, wrt=[2])
    check_grad(lambda x, b, v: Lop(write(x[[0, 2, 0]], b), x, v), M, y, v_value, wrt=[2])


def test_hessian_through_indexing():
    x = T.dvector("x")
    # sum(x[i]^2) over a repeated index: 2 * (count of each index) on the diagonal;
    # sum(set_subtensor(x[1:], 0) * x) = x0^2 adds 2 at [0, 0]
    h = hessian(T.sum(T.sqr(x[[0, 2, 0]])) + T.sum(T.set_subtensor(x[1:], 0.0) * x), x)
    assert h.eval({x: np.ones(3)}).tolist() == [[6.0, 0.0, 0.0], [0.0, 0.0, 0.0],
                                                [0.0, 0.0, 2.0]]
