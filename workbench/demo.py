"""The headless main job until the notebooks land: run the seed examples, print each result.

Run it with ``python -m workbench.demo`` (or ``make demo``).
"""
from __future__ import annotations

import numpy as np

import workbench as theano
from workbench import tensor as T


def _show(title: str, code: str, value: object) -> None:
    print(f"--- {title}")
    print(f">>> {code}")
    print(np.asarray(value) if not isinstance(value, str) else value)
    print()


def main() -> None:
    a = T.dscalar()
    b = T.dscalar()
    f = theano.function([a, b], a + b)
    assert 4.0 == f(1.5, 2.5)
    _show("adding two scalars", "f = theano.function([a, b], a + b); f(1.5, 2.5)", f(1.5, 2.5))

    x = T.matrix("x")
    y = T.matrix("y")
    value = (x + y).eval({x: [[1, 2], [1, 3]], y: [[1, 0], [3, 4]]})
    _show("adding two matrices", "(x + y).eval({x: [[1, 2], [1, 3]], y: [[1, 0], [3, 4]]})",
          value)
    _show("pretty-printing", "theano.pp(x + y)", theano.pp(x + y))

    x, y, z = T.matrices("x", "y", "z")
    _show("several variables at once", "x, y, z = T.matrices('x', 'y', 'z')",
          f"{x.type} {y.type} {z.type}")

    with theano.config.change_flags(floatX="float32"):
        _show("floatX", "theano.config.floatX = 'float32'; T.scalar().dtype",
              T.scalar().dtype)
    _show("typed constructors", "T.fscalar().dtype, T.dscalar().dtype, T.iscalar().dtype",
          f"{T.fscalar().dtype} {T.dscalar().dtype} {T.iscalar().dtype}")

    A = T.dmatrix("A")
    B = T.dvector("B")
    add = theano.function([A, B], A + B)
    _show("broadcasting", "theano.function([A, B], A + B)(np.ones((2, 3)), [1, 2, 3])",
          add(np.ones((2, 3)), [1, 2, 3]))

    B2 = T.dmatrix("B2")
    dot = theano.function([A, B2], T.dot(A, B2))
    _show("matrix product", "theano.function([A, B2], T.dot(A, B2))(eye(2), [[1, 2], [3, 4]])",
          dot(np.eye(2), [[1, 2], [3, 4]]))

    state = theano.shared(0, name="state")
    inc = T.iscalar("inc")
    accumulator = theano.function([inc], state, updates=[(state, state + inc)])
    accumulator(1)
    accumulator(300)
    _show("shared state with updates", "accumulator(1); accumulator(300); state.get_value()",
          state.get_value())

    print("--- the compiled graph of the accumulator")
    theano.debugprint(accumulator, print_type=True)


if __name__ == "__main__":
    main()
