import io

import numpy as np

import workbench as theano
from workbench import tensor as T


def test_pp_seed_example():
    x, y = T.matrices("x", "y")
    assert theano.pp(x + y) == "(x + y)"


def test_pp_precedence_and_unary():
    x, y = T.dvectors("x", "y")
    assert theano.pp((x + y) * 2) == "((x + y) * 2.0)"
    assert theano.pp(-x) == "(-x)"
    assert theano.pp(T.exp(x) / y) == "(exp(x) / y)"
    assert theano.pp(T.lt(x, y)) == "(x < y)"


def test_pp_named_intermediate_and_function():
    x = T.dvector("x")
    h = T.exp(x)
    h.name = "h"
    assert theano.pp(h * x) == "(h * x)"
    f = theano.function([x], h * x, mode="FAST_COMPILE")
    assert theano.pp(f) == "(h * x)"  # the compiled graph keeps the user's names
    fused = theano.function([x], h * x)  # one fused loop, printed as its expression
    assert theano.pp(fused) == "(exp(x) * x)"


def test_debugprint_tree_and_shared_nodes():
    x = T.dvector("x")
    e = T.exp(x)
    text = theano.debugprint(e + e, file="str")
    lines = text.splitlines()
    assert lines[0].startswith("Elemwise{add} [id A]")
    assert lines[1] == " |Elemwise{exp} [id B] ''"
    assert lines[2] == " | |x [id C]"
    # the second use of the same node is printed by reference only
    assert lines[3] == " |Elemwise{exp} [id B] ''"
    assert len(lines) == 4


def test_debugprint_function_shows_order_and_types():
    x, y = T.dmatrices("x", "y")
    f = theano.function([x, y], T.exp(x) + y, mode="FAST_COMPILE")
    text = theano.debugprint(f, print_type=True, file="str")
    first = text.splitlines()[0]
    assert "Elemwise{add}" in first and "<TensorType(float64, matrix)>" in first
    assert first.rstrip().endswith("1")  # position in the execution order
    buf = io.StringIO()
    assert theano.debugprint(f, file=buf) is buf
    assert buf.getvalue().count("[id") == 4


def test_debugprint_depth_and_source():
    x = T.dvector("x")
    y = T.sin(T.exp(x))
    shallow = theano.debugprint(y, depth=1, file="str")
    assert "x [id" not in shallow
    with_source = theano.debugprint(y, print_source=True, file="str")
    assert "test_printing.py:" in with_source


def test_debugprint_refuses_other_objects():
    import pytest

    with pytest.raises(TypeError, match="debugprint"):
        theano.debugprint(np.ones(3))


def test_pp_indexing_and_reductions():
    v = T.dvector("v")
    i = T.lscalar("i")
    m = T.dmatrix("m")
    assert theano.pp(v[1:] * 2) == "(v[1:] * 2.0)"
    assert theano.pp(v[i:i + 2]) == "v[i:(i + 2)]"
    assert theano.pp(m[i, 1:3]) == "m[i, 1:3]"
    assert theano.pp(m.sum(axis=1)).startswith("Sum")
