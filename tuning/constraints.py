"""Known constraints: safe expression strings or Python callables over a configuration.

Expressions are plain Python over parameter names, e.g. `tile_i * tile_j <= 4096`,
`order.index('i') < order.index('k')` or `perm[0] < perm[3]`. They are parsed once and every
node is checked against a whitelist, so a space file cannot run arbitrary code. `&` and `|` work
as `and`/`or` on comparisons (BaCO's numexpr spelling).
"""

import ast
from collections.abc import Callable, Iterable
from typing import Any

from treadle.tuning.errors import ConstraintError

_ALLOWED_NODES = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.BinOp, ast.UnaryOp, ast.Compare,
    ast.Name, ast.Load, ast.Constant, ast.Subscript, ast.Tuple, ast.List, ast.Call,
    ast.Attribute, ast.IfExp,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.BitAnd, ast.BitOr,
    ast.Not, ast.USub, ast.UAdd,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
)
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "min": min, "max": max, "abs": abs, "len": len, "int": int, "float": float,
}
_METHODS = {"index", "count"}
_MAX_EXPONENT = 64


def _safe_pow(base: Any, exponent: Any) -> Any:
    if abs(exponent) > _MAX_EXPONENT:
        raise ConstraintError(f"exponent {exponent} too large in a constraint (limit {_MAX_EXPONENT})")
    return base**exponent


class _PowRewriter(ast.NodeTransformer):
    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Pow):
            call = ast.Call(ast.Name("__pow__", ast.Load()), [node.left, node.right], [])
            return ast.copy_location(call, node)
        return node


class Constraint:
    """A known constraint; `names` are the parameters it reads (None: it may read any)."""

    def __init__(self, check: str | Callable[[dict[str, Any]], bool],
                 names: Iterable[str] | None = None):
        if isinstance(check, str):
            self.text: str | None = check
            self.names, self._code = _compile(check)
            self._fn = None
        elif callable(check):
            self.text = None
            self.names = frozenset(names) if names is not None else None
            self._code = None
            self._fn = check
        else:
            raise ConstraintError(f"a constraint must be an expression string or a callable, got {check!r}")

    def __call__(self, config: dict[str, Any]) -> bool:
        if self._fn is not None:
            return bool(self._fn(config))
        scope = dict(config)
        scope.update(_FUNCTIONS)
        scope["__pow__"] = _safe_pow
        try:
            return bool(eval(self._code, {"__builtins__": {}}, scope))
        except ZeroDivisionError:
            return False  # `a % b == 0` with b == 0 cannot hold
        except (TypeError, ValueError, IndexError, AttributeError, NameError) as err:
            raise ConstraintError(f"constraint `{self.text}` failed on {config}: {err}") from None

    def __repr__(self) -> str:
        return f"Constraint({self.text!r})" if self.text else f"Constraint({self._fn!r})"


def _compile(text: str):
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        raise ConstraintError(f"constraint `{text}` is not an expression: {err.msg}") from None
    names: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ConstraintError(f"constraint `{text}`: `{type(node).__name__}` is not allowed")
        if isinstance(node, ast.Name) and node.id not in _FUNCTIONS:
            if node.id.startswith("_"):
                raise ConstraintError(f"constraint `{text}`: name `{node.id}` is not allowed")
            names.add(node.id)
        if isinstance(node, ast.Attribute) and node.attr not in _METHODS:
            raise ConstraintError(f"constraint `{text}`: only .index()/.count() may be called on a value")
        if isinstance(node, ast.Call):
            callee = node.func
            ok = (isinstance(callee, ast.Name) and callee.id in _FUNCTIONS) or (
                isinstance(callee, ast.Attribute) and callee.attr in _METHODS)
            if not ok or node.keywords:
                raise ConstraintError(f"constraint `{text}`: only {sorted(_FUNCTIONS)} and .index() may be called")
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float, str, bool)):
            raise ConstraintError(f"constraint `{text}`: constant {node.value!r} is not allowed")
    tree = ast.fix_missing_locations(_PowRewriter().visit(tree))
    return frozenset(names), compile(tree, f"<constraint {text}>", "eval")
