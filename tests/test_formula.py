"""Formulas are data: a whitelisted grammar, no eval, bounded work, exact derivatives.

Bounds on work are measured in this process's CPU time (time.process_time), not wall time, so a
busy machine does not make them flaky.

The reference values are Python's own operator precedence (the grammar promises it), numpy
evaluations of the same formulas, and sympy's derivatives (a peer computer-algebra system).
"""

from __future__ import annotations

import builtins
import contextlib
import math
import sys
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import newtonopt as no
from newtonopt import formula
from newtonopt.expression import ExpressionPotential


@contextlib.contextmanager
def no_code_runs():
    """While inside, every way text could become code (eval, exec, compile) raises.

    Restored before pytest reports, since pytest itself compiles source to show a failure.
    """
    def refuse(*args, **kwargs):
        raise AssertionError("a formula reached eval, exec or compile")

    originals = {name: getattr(builtins, name) for name in ("eval", "exec", "compile")}
    try:
        for name in originals:
            setattr(builtins, name, refuse)
        yield
    finally:
        for name, fn in originals.items():
            setattr(builtins, name, fn)


def guarded(text, **kwargs):
    """Build the potential and evaluate it once with code execution refused."""
    with no_code_runs():
        V = no.Potential.from_expression(text, **kwargs)
        with np.errstate(all="ignore"):
            V.value(np.full(V.dim, 0.7)), V.gradient(np.full(V.dim, 0.7))
    return V


# ---------------------------------------------------------------------------------------------- the grammar
@pytest.mark.parametrize("text, x, expected", [
    ("-x**2", 3.0, -9.0),                       # Python: unary minus binds looser than **
    ("2**x**2", 3.0, 2.0 ** 9),                 # ** is right-associative
    ("x**-1*4", 2.0, 2.0),                      # (x**-1)*4
    ("x^2 + 1", 3.0, 10.0),                     # ^ is read as **, with its precedence
    ("x - 2 - 3", 10.0, 5.0),                   # left-associative
    ("x / 2 / 5", 10.0, 1.0),
    ("+-+x", 2.0, -2.0),
    ("2*pi*x + e", 1.0, 2 * math.pi + math.e),
    ("sqrt(abs(x)) + Abs(x)", -4.0, 6.0),
    (" ( x\n + 1 ) * 2 ", 1.0, 4.0),
    ("1.5e1*x + .5 + 3.", 1.0, 18.5),
    ("atan(x) + arctan(x)", 1.0, math.pi / 2),
])
def test_precedence_and_values_follow_python(text, x, expected):
    V = guarded(text)
    assert V.value(np.array([x])) == pytest.approx(expected, rel=1e-15)


def test_declared_variable_names():
    V = no.Potential.from_expression("a**2 + 3*b", variables=["a", "b"])
    assert V.dim == 2 and V.variables == ["a", "b"]
    assert V.value([2.0, 1.0]) == 7.0
    np.testing.assert_array_equal(V.gradient([2.0, 1.0]), [4.0, 3.0])
    W = no.Potential.from_expression("a", variables=["a", "unused"])
    assert W.dim == 2 and W.gradient([1.0, 1.0]).tolist() == [1.0, 0.0]
    for bad, match in [(["sin"], "function or constant"), (["a", "a"], "distinct"), (["lambda"], "identifiers"),
                       (["ａ"], "identifiers"), ([], "between 1 and")]:
        with pytest.raises(ValueError, match=match):
            no.Potential.from_expression("a", variables=bad)
    with pytest.raises(TypeError, match="variables must be a sequence"):
        no.Potential.from_expression("a", variables="a")


@pytest.mark.parametrize("text, match", [
    # attributes, subscripts, strings, lambdas, comprehensions, keywords, starred, comparisons
    ("x.subs", r"'\.' at column 2 \(an attribute access"),
    ("x.__class__", r"'\.' at column 2 \(an attribute access"),
    ("x[0]", r"'\[' at column 2 \(a subscript"),
    ("'x'", r"\"'\" at column 1 \(a string"),
    ('x + "1"', r"'\"' at column 5 \(a string"),
    ("lambda: x", r"':' at column 7 \(a slice or lambda"),
    ("lambda x: x", r"':' at column 9"),
    ("[x for x in y]", r"'\[' at column 1 \(a subscript"),
    ("sin(x=1)", r"'=' at column 6 \(an assignment or comparison"),
    ("*x", r"found '\*' at column 1"),
    ("x**", r"found the end of the formula at column 4"),
    ("x < y", r"'<' at column 3 \(a comparison"),
    ("x == y", r"'=' at column 3"),
    ("x if y else z", r"keyword 'if' at column 3"),
    ("import os", r"keyword 'import' at column 1.*does not need"),
    ("__import__(x)", r"unknown names \['__import__'\]"),
    ("exec(x)", r"unknown names \['exec'\]"),
    ("x, y", r"',' at column 2 \(a second argument"),
    ("atan2(x, y)", r"',' at column 8"),
    ("x; y", r"';' at column 2 \(a statement"),
    ("x @ y", r"column 3"),
    ("x # comment", r"'#' at column 3 \(a comment"),
    ("x % 2", r"'%' at column 3 \(a modulo"),
    ("1j*x", r"unknown names \['j'\]"),
    ("0x10 * x1", r"between two operands, found 'x10' at column 2"),
    ("2x", r"between two operands, found 'x' at column 2"),
    ("sin x", r"call it as sin"),
    ("x(2)", r"x at column 1 is not a function"),
    ("sin() + x", r"found '\)' at column 5"),
    ("(x**2", r"parenthesis opened at column 1 is not closed"),
    ("x)", r"closing parenthesis without an opening one, found '\)' at column 2"),
    ("x.ｆｕｎｃ.ｍｒｏ().ｐｏｐ()", r"character 'ｆ' \(U\+FF46\) at column 3"),   # fullwidth: NFKC would make it ASCII
    ("ｘ**2", r"character 'ｘ' \(U\+FF58\) at column 1"),
    ("x + ℯ", r"U\+212F\) at column 5"),
    ("x\u00a0+ 1", r"U\+00A0\) at column 2"),
    ("", "non-empty"),
    ("   ", "non-empty"),
])
def test_anything_outside_the_grammar_is_a_value_error_naming_piece_and_column(text, match):
    with pytest.raises(ValueError, match=match):
        guarded(text)


@pytest.mark.parametrize("value", [None, 3.0, b"x**2", ["x"]])
def test_a_formula_must_be_a_string(value):
    with pytest.raises(TypeError, match="expression must be a formula string"):
        no.Potential.from_expression(value)


# ---------------------------------------------------------------------------------------------- limits
@pytest.mark.parametrize("text, match", [
    ("x**10**10**10", r"at column 6 is not a finite float64 number: it evaluates to inf .*1\.798e\+308"),
    ("10**10**8 + x", r"constant expression at column 3 is not a finite float64"),
    ("x + 1/0", r"constant expression at column 6 is not a finite"),
    ("x*" + "9" * 400, r"number 9{30} at column 3 is not a finite float64"),
    ("x99999**2", r"x99999 at column 1: at most 1000 variables \(x0 … x999\)"),
    ("x" * 100_001, r"100001 characters: at most 100000"),
])
def test_limits_are_refused_with_the_limit_stated(text, match):
    t0 = time.process_time()
    with pytest.raises(ValueError, match=match):
        no.Potential.from_expression(text)
    assert time.process_time() - t0 < 1.0


@pytest.mark.parametrize("text, x, value", [
    ("x+" * 49_999 + "x", 0.5, 25_000.0),               # a flat sum of 50 000 terms (Python's ast overflows)
    ("-" * 99_999 + "x", 0.5, -0.5),                    # 99 999 unary minuses
    ("x**" * 33_000 + "x", 1.0, 1.0),                   # a tower of 33 000 powers
    ("(" * 30_000 + "x" + ")" * 30_000, 0.5, 0.5),     # 30 000 nested parentheses
    ("1+" * 49_999 + "x", 0.0, 49_999.0),               # 49 999 constants folded
])
def test_long_formulas_are_answered_in_bounded_work(text, x, value):
    # A guard against super-linear work on hostile input (a quadratic pass over 10⁵ characters takes
    # minutes), not a speed measurement: those inputs take 0.3–0.5 s of CPU on a quiet machine
    # (`python benchmarks/bench_formula.py`); 10 s leaves room for any CI machine's load.
    t0 = time.process_time()
    V = no.Potential.from_expression(text)
    seconds = time.process_time() - t0
    assert seconds < 10.0, f"building took {seconds:.2f} s"
    assert V.value(np.array([x])) == value


def test_derivatives_are_built_lazily_for_many_variables():
    text = " + ".join(f"(x{i} - {i})**2*exp(x{(i + 1) % 50}/10)" for i in range(50))
    t0 = time.process_time()
    V = no.Potential.from_expression(text)
    assert time.process_time() - t0 < 0.2 and V._gradient_nodes is None
    x = np.linspace(-1, 1, 50)
    g = V.gradient(x)
    assert no.check_gradient(V, x) < 1e-7
    h = V.hessian(x)
    np.testing.assert_allclose(h, h.T, rtol=1e-14)
    fd = np.array([(V.gradient(x + 1e-6 * e) - V.gradient(x - 1e-6 * e)) / 2e-6 for e in np.eye(50)])
    np.testing.assert_allclose(h, fd, rtol=1e-6, atol=1e-6)
    assert g.shape == (50,)


# ---------------------------------------------------------------------------------------------- nothing runs
def test_formulas_need_no_sympy(monkeypatch):
    monkeypatch.setitem(sys.modules, "sympy", None)  # importing sympy now raises ImportError
    V = no.Potential.from_expression("(1 - x)**2 + 100*(y - x**2)**2")
    assert V.value([1.0, 1.0]) == 0.0 and V.gradient([0.0, 0.0]).tolist() == [-2.0, 0.0]


def test_the_package_never_hands_formula_text_to_an_evaluator():
    """No module of newtonopt calls eval, exec, sympify, parse_expr or lambdify (read from the source)."""
    import ast
    from pathlib import Path

    builtins_ = {"eval", "exec", "compile", "__import__"}  # called by bare name
    methods = {"eval", "exec", "sympify", "parse_expr", "lambdify", "S"}  # called as attributes (sympy.sympify)
    root = Path(no.__file__).parent
    found = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                if (isinstance(func, ast.Name) and func.id in builtins_) or (
                        isinstance(func, ast.Attribute) and func.attr in methods):
                    found.append(f"{path.name}:{node.lineno}")
    assert found == []


def test_cli_formula_goes_through_the_grammar():
    from newtonopt.cli import build_potential

    with no_code_runs():
        V, x0, _ = build_potential("6*x**2 + 9*y**2 - 12*x - 14*y + 3", None)
        value = V.value([1.0, 7 / 9])
    assert V.dim == 2 and value == pytest.approx(6 + 9 * 49 / 81 - 12 - 14 * 7 / 9 + 3, rel=1e-14)
    with pytest.raises(Exception, match="attribute access"):
        build_potential("x.subs(x, 1)", None)


# ---------------------------------------------------------------------------------------------- derivatives
_SYMPY_CASES = [
    "6*x**2 + 9*y**2 - 12*x - 14*y + 3", "(1 - x)**2 + 100*(y - x**2)**2", "sin(x)*cos(y) + tan(x*y/4)",
    "exp(-x**2 - y**2)*log(2 + x**2)", "sqrt(1 + x**2 + y**4)", "sinh(x/2) + cosh(y/3) + tanh(x*y)",
    "asin(x/3) + acos(y/3) + atan(x - y)", "x**y", "2**x*y**-3", "x/(1 + y**2) - y/(2 + x**2)",
    "(x**2 + y - 11)**2 + (x + y**2 - 7)**2", "abs(x - y)**3 + x**2.5", "1/(x**2 + y**2)**6 - 1/(x**2 + y**2)**3",
]


@pytest.mark.parametrize("text", _SYMPY_CASES)
def test_gradient_and_hessian_equal_sympys(text):
    sympy = pytest.importorskip("sympy")
    x, y = sympy.symbols("x y", real=True)
    expr = sympy.sympify(text.replace("abs", "Abs"), locals={"x": x, "y": y})  # the test's own text, trusted
    modules = [{"DiracDelta": lambda u: 0 * u}, "numpy"]  # |u|'' = 0 away from u = 0
    grad = [sympy.lambdify((x, y), sympy.diff(expr, s), modules) for s in (x, y)]
    hess = [[sympy.lambdify((x, y), sympy.diff(expr, a, b), modules) for b in (x, y)] for a in (x, y)]
    V = ExpressionPotential(text)
    pts = np.random.default_rng(3).uniform(0.3, 1.4, size=(7, 2))
    expected_g = np.stack([np.broadcast_to(np.asarray(g(pts[:, 0], pts[:, 1]), float), (7,)) for g in grad], -1)
    np.testing.assert_allclose(V.gradient(pts), expected_g, rtol=1e-12, atol=1e-12)
    expected_h = np.stack([np.stack([np.broadcast_to(np.asarray(h(pts[:, 0], pts[:, 1]), float), (7,))
                                     for h in row], -1) for row in hess], -2)
    np.testing.assert_allclose(V.hessian(pts), expected_h, rtol=1e-11, atol=1e-11)


def test_integer_powers_are_exact_multiplications():
    """x**n by a fixed product: the bits of x*x*…*x in binary-exponentiation order, on any CPU."""
    x = np.random.default_rng(5).uniform(-3, 3, 1000)
    for n, reference in [(2, x * x), (3, (x * x) * x), (4, (x * x) * (x * x)), (5, x * ((x * x) * (x * x))),
                         (-2, 1.0 / (x * x))]:
        np.testing.assert_array_equal(formula.exact_power(x, n), reference)
        V = no.Potential.from_expression(f"x**{n}" if n > 0 else f"x**({n})")
        np.testing.assert_array_equal(V.value(x[:, None]), reference)


# ---------------------------------------------------------------------------------------------- properties
_SOUP = ["x", "y", "z", "x0", "x1", "x12", "1", "2.5", "1e3", ".5", "+", "-", "*", "/", "**", "^", "(", ")", " ",
         "sin", "exp", "log", "sqrt", "abs", "pi", "e", ".", ",", "[", "]", "'", '"', "__class__", "lambda", ":",
         "=", "<", "import", "os", "ｘ", "é", "\n", "\\", "{", "}", "%", "@", "subs", "mro", "func", "1j", "0x1"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_SOUP), max_size=40).map("".join))
def test_token_soup_gives_a_potential_or_a_value_error(text):
    t0 = time.process_time()
    try:
        guarded(text)
    except ValueError:
        pass
    assert time.process_time() - t0 < 1.0


def _formulas():
    """Random formulas in x, y as (text, numpy function) pairs built side by side."""
    leaves = st.one_of(
        st.sampled_from([("x", lambda x, y: x), ("y", lambda x, y: y)]),
        st.sampled_from([0.5, 1.0, 2.0, 3.0, 7.25]).map(lambda c: (repr(c), lambda x, y, c=c: c)),
    )

    def extend(children):
        binary = st.tuples(st.sampled_from(["+", "-", "*", "/"]), children, children).map(
            lambda t: (f"({t[1][0]}){t[0]}({t[2][0]})", _BINARY[t[0]](t[1][1], t[2][1])))
        power = st.tuples(children, st.sampled_from([2, 0.5])).map(
            lambda t: (f"({t[0][0]})**{t[1]}", lambda x, y, f=t[0][1], n=t[1]: np.power(f(x, y), n)))
        unary = st.tuples(st.sampled_from(sorted(formula.FUNCTIONS) + ["-"]), children).map(_unary)
        return st.one_of(binary, power, unary)

    return st.recursive(leaves, extend, max_leaves=12)


def _unary(pair):
    name, (text, f) = pair
    ufunc = np.negative if name == "-" else formula.FUNCTIONS[name]
    return (f"-({text})" if name == "-" else f"{name}({text})"), (lambda x, y: ufunc(f(x, y)))


_BINARY = {"+": lambda f, g: lambda x, y: f(x, y) + g(x, y), "-": lambda f, g: lambda x, y: f(x, y) - g(x, y),
           "*": lambda f, g: lambda x, y: f(x, y) * g(x, y), "/": lambda f, g: lambda x, y: f(x, y) / g(x, y)}


@settings(max_examples=300, deadline=None)
@given(_formulas())
def test_random_formulas_equal_direct_numpy_evaluation(pair):
    text, fn = pair
    full = f"({text}) + 0*x + 0*y"  # both variables present, so the dimension is 2
    try:
        V = no.Potential.from_expression(full)
    except ValueError as exc:  # only a constant sub-expression that overflows may be refused
        assert "not a finite float64" in str(exc)
        return
    pts = np.random.default_rng(1).uniform(-2, 2, size=(9, 2))
    with np.errstate(all="ignore"):
        expected = fn(pts[:, 0], pts[:, 1]) + 0 * pts[:, 0] + 0 * pts[:, 1]
    np.testing.assert_array_equal(V.value(pts), np.broadcast_to(expected, (9,)))


@pytest.mark.parametrize("text, dim", [
    ("".join(f"sin(x{i}+" for i in range(300)) + "1" + ")" * 300, 300),   # a nested chain (adversarial review)
    ("*".join(f"x{i}" for i in range(300)), 300),                          # a long product
    ("(" + "+".join(f"x{i}" for i in range(300)) + ")**2", 300),
])
def test_hessians_and_hvps_of_large_formulas_are_bounded(text, dim):
    """The Hessian is forward-mode over the gradient's program, never a symbolic dim × dim graph (whose
    size grew like dim² times the formula: 55 s and 2 GB for the first row at dim 1000)."""
    V = no.Potential.from_expression(text)
    x = np.random.default_rng(0).uniform(0.9, 1.1, dim)
    t0 = time.process_time()
    h = V.hessian(x)
    v = np.random.default_rng(1).standard_normal(dim)
    hv = V.hvp(x, v)
    assert time.process_time() - t0 < 5.0
    np.testing.assert_allclose(h, h.T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hv, h @ v, rtol=1e-9, atol=1e-9)
    k = 7  # one column by central differences of the gradient
    e = np.zeros(dim)
    e[k] = 1e-6
    np.testing.assert_allclose(h[:, k], (V.gradient(x + e) - V.gradient(x - e)) / 2e-6, rtol=1e-5, atol=1e-6)


def test_hvp_of_an_ensemble_equals_the_hessian_times_v():
    V = no.Potential.from_expression("exp(x*y) + sqrt(1 + x**2)*atan(y) + abs(x - y)**3 + x**2.5")
    x = np.random.default_rng(2).uniform(0.2, 1.2, (4, 3, 2))
    v = np.random.default_rng(3).standard_normal((4, 3, 2))
    np.testing.assert_allclose(V.hvp(x, v), np.einsum("...ij,...j->...i", V.hessian(x), v), rtol=1e-12)


def test_a_zero_power_divided_by_zero_is_inf_at_one_point_as_for_many():
    """u**0 evaluated to a Python 1.0 at one point, and 1.0/0 raised ZeroDivisionError (adversarial review)."""
    V = no.Potential.from_expression("x**2 + sin(x)**0/0")
    assert V.value([0.5]) == np.inf and np.all(V.value([[0.5], [1.0]]) == np.inf)


def test_messages_after_the_adversarial_review():
    with pytest.raises(ValueError, match=r"names x99999999999… at column 1: at most 1000 variables"):
        no.Potential.from_expression("x" + "9" * 5000)  # Python's int() refuses 4300+ digits: checked before
    with pytest.raises(ValueError, match=r"unknown names \['a0', 'a1', 'a2', 'a3', 'a4', '… 995 more'\]"):
        no.Potential.from_expression("+".join(f"a{i}" for i in range(1000)) + "+x")
    with pytest.raises(ValueError, match="evaluates to nan"):
        no.Potential.from_expression("0/0*x")
