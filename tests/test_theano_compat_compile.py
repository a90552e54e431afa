"""Theano 1.0 compatibility of the compilation API: function containers, modes, config
files, ifelse, RandomStreams, printing.Print, tags and ``clone``. Each test is a Theano
program (imports changed) that once departed from Theano's documented behaviour."""
from __future__ import annotations

import numpy as np
import pytest

import workbench as theano
from workbench import In, function, tensor as T
from workbench.config import Config
from workbench.ifelse import ifelse
from workbench.tensor.shared_randomstreams import RandomStreams


# -- function: inputs' containers (theano.compile.io documentation) ----------------------

def test_in_update_state_shared_through_container():
    x, s = T.scalars('x', 's')
    inc = function([x, In(s, update=(s + x), value=10.0)], [])
    dec = function([x, In(s, update=(s - x), value=inc.container[s], implicit=False)], [])
    assert inc[s] == 10.0 and dec[s] == 10.0
    inc[s] = 2
    assert dec[s] == 2.0
    dec(1)
    assert inc[s] == 1.0
    inc(2)
    assert dec[s] == 3.0 and inc['s'] == 3.0 and inc.value[s] == 3.0
    assert s in inc and 'nope' not in inc


def test_function_item_access_reads_and_sets_shared_and_inputs():
    x = T.dscalar('x')
    w = theano.shared(1.0, 'w')
    f = function([x], x * w)
    assert f[w] == 1.0 and f['w'] == 1.0
    f[w] = 3.0
    assert w.get_value() == 3.0 and float(f(2.0)) == 6.0
    assert f[x] is None
    f[x] = 5.0  # a required input stays required, as in Theano
    with pytest.raises(TypeError, match="missing required input"):
        f()
    with pytest.raises(TypeError, match="unknown input or state"):
        f['nope']
    with pytest.raises(TypeError, match="cannot set the value"):
        f[w] = 'abc'


# -- modes and config ---------------------------------------------------------------------

@pytest.mark.parametrize("linker", ["c|py", "c|py_nogc", "vm_nogc", "cvm_nogc"])
def test_theano_linker_names_are_accepted(linker):
    x = T.dscalar('x')
    f = function([x], x * 2, mode=theano.Mode(linker=linker, optimizer='fast_run'))
    assert float(f(2.0)) == 4.0


def test_debug_mode_alias():
    x = T.dscalar('x')
    assert float(function([x], x * 2, mode='DEBUG_MODE')(2.0)) == 4.0
    with theano.config.change_flags(mode='DEBUG_MODE'):
        assert float(function([x], x + 1)(2.0)) == 3.0


def test_rc_path_lists_several_files_later_overriding(tmp_path, monkeypatch):
    import os

    first, second = tmp_path / "a", tmp_path / "b"
    first.write_text("[global]\nfloatX = float32\nmode = FAST_COMPILE\n")
    second.write_text("[global]\nfloatX = float16\n")
    c = Config(env="", rc_path=os.pathsep.join([str(first), str(tmp_path / "none"),
                                                str(second)]))
    assert c.floatX == "float16" and c.mode == "FAST_COMPILE"
    monkeypatch.setenv("WORKBENCHRC", os.pathsep.join([str(first), str(second)]))
    assert Config(env="").floatX == "float16"


# -- ifelse ---------------------------------------------------------------------------------

def test_ifelse_python_literal_branch_takes_the_other_branch_dtype():
    c = T.iscalar('c')
    fx = T.fscalar('fx')
    assert ifelse(c > 0, fx, 0.0).dtype == 'float32'
    assert ifelse(c > 0, 0, fx).dtype == 'float32'
    f = function([c, fx], ifelse(c > 0, fx, 0.5))
    assert f(1, 2.0) == 2.0 and f(0, 2.0) == 0.5 and f(0, 2.0).dtype == np.float32
    with pytest.raises(TypeError, match="different types"):
        ifelse(c > 0, c, 1.5)


def test_ifelse_tuple_branches_give_a_tuple():
    a, b = T.dscalars('a', 'b')
    out = ifelse(T.gt(a, b), (a, b), (b, a))
    assert isinstance(out, tuple) and len(out) == 2
    assert isinstance(ifelse(T.gt(a, b), [a, b], [b, a]), list)


# -- RandomStreams --------------------------------------------------------------------------

def test_random_size_defaults_to_the_parameters_shape():
    srng = RandomStreams(seed=1)
    m = T.dvector('m')
    f = function([m], srng.normal(avg=m, std=1e-9))
    np.testing.assert_allclose(f([0.0, 5.0, 100.0]), [0.0, 5.0, 100.0], atol=1e-6)
    assert srng.uniform(low=np.zeros(3), high=1.0).eval().shape == (3,)
    assert srng.uniform().eval().shape == ()
    assert srng.binomial(p=np.full((2, 2), 0.5)).eval().shape == (2, 2)


def test_random_float_dtype_is_floatx_upcast_with_parameters():
    srng = RandomStreams(seed=1)
    with theano.config.change_flags(floatX='float32'):
        assert srng.uniform((2,)).dtype == 'float32'
        assert srng.uniform((2,), low=0.5, high=2).dtype == 'float32'
        assert srng.normal((2,), avg=T.dvector()).dtype == 'float64'
        assert srng.normal((2,), dtype='float64').dtype == 'float64'


# -- printing -------------------------------------------------------------------------------

def test_print_op_prints_and_passes_the_value(capsys):
    x = T.dvector()
    x_printed = theano.printing.Print('this is a very important value')(x)
    f_with_print = function([x], x_printed * 5)
    assert np.all(f_with_print([1, 2, 3]) == [5, 10, 15])
    assert capsys.readouterr().out == "this is a very important value __str__ = [1. 2. 3.]\n"
    arr = np.ones(3)
    g = function([x], theano.printing.Print('v', attrs=('shape', 'sum'))(x))
    out = g(arr)
    assert capsys.readouterr().out == "v shape = (3,)\nv sum = 3.0\n"
    assert not np.shares_memory(out, arr)
    assert theano.printing.pprint(x * 2) == theano.pp(x * 2)


# -- graph: tags and clone ------------------------------------------------------------------

def test_tag_takes_attributes():
    x = T.dmatrix('x')
    x.tag.test_value = np.ones((2, 2))
    assert x.tag.test_value.shape == (2, 2) and x.tag['test_value'] is x.tag.test_value
    assert x.clone().tag.test_value.shape == (2, 2)
    assert getattr(x.tag, 'other', None) is None
    y = x * 2
    y.owner.tag.note = 'hi'
    assert y.owner.tag.note == 'hi'


def test_clone_with_replace():
    x, y = T.dscalars('x', 'y')
    s = theano.shared(2.0, 's')
    z = x * s + 1
    assert float(theano.clone(z, replace={x: y}).eval({y: 3.0})) == 7.0
    both = theano.clone([z, z * 2], replace=[(x, y)])
    assert isinstance(both, list) and float(both[1].eval({y: 1.0})) == 6.0
    with pytest.raises(TypeError, match="same type"):
        theano.clone(z, replace={x: T.fscalar()})
    assert theano.clone(z, replace={x: T.fscalar()}, strict=False).dtype == 'float64'
    copied = theano.clone(z, share_inputs=False)
    from workbench.compiler.graph import graph_inputs
    assert all(v is not x for v in graph_inputs([copied]))
    assert float(z.eval({x: 1.0})) == 3.0  # the original graph is untouched


def test_linker_and_allow_gc_flags():
    x = T.dvector('x')
    y = T.exp(x) + 1
    with theano.config.change_flags(allow_gc=False, linker='c|py'):
        f = function([x], y * 2, mode="FAST_COMPILE")
        assert f([0.0]).tolist() == [4.0]
        # intermediates are kept when allow_gc is off
        assert any(cell[0] is not None for var, cell in f.vm.storage.items()
                   if var.owner is not None and var not in f.maker.fgraph.outputs)
    g = function([x], y * 2, mode="FAST_COMPILE")
    g([0.0])
    assert all(cell[0] is None for var, cell in g.vm.storage.items()
               if var.owner is not None and var not in g.maker.fgraph.outputs)
    with pytest.raises(theano.ConfigError):
        theano.config.linker = 'nope'
