"""The WHERE clause of a persistent query, evaluated on one decoded row with SQL's three-valued
logic: a comparison with NULL is NULL, and only a TRUE condition lets the row through."""

from __future__ import annotations

from typing import Any

from cta.ksql.statements import ColumnRef, Comparison, Expression, IsNull, Literal, Logical, Not


def evaluate(expression: Expression, row: dict[str, Any]) -> Any:
    """SQL semantics for the WHERE subset: a comparison with NULL is NULL (never true)."""
    if isinstance(expression, Literal):
        return expression.value
    if isinstance(expression, ColumnRef):
        return row.get(expression.name)
    if isinstance(expression, IsNull):
        return (evaluate(expression.operand, row) is None) != expression.negated
    if isinstance(expression, Not):
        inner = evaluate(expression.operand, row)
        return None if inner is None else not inner
    if isinstance(expression, Logical):
        left, right = evaluate(expression.left, row), evaluate(expression.right, row)
        if expression.op == "AND":
            if left is False or right is False:
                return False
            return None if left is None or right is None else True
        if left is True or right is True:
            return True
        return None if left is None or right is None else False
    if isinstance(expression, Comparison):
        return _compare(
            expression.op, evaluate(expression.left, row), evaluate(expression.right, row)
        )
    raise TypeError(f"cannot evaluate {expression!r} in WHERE")


def _compare(op: str, left: Any, right: Any) -> bool | None:
    if left is None or right is None:
        return None
    try:
        if op == "=":
            return bool(left == right)
        if op == "!=":
            return bool(left != right)
        if op == "<":
            return bool(left < right)
        if op == "<=":
            return bool(left <= right)
        if op == ">":
            return bool(left > right)
        return bool(left >= right)
    except TypeError:
        return None
