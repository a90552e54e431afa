"""GradientView: the reverse sweep step by step, LaTeX, values and adjoints, verify_grad."""
import re
import shutil

import numpy as np
import pytest

import workbench
from workbench import tensor as T
from workbench.compiler.graph import Apply, Op
from workbench.compiler.graphrecord import node_id
from workbench.viz.gradient_view import VERIFY_MAX_ELEMENTS, GradientView, to_latex

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz not installed")


@pytest.fixture
def logistic():
    x = T.dmatrix('x')
    w = T.dvector('w')
    z = T.dot(x, w)
    cost = T.sum(T.nnet.sigmoid(z))
    return x, w, z, cost


@pytest.fixture
def point(rng):
    return rng.normal(size=(5, 3)), rng.normal(size=3)


def _sigmoid(v):
    return 1 / (1 + np.exp(-v))


def test_steps_follow_the_hand_derivation(logistic):
    x, w, z, cost = logistic
    view = GradientView(cost, w)
    steps = view.steps
    # the chain rule from the cost backwards: sum, then sigmoid, then dot
    assert [s["op"] for s in steps] == ["Sum", "Elemwise{sigmoid}", "Dot"]
    assert [s["node"] for s in steps] == [node_id(cost.owner), node_id(cost.owner.inputs[0].owner),
                                          node_id(z.owner)]
    assert steps[0]["adjoint"].startswith("g_1 = ")
    # d sigmoid(a)/da = s * (1 - s)
    assert "sigmoid(a) * (1.0 - sigmoid(a))" in steps[1]["rule"]
    assert steps[1]["contributions"].startswith("to Dot(x, w): g_3")
    assert steps[2]["adjoint"] == "g_3 = (g_2 * (sigmoid(Dot(x, w)) * (1.0 - sigmoid(Dot(x, w)))))"
    # dot sends to w only (x is not asked for): d/db dot(a, b) = dot(gz, a)
    assert steps[2]["contributions"] == "to w: Dot(g_3, x)"
    assert "d/db Dot(a, b)" in steps[2]["rule"] and "d/da" not in steps[2]["rule"]


def test_values_and_adjoints_at_a_point(logistic, point):
    x, w, z, cost = logistic
    xv, wv = point
    view = GradientView(cost, w, at={x: xv, "w": wv})
    s = _sigmoid(xv @ wv)
    sum_step, sig_step, dot_step = view.steps
    assert float(sum_step["value"]) == pytest.approx(s.sum())
    assert float(sum_step["adjoint_value"]) == 1.0
    np.testing.assert_allclose(sig_step["value"], s)
    np.testing.assert_allclose(sig_step["adjoint_value"], np.ones(5))
    np.testing.assert_allclose(dot_step["value"], xv @ wv)
    # the adjoint at dot's output is s (1 - s)
    np.testing.assert_allclose(dot_step["adjoint_value"], s * (1 - s))
    np.testing.assert_allclose(view.values[node_id(z.owner)]["adjoint"], s * (1 - s))
    # and dL/dw = x^T (s (1 - s))
    np.testing.assert_allclose(view.values[node_id(w)]["adjoint"], xv.T @ (s * (1 - s)))
    np.testing.assert_allclose(view.values[node_id(x)]["value"], xv)
    assert view.verify.ok
    assert view.verify.max_abs_error < 1e-6
    assert view.verify.max_rel_error < 1e-6


def test_at_needs_every_input(logistic, point):
    x, w, z, cost = logistic
    with pytest.raises(KeyError, match="give a value for x"):
        GradientView(cost, w, at={w: point[1]})
    with pytest.raises(KeyError, match="'q' is not an input"):
        GradientView(cost, w, at={"q": 1.0, x: point[0], w: point[1]})


def test_latex_of_x_squared_shows_2x():
    x = T.dscalar('x')
    function, derivative = GradientView(x ** 2, x).latex()
    assert function == "f = x^{2}"
    assert re.sub(r"\s+", " ", derivative).endswith("= 2 x")
    assert derivative.startswith(r"\frac{\partial f}{\partial x}")


def test_latex_with_a_list_of_wrt(logistic):
    x, w, z, cost = logistic
    function, derivatives = GradientView(cost, [w, x]).latex()
    assert function == r"f = \sum \sigma\left(x \cdot w\right)"
    assert len(derivatives) == 2
    assert r"\partial w" in derivatives[0] and r"\partial x" in derivatives[1]
    # the derivative through the sigmoid: sigma(z) (1 - sigma(z)), as built
    _, raw = GradientView(cost, w).latex(optimized=False)
    sigma = r"\sigma\left(x \cdot w\right)"
    assert rf"{sigma} \odot \left(1 - {sigma}\right)" in raw


@pytest.mark.parametrize("build, expected", [
    (lambda x, y: x * y + 1, "x y + 1"),
    (lambda x, y: (x - y) / 2, r"\frac{x - y}{2}"),
    (lambda x, y: -T.exp(x), "-e^{x}"),
    (lambda x, y: T.sqrt(T.log(x)), r"\sqrt{\log\left(x\right)}"),
    (lambda x, y: T.tanh(x) ** 3, r"\tanh\left(x\right)^{3}"),
    (lambda x, y: x * 2.5, "2.5 x"),
    (lambda x, y: T.maximum(x, y), r"\max\left(x, y\right)"),
])
def test_latex_printer(build, expected):
    x, y = T.dscalars('x', 'y')
    assert to_latex(build(x, y)) == expected


def test_latex_printer_tensor_ops():
    a, b = T.dmatrices('a', 'B1')
    assert to_latex(T.dot(a, b.T)) == r"a \cdot B_{1}^{\top}"
    assert to_latex(a * b) == r"a \odot B_{1}"
    assert to_latex(T.nnet.softmax(a).sum(axis=1)) == \
        r"\sum_{\text{axis 1}} \operatorname{softmax}\left(a\right)"
    # an op the printer does not know: its pp text, escaped for LaTeX
    assert to_latex(a[1:, 0]) == r"\text{a[1:, 0]}"


def test_static_html_contains_every_step(logistic, point):
    x, w, z, cost = logistic
    view = GradientView(cost, w, at={x: point[0], w: point[1]})
    page = view.html()
    for s in view.steps:
        assert f'id="{view._uid}-step-{s["index"]}"' in page
        assert s["node"] in page
        for line in s["rule"].splitlines():
            assert line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in page
    assert "verify_grad passed" in page
    assert "as grad built it" in page and "after optimization" in page
    assert r"\sum \sigma" in page  # the LaTeX
    # micrograd-style labels: data and grad on the forward nodes
    assert "| data" in page and "| grad" in page


@needs_dot
def test_static_graph_links_nodes_to_their_steps(logistic):
    x, w, z, cost = logistic
    view = GradientView(cost, w)
    page = view.html()
    for s in view.steps:
        assert f'href="#{view._uid}-step-{s["index"]}"' in page
    assert page.count("<svg") >= 3  # forward, as built, optimized


def test_show_moves_the_step(logistic):
    x, w, z, cost = logistic
    view = GradientView(cost, w)
    first = view.current_html()
    view.show(2)
    second = view.current_html()
    assert first != second
    assert "step 2 of 3" in second and "sigmoid(a) * (1.0 - sigmoid(a))" in second
    with pytest.raises(IndexError):
        view.show(4)


@needs_dot
def test_current_step_is_highlighted_on_the_graph(logistic):
    x, w, z, cost = logistic
    view = GradientView(cost, w)
    for k, step in enumerate(view.steps, start=1):
        view.show(k)
        svg = view.current_html()
        start = svg.index('id="' + f"{view._uid}-fwd-{step['node']}".replace("-", "&#45;"))
        group = svg[start:svg.index("</g>", start)]
        assert 'stroke-width="3"' in group


def test_widget_slider_drives_the_view(logistic, point):
    pytest.importorskip("ipywidgets")
    x, w, z, cost = logistic
    view = GradientView(cost, w, at={x: point[0], w: point[1]})
    widget = view.widget
    before = view._step.value
    view._slider.value = 3
    assert view.current == 3
    assert view._step.value != before
    assert "to w: Dot(g_3, x)" in view._step.value
    view.show(1)
    assert view._slider.value == 1
    assert "step 1 of 3" in view._step.value
    assert any(type(c).__name__ == "HTMLMath" for c in widget.children)
    bundle = view._repr_mimebundle_()
    assert "model_id" in bundle["application/vnd.jupyter.widget-view+json"]
    assert "step 1" in bundle["text/plain"]


def test_verify_reports_a_wrong_gradient():
    class WrongExp(Op):
        def make_node(self, x):
            return Apply(self, [x], [x.type()])

        def perform(self, node, inputs, out):
            out[0][0] = np.exp(inputs[0])

        def L_op(self, inputs, outputs, output_grads):
            return [output_grads[0] * outputs[0] * 1.1]  # 10% off

    x = T.dvector('x')
    view = GradientView(WrongExp()(x).sum(), x, at={x: np.array([0.5, 1.0])})
    assert not view.verify.ok
    assert view.verify.max_rel_error > 0.01
    assert "verify_grad FAILED" in view.html()


def test_verify_is_skipped_for_large_inputs():
    x = T.dvector('x')
    view = GradientView((x ** 2).sum(), x, at={x: np.ones(VERIFY_MAX_ELEMENTS + 1)})
    assert view.verify is None
    assert "too many" in view.verify_skipped
    np.testing.assert_allclose(view.values[node_id(x)]["adjoint"],
                               2 * np.ones(VERIFY_MAX_ELEMENTS + 1))


def test_shared_variables_need_no_value():
    w = workbench.shared(np.array([1.0, -2.0]), name="w")
    x = T.dvector('x')
    view = GradientView((x * w).sum(), x, at={x: np.array([3.0, 4.0])})
    np.testing.assert_allclose(view.values[node_id(x)]["adjoint"], [1.0, -2.0])
    assert view.verify.ok
