"""Formulas as data: a whitelisted grammar, a parser of its own, exact derivatives, evaluation.

A formula such as ``'6*x**2 + 9*y**2 - 12*x - 14*y + 3'`` is read by a tokenizer and an
operator-precedence parser written here, never by Python's ``eval``, ``compile``, sympy's
``sympify`` / ``parse_expr`` or code generation: the only things a formula can denote are the
nodes of :class:`Node` (numbers, declared variables, + − × ÷ **, unary ±, and the functions of
:data:`FUNCTIONS` called by bare name), so no text can run code, by construction.

The grammar (Python's precedence and associativity; ``^`` is accepted for ``**``)::

    sum     := product (('+' | '-') product)*
    product := unary (('*' | '/') unary)*
    unary   := ('+' | '-') unary | power
    power   := atom ('**' unary)?            (right-associative: 2**3**2 = 2**9)
    atom    := NUMBER | VARIABLE | CONSTANT | FUNCTION '(' sum ')' | '(' sum ')'

Limits, each stated in its error message: at most :data:`MAX_LENGTH` characters, at most
:data:`MAX_VARIABLES` variables, every number and every constant sub-expression finite in
float64 (so ``10**10**8`` or ``x**10**10**10`` are refused rather than computed), and only
ASCII characters. Every step is linear in the length of the text and iterative (no recursion), so
a formula of any length up to the limit is answered in well under a second (0.5 s of CPU for the
worst 10⁵-character inputs measured).

Derivatives are symbolic and exact: reverse-mode differentiation of the expression graph, built
lazily, gives every partial derivative in one sweep with shared sub-expressions; the Hessian is
the same sweep applied to each gradient component. Integer powers ``u**n`` (|n| ≤ 64) are
evaluated by a fixed sequence of multiplications, so a formula of + − × ÷ √ and integer powers
gives the same bits on every CPU.
"""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

#: The longest formula accepted, in characters.
MAX_LENGTH = 100_000
#: The most variables a formula may have (x0 … x999, or as many declared names).
MAX_VARIABLES = 1000
#: Integer exponents up to this magnitude are evaluated by exact repeated multiplication.
MAX_EXACT_POWER = 64

#: Functions a formula may call, by bare name, with the numpy ufunc that evaluates each.
FUNCTIONS = {
    "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos, "tan": np.tan,
    "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh, "asin": np.arcsin, "acos": np.arccos,
    "atan": np.arctan, "abs": np.abs,
}
#: Other spellings of the same functions.
FUNCTION_ALIASES = {"Abs": "abs", "arcsin": "asin", "arccos": "acos", "arctan": "atan"}
#: Named constants.
CONSTANTS = {"pi": math.pi, "e": math.e, "E": math.e}

_XYZ = ("x", "y", "z")
_INDEXED = re.compile(r"x(0|[1-9][0-9]*)")
_TOKEN = re.compile(r"""
    (?P<space>[ \t\r\n]+)
  | (?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\*\*|[-+*/^()])
""", re.VERBOSE)
_WHAT_IT_IS = {
    ".": "an attribute access", "[": "a subscript", "]": "a subscript", "{": "a set or dict", "}": "a set or dict",
    "'": "a string", '"': "a string", ",": "a second argument (functions take one)", "=": "an assignment or comparison",
    "<": "a comparison", ">": "a comparison", "!": "a comparison", ":": "a slice or lambda", ";": "a statement",
    "@": "a matrix product or decorator", "`": "a backquote", "\\": "a backslash", "#": "a comment", "%": "a modulo",
    "&": "a bitwise operator", "|": "a bitwise operator", "~": "a bitwise operator", "$": "a dollar sign",
    "?": "a question mark",
}


class FormulaError(ValueError):
    """A formula that is not in the grammar or beyond its limits; the message names the piece and column."""


# ---------------------------------------------------------------------------------------------- nodes
class Node:
    """One node of an expression graph: an operation, its arguments and, for leaves, a value.

    ``op`` is ``'const'`` (``value`` a float), ``'var'`` (``value`` the coordinate index), a binary
    operation ``'add' 'sub' 'mul' 'div' 'pow'``, ``'ipow'`` (``value`` the integer exponent),
    ``'neg'``, ``'sign'`` or a name of :data:`FUNCTIONS`. Nodes are interned by a :class:`Graph`,
    so equal sub-expressions are one object and are evaluated once.
    """

    __slots__ = ("op", "args", "value", "id")

    def __init__(self, op: str, args: tuple, value, ident: int):
        self.op, self.args, self.value, self.id = op, args, value, ident

    def __repr__(self) -> str:
        return f"Node({self.op!r}, value={self.value!r}, args={[a.id for a in self.args]})"


class Graph:
    """Builds interned nodes, folding constants and simplifying only where IEEE arithmetic is exact.

    The parser builds with ``simplify=False`` (the formula is evaluated as written, constants
    folded); derivatives build with ``simplify=True`` (0·u → 0, 1·u → u, u + 0 → u, …).
    """

    def __init__(self):
        self._interned: dict = {}

    def node(self, op: str, args: tuple = (), value=None) -> Node:
        key = (op, *[a.id for a in args], value.hex() if value.__class__ is float else value)
        found = self._interned.get(key)
        if found is None:
            found = self._interned[key] = Node(op, args, value, len(self._interned))
        return found

    def const(self, value: float) -> Node:
        return self.node("const", (), float(value))

    def var(self, index: int) -> Node:
        return self.node("var", (), int(index))

    def apply(self, op: str, *args: Node, simplify: bool = False, where: str = "") -> Node:
        """The node ``op(*args)``; constant arguments are folded in float64 and must stay finite."""
        if args[0].op == "const" and (len(args) == 1 or args[1].op == "const"):
            return self.const(_fold(op, [a.value for a in args], where, strict=not simplify))
        if op == "neg" and args[0].op == "neg":
            return args[0].args[0]  # −(−u) = u exactly in IEEE arithmetic
        if simplify:
            simpler = self._simplify(op, args)
            if simpler is not None:
                return simpler
        if op == "pow" and args[1].op == "const":
            n = args[1].value
            if n == int(n) and abs(n) <= MAX_EXACT_POWER:
                return self.node("ipow", (args[0],), int(n))
        return self.node(op, args)

    def _simplify(self, op: str, args: tuple) -> Node | None:
        a = args[0]
        b = args[1] if len(args) > 1 else None
        if op == "add":
            return b if _is(a, 0.0) else a if _is(b, 0.0) else None
        if op == "sub":
            return a if _is(b, 0.0) else self.apply("neg", b, simplify=True) if _is(a, 0.0) else None
        if op == "mul":
            if _is(a, 0.0) or _is(b, 0.0):
                return self.const(0.0)
            if _is(a, 1.0) or _is(b, 1.0):
                return b if _is(a, 1.0) else a
            if _is(a, -1.0) or _is(b, -1.0):
                return self.apply("neg", b if _is(a, -1.0) else a, simplify=True)
            return None
        if op == "div":
            return self.const(0.0) if _is(a, 0.0) else a if _is(b, 1.0) else None
        return None

    def ipow(self, base: Node, n: int) -> Node:
        """``base**n`` for an integer n, simplified."""
        if n == 0:
            return self.const(1.0)
        if n == 1:
            return base
        if base.op == "const":
            return self.const(_fold("pow", [base.value, float(n)], "", strict=False))
        return self.node("ipow", (base,), int(n))


def _is(node: Node, value: float) -> bool:
    return node.op == "const" and node.value == value


def _fold(op: str, values: list, where: str, strict: bool = True) -> float:
    """Evaluate an operation on constants in float64 (IEEE, as numpy would at run time); when
    ``strict``, refuse a result that is not finite."""
    if op in ("add", "sub", "mul") or (op == "div" and values[1] != 0.0):
        a, b = values  # Python floats are IEEE float64: the same bits as numpy, without its overhead
        result = a + b if op == "add" else a - b if op == "sub" else a * b if op == "mul" else a / b
    else:
        with np.errstate(all="ignore"):
            result = float(_execute(op, [np.float64(v) for v in values], None, ()))
    if strict and not math.isfinite(result):
        raise FormulaError(f"the constant expression {where} is not a finite float64 number: it evaluates to "
                           f"{result} (constants must be finite, within ±{np.finfo(np.float64).max:.4g})")
    return result


# ---------------------------------------------------------------------------------------------- parsing
@dataclass(frozen=True)
class Formula:
    """A parsed formula: its text, variable names, graph and root node."""

    text: str
    variables: tuple
    graph: Graph
    root: Node

    @property
    def dim(self) -> int:
        return len(self.variables)


class _Token(NamedTuple):
    kind: str   # 'number', 'name', 'op', 'end'
    text: str
    column: int  # 1-based, in the text as given


def _tokens(text: str) -> list[_Token]:
    for column, char in enumerate(text if not text.isascii() else "", start=1):
        if not char.isascii():
            raise FormulaError(f"formula has the character {char!r} (U+{ord(char):04X}) at column {column}: "
                               f"formulas are written in ASCII")
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            char = text[pos]
            what = _WHAT_IT_IS.get(char, "a character formulas do not use")
            raise FormulaError(f"formula has {char!r} at column {pos + 1} ({what}), which is not part of the "
                               f"grammar (numbers, variables, + - * / ** ^, parentheses, functions)")
        kind = match.lastgroup
        if kind != "space":
            value = match.group()
            tokens.append(_Token(kind, "**" if value == "^" else value, pos + 1))
        pos = match.end()
    tokens.append(_Token("end", "", len(text) + 1))
    return tokens


def _variables(tokens: list[_Token], text: str, declared: Sequence[str] | None) -> tuple:
    """The variable names in coordinate order: declared ones, or x, y, z, or x0 … xN."""
    names = {t.text for t in tokens if t.kind == "name"}
    known = set(FUNCTIONS) | set(FUNCTION_ALIASES) | set(CONSTANTS)
    if declared is not None:
        return _check_declared(declared, known)
    indexed = [t for t in tokens if t.kind == "name" and _INDEXED.fullmatch(t.text)]
    plain = [v for v in _XYZ if v in names]
    if indexed and plain:
        raise FormulaError(f"formula {_short(text)} mixes x, y, z with x0, x1, …: use one naming")
    if indexed:
        for t in indexed:
            if len(t.text) > 12:  # before int(), which refuses strings of 4300+ digits
                raise FormulaError(f"formula names {t.text[:12]}… at column {t.column}: at most {MAX_VARIABLES} "
                                   f"variables (x0 … x{MAX_VARIABLES - 1}) are allowed")
        last = max(indexed, key=lambda t: int(t.text[1:]))
        n = int(last.text[1:]) + 1
        if n > MAX_VARIABLES:
            raise FormulaError(f"formula names {last.text} at column {last.column}: at most {MAX_VARIABLES} "
                               f"variables (x0 … x{MAX_VARIABLES - 1}) are allowed")
        return tuple(f"x{i}" for i in range(n))
    if not plain:
        raise FormulaError(f"formula {_short(text)} has no variable: use x, y, z or x0, x1, … "
                           f"(or declare the names with variables=)")
    return _XYZ[: _XYZ.index(plain[-1]) + 1]


def _check_declared(declared, known: set) -> tuple:
    if isinstance(declared, str) or not isinstance(declared, Sequence):
        raise TypeError(f"variables must be a sequence of names, got {declared!r}")
    names = tuple(declared)
    if not 1 <= len(names) <= MAX_VARIABLES:
        raise ValueError(f"variables must name between 1 and {MAX_VARIABLES} variables, got {len(names)}")
    for name in names:
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or keyword.iskeyword(name):
            raise ValueError(f"variables must be ASCII identifiers, got {name!r}")
        if name in known:
            raise ValueError(f"variables cannot use the name {name!r} of a function or constant")
    if len(set(names)) != len(names):
        raise ValueError(f"variables must be distinct, got {list(names)}")
    return names


def _short(text: str) -> str:
    return repr(text) if len(text) <= 60 else repr(text[:57] + "...")


_BINARY = {"+": ("add", 1), "-": ("sub", 1), "*": ("mul", 2), "/": ("div", 2), "**": ("pow", 4)}
_UNARY_PRECEDENCE = 3


def parse(text: str, variables: Sequence[str] | None = None) -> Formula:
    """Parse a formula into an expression graph.

    Parameters
    ----------
    text : str
        The formula, e.g. ``'(1 - x)**2 + 100*(y - x**2)**2'``.
    variables : sequence of str, optional
        The variable names in coordinate order. By default x, y, z (as many as the formula uses,
        up to the last one named) or x0, x1, … (up to the highest index named).

    Returns
    -------
    Formula

    Raises
    ------
    FormulaError
        A ValueError naming the offending piece and its column, or the limit exceeded.
    """
    if not isinstance(text, str):
        raise TypeError(f"expression must be a formula string, got {type(text).__name__} {text!r:.60}")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"formula has {len(text)} characters: at most {MAX_LENGTH} are allowed")
    if not text.strip():
        raise FormulaError("expression must be a non-empty formula string, got an empty one")
    tokens = _tokens(text)
    for t in tokens:
        if t.kind == "name" and keyword.iskeyword(t.text):
            raise FormulaError(f"formula uses the Python keyword {t.text!r} at column {t.column}, which a formula "
                               f"does not need")
    names = _variables(tokens, text, variables)
    index = {name: i for i, name in enumerate(names)}
    _check_names(tokens, text, index)
    graph = Graph()
    root = _Parser(tokens, text, graph, index).run()
    return Formula(text, names, graph, root)


def _check_names(tokens: list[_Token], text: str, index: dict) -> None:
    unknown = []
    for i, t in enumerate(tokens):
        if t.kind != "name":
            continue
        is_call = tokens[i + 1].text == "("
        function = FUNCTION_ALIASES.get(t.text, t.text)
        if function in FUNCTIONS:
            if not is_call:
                raise FormulaError(f"{t.text} at column {t.column} is a function: call it as {t.text}(...)")
        elif t.text in index or t.text in CONSTANTS:
            if is_call:
                raise FormulaError(f"{t.text} at column {t.column} is not a function and cannot be called")
        elif t.text not in unknown:
            unknown.append(t.text)
    if unknown:
        first = next(t for t in tokens if t.text == unknown[0])
        shown = unknown if len(unknown) <= 5 else [*unknown[:5], f"… {len(unknown) - 5} more"]
        raise FormulaError(f"formula {_short(text)} uses unknown names {shown} (first at column {first.column}); "
                           f"variables are {', '.join(index) if len(index) <= 6 else 'x0, x1, …'}; functions: "
                           f"{', '.join(FUNCTIONS)}; constants: pi, e")


class _Parser:
    """Operator precedence (shunting-yard), iterative, so nesting and length cost no stack."""

    def __init__(self, tokens, text, graph: Graph, index: dict):
        self.tokens, self.text, self.graph, self.index = tokens, text, graph, index
        self.operands: list[Node] = []
        self.operators: list[tuple] = []  # (kind, op, precedence, column): kind 'binary' 'unary' 'paren' 'call'

    def run(self) -> Node:
        expect_operand = True
        for t in self.tokens:
            if expect_operand:
                expect_operand = self._operand(t)
            else:
                expect_operand = self._operator(t)
                if t.kind == "end":
                    break
        (root,) = self.operands
        return root

    def _error(self, t: _Token, what: str) -> FormulaError:
        found = "the end of the formula" if t.kind == "end" else repr(t.text)
        return FormulaError(f"formula {_short(self.text)} could not be parsed: {what}, found {found} at column "
                            f"{t.column}")

    def _operand(self, t: _Token) -> bool:
        """Read where an operand is expected; returns whether an operand is still expected."""
        g = self.graph
        if t.kind == "number":
            value = float(t.text)
            if not math.isfinite(value):
                raise FormulaError(f"the number {t.text[:30]} at column {t.column} is not a finite float64 number")
            self.operands.append(g.const(value))
            return False
        if t.kind == "name":
            if t.text in self.index:
                self.operands.append(g.var(self.index[t.text]))
                return False
            if t.text in CONSTANTS:
                self.operands.append(g.const(CONSTANTS[t.text]))
                return False
            self.operators.append(("call", FUNCTION_ALIASES.get(t.text, t.text), 0, t.column))
            return True  # the '(' that follows is consumed as a paren below: _check_names made sure it is there
        if t.text == "(":
            if self.operators and self.operators[-1][0] == "call" and self.operators[-1][2] == 0:
                kind, op, _, column = self.operators.pop()
                self.operators.append((kind, op, -1, column))  # the call's own parenthesis is open
            else:
                self.operators.append(("paren", "(", -1, t.column))
            return True
        if t.text in ("+", "-"):
            self.operators.append(("unary", "neg" if t.text == "-" else "pos", _UNARY_PRECEDENCE, t.column))
            return True
        raise self._error(t, "expected a number, a variable, a function or '('")

    def _operator(self, t: _Token) -> bool:
        """Read where an operator is expected; returns whether an operand is expected next."""
        if t.kind == "end":
            self._reduce_until(-1)
            if self.operators:
                raise self._error(t, f"the parenthesis opened at column {self.operators[-1][3]} is not closed")
            return False
        if t.text == ")":
            self._reduce_until(-1)
            if not self.operators:
                raise self._error(t, "a closing parenthesis without an opening one")
            kind, op, _, column = self.operators.pop()
            if kind == "call":
                self._push(op, 1, column)
            return False
        if t.text in _BINARY:
            op, precedence = _BINARY[t.text]
            right = op == "pow"
            while self.operators and self.operators[-1][2] >= 0 and (
                    self.operators[-1][2] > precedence or (self.operators[-1][2] == precedence and not right)):
                self._pop_operator()
            self.operators.append(("binary", op, precedence, t.column))
            return True
        if t.kind in ("name", "number") or t.text == "(":
            raise self._error(t, "expected an operator (+ - * / **) between two operands")
        raise self._error(t, "expected an operator")

    def _reduce_until(self, precedence: int) -> None:
        while self.operators and self.operators[-1][2] > precedence:
            self._pop_operator()

    def _pop_operator(self) -> None:
        kind, op, _, column = self.operators.pop()
        if kind == "unary":
            if op == "neg":
                self._push("neg", 1, column)
        else:
            self._push(op, 2, column)

    def _push(self, op: str, arity: int, column: int) -> None:
        args = tuple(self.operands[-arity:])
        del self.operands[-arity:]
        self.operands.append(self.graph.apply(op, *args, where=f"at column {column}"))


# ---------------------------------------------------------------------------------------------- derivatives
def _postorder(roots: Sequence[Node]) -> list[Node]:
    """Every node reachable from ``roots``, each after its arguments (iterative depth-first search)."""
    order, seen = [], set()
    for root in roots:
        if root.id in seen:
            continue
        stack = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if node.id in seen:
                continue
            seen.add(node.id)
            stack.append((node, True))
            stack.extend((a, False) for a in reversed(node.args) if a.id not in seen)
    return order


def gradient(graph: Graph, root: Node, dim: int) -> list[Node]:
    """The partial derivatives ∂root/∂x_i, i < dim, by symbolic reverse-mode differentiation.

    Each node passes its adjoint ``g`` (∂root/∂node) to its arguments times the local partial
    derivative; the adjoint of variable i is ∂root/∂x_i. One sweep gives all dim partials.
    """
    adjoint = {root.id: graph.const(1.0)}
    for node in reversed(_postorder([root])):
        g = adjoint.get(node.id)
        if g is None or not node.args:
            continue
        for arg, partial in _local_partials(graph, node, g):
            previous = adjoint.get(arg.id)
            adjoint[arg.id] = partial if previous is None else graph.apply("add", previous, partial, simplify=True)
    zero = graph.const(0.0)
    return [adjoint.get(graph.var(i).id, zero) for i in range(dim)]


def _local_partials(graph: Graph, node: Node, g: Node) -> list[tuple]:
    """(argument, g · ∂node/∂argument) for each argument of ``node`` that is not a constant."""
    def f(op, *args):
        return graph.apply(op, *args, simplify=True)

    one, op, args = graph.const(1.0), node.op, node.args
    a = args[0]
    if op in ("add", "sub", "mul", "div", "pow"):
        b = args[1]
        partials = {
            "add": (lambda: g, lambda: g),
            "sub": (lambda: g, lambda: f("neg", g)),
            "mul": (lambda: f("mul", g, b), lambda: f("mul", g, a)),
            "div": (lambda: f("div", g, b), lambda: f("neg", f("mul", g, f("div", node, b)))),
            "pow": (lambda: f("mul", g, f("mul", b, f("pow", a, f("sub", b, one)))),
                    lambda: f("mul", g, f("mul", node, f("log", a)))),
        }[op]
        return [(arg, partial()) for arg, partial in zip(args, partials) if arg.op != "const"]
    if a.op == "const":
        return []
    if op == "neg":
        return [(a, f("neg", g))]
    if op == "ipow":
        n = node.value
        return [(a, f("mul", g, f("mul", graph.const(float(n)), graph.ipow(a, n - 1))))]
    derivative = {
        "exp": lambda: node,
        "log": lambda: f("div", one, a),
        "sqrt": lambda: f("div", graph.const(0.5), node),
        "sin": lambda: f("cos", a),
        "cos": lambda: f("neg", f("sin", a)),
        "tan": lambda: f("add", one, graph.ipow(node, 2)),
        "sinh": lambda: f("cosh", a),
        "cosh": lambda: f("sinh", a),
        "tanh": lambda: f("sub", one, graph.ipow(node, 2)),
        "asin": lambda: f("div", one, f("sqrt", f("sub", one, graph.ipow(a, 2)))),
        "acos": lambda: f("neg", f("div", one, f("sqrt", f("sub", one, graph.ipow(a, 2))))),
        "atan": lambda: f("div", one, f("add", one, graph.ipow(a, 2))),
        "abs": lambda: f("sign", a),
        "sign": lambda: graph.const(0.0),
    }[op]()
    return [(a, f("mul", g, derivative))]


# ---------------------------------------------------------------------------------------------- evaluation
class Program:
    """Straight-line code for a list of output nodes: each node once, in dependency order.

    Evaluated by :meth:`__call__` on the columns of ``x`` with numpy's elementwise operations; an
    intermediate array is dropped after its last use.
    """

    def __init__(self, outputs: Sequence[Node]):
        self.outputs = list(outputs)
        self.nodes = _postorder(self.outputs)
        slot = {node.id: k for k, node in enumerate(self.nodes)}
        self.code = [(node.op, tuple(slot[a.id] for a in node.args), node.value) for node in self.nodes]
        self.result_slots = [slot[node.id] for node in self.outputs]
        last_use = {}
        for k, (_, args, _) in enumerate(self.code):
            for a in args:
                last_use[a] = k
        for s in self.result_slots:
            last_use[s] = len(self.code)
        self.release = [[] for _ in self.code]
        for s, k in last_use.items():
            if k < len(self.code):
                self.release[k].append(s)

    def __call__(self, columns: Sequence[np.ndarray]) -> list:
        """The outputs at the point(s) whose coordinates are ``columns`` (arrays or floats)."""
        values: list = [None] * len(self.code)
        with np.errstate(all="ignore"):  # outside a function's domain the answer is nan or inf, quietly
            for k, (op, args, value) in enumerate(self.code):
                values[k] = _execute(op, [values[a] for a in args], value, columns)
                for s in self.release[k]:
                    values[s] = None
        return [values[s] for s in self.result_slots]


    def jvp(self, columns: Sequence[np.ndarray], tangents: Sequence) -> tuple[list, list]:
        """The outputs and their directional derivatives along ``tangents`` (forward-mode differentiation).

        ``tangents[i]`` is the tangent of coordinate i: an array with one more trailing axis than the
        columns (k directions at once; e.g. the identity's rows give the Jacobian of the outputs) or
        None. Each node's tangent follows from its arguments' by the chain rule, in one pass over the
        code, so the cost is a few times an evaluation and never grows like a symbolic derivative.
        """
        values: list = [None] * len(self.code)
        dots: list = [None] * len(self.code)
        with np.errstate(all="ignore"):
            for k, (op, args, value) in enumerate(self.code):
                a = [values[i] for i in args]
                values[k] = _execute(op, a, value, columns)
                dots[k] = tangents[value] if op == "var" else _tangent(op, a, [dots[i] for i in args], values[k],
                                                                        value)
        return [values[s] for s in self.result_slots], [dots[s] for s in self.result_slots]


def _lift(v):
    """A value broadcast against tangents, which carry one more trailing axis (the directions)."""
    return v[..., None] if isinstance(v, np.ndarray) else v


def _tangent(op: str, a: list, da: list, r, value):
    """The tangent of ``op(*a)`` (result ``r``) from the arguments' tangents ``da`` (None: zero)."""
    if all(d is None for d in da):
        return None
    x = _lift(a[0])
    dx = da[0]
    if op in ("add", "sub"):
        db = da[1]
        if dx is None:
            return db if op == "add" else -db
        return dx if db is None else (dx + db if op == "add" else dx - db)
    if op == "mul":
        y, dy = _lift(a[1]), da[1]
        left = None if dx is None else dx * y
        right = None if dy is None else x * dy
        return right if left is None else left if right is None else left + right
    if op == "div":
        y, dy = _lift(a[1]), da[1]
        q = _lift(r)
        num = dx if dy is None else (-(q * dy) if dx is None else dx - q * dy)
        return num / y
    if op == "pow":
        y, dy = _lift(a[1]), da[1]
        q = _lift(r)
        left = None if dx is None else dx * (y * np.power(x, y - 1.0))
        right = None if dy is None else dy * (q * np.log(x))
        return right if left is None else left if right is None else left + right
    if op == "neg":
        return -dx
    if op == "ipow":
        return dx * (value * _lift(exact_power(a[0], value - 1)))
    q = _lift(r)
    slope = {
        "exp": lambda: q, "log": lambda: 1.0 / x, "sqrt": lambda: 0.5 / q, "sin": lambda: np.cos(x),
        "cos": lambda: -np.sin(x), "tan": lambda: 1.0 + q * q, "sinh": lambda: np.cosh(x),
        "cosh": lambda: np.sinh(x), "tanh": lambda: 1.0 - q * q, "asin": lambda: 1.0 / np.sqrt(1.0 - x * x),
        "acos": lambda: -1.0 / np.sqrt(1.0 - x * x), "atan": lambda: 1.0 / (1.0 + x * x),
        "abs": lambda: np.sign(x), "sign": lambda: 0.0,
    }[op]()
    return dx * slope


def _execute(op: str, args: list, value, columns):
    if op == "const":
        return value
    if op == "var":
        return columns[value]
    if op == "add":
        return args[0] + args[1]
    if op == "sub":
        return args[0] - args[1]
    if op == "mul":
        return args[0] * args[1]
    if op == "div":
        return args[0] / args[1]
    if op == "neg":
        return -args[0]
    if op == "ipow":
        return exact_power(args[0], value)
    if op == "pow":
        return np.power(args[0], args[1])
    if op == "sign":
        return np.sign(args[0])
    return FUNCTIONS[op](args[0])


def exact_power(base, n: int):
    """``base**n`` for an integer n by binary exponentiation: a fixed sequence of IEEE
    multiplications (and one division for n < 0), hence the same bits on every CPU."""
    if abs(n) > MAX_EXACT_POWER:
        return np.power(base, float(n))
    m, result, square = abs(n), None, base
    while m:
        if m & 1:
            result = square if result is None else result * square
        m >>= 1
        if m:
            square = square * square
    if result is None:  # n = 0: a numpy one (a Python 1.0 would make a later x/0 raise ZeroDivisionError)
        result = np.ones_like(base)
    return 1.0 / result if n < 0 else result
