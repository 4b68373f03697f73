"""The token cursor and the expression and type grammar shared by the KSQL statement parser.

``ExpressionParser`` walks the tokens of one text; ``cta.ksql.parser`` builds the statement
grammar on top of it.
"""

from __future__ import annotations

from cta.ksql.errors import KsqlSyntaxError, KsqlUnsupportedError
from cta.ksql.lexer import Kind, Token, position, statement_around, tokenize
from cta.ksql.statements import (
    ColumnRef,
    Comparison,
    Expression,
    FunctionCall,
    IsNull,
    Literal,
    Logical,
    Not,
    Star,
)

SIMPLE_TYPES = {
    "BOOLEAN": "BOOLEAN",
    "INT": "INTEGER",
    "INTEGER": "INTEGER",
    "BIGINT": "BIGINT",
    "DOUBLE": "DOUBLE",
    "VARCHAR": "STRING",
    "STRING": "STRING",
    "BYTES": "BYTES",
    "DATE": "DATE",
    "TIME": "TIME",
    "TIMESTAMP": "TIMESTAMP",
}
_COMPARISONS = ("=", "!=", "<>", "<", "<=", ">", ">=")


class ExpressionParser:
    """A cursor over the tokens of ``text`` with the expression and data type grammar."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.start = 0  # offset of the statement being parsed

    # -- token helpers ----------------------------------------------------------------------

    @property
    def token(self) -> Token:
        return self.tokens[self.i]

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.token
        if token.kind is not Kind.END:
            self.i += 1
        return token

    def error(self, message: str, token: Token | None = None) -> KsqlSyntaxError:
        at = token or self.token
        line, column = position(self.text, at.start)
        found = "end of input" if at.kind is Kind.END else repr(self.text[at.start : at.end])
        return KsqlSyntaxError(
            f"{message}, found {found}", statement_around(self.text, self.start), line, column
        )

    def unsupported(self, feature: str) -> KsqlUnsupportedError:
        return KsqlUnsupportedError(
            f"{feature} is not supported by this engine", statement_around(self.text, self.start)
        )

    def accept_word(self, *words: str) -> bool:
        if self.token.is_word(*words):
            self.advance()
            return True
        return False

    def expect_word(self, *words: str) -> str:
        if not self.token.is_word(*words):
            raise self.error(f"expected {' or '.join(words)}")
        return self.advance().value

    def accept_symbol(self, symbol: str) -> bool:
        if self.token.is_symbol(symbol):
            self.advance()
            return True
        return False

    def expect_symbol(self, symbol: str) -> None:
        if not self.accept_symbol(symbol):
            raise self.error(f"expected {symbol!r}")

    def identifier(self, what: str = "an identifier") -> str:
        if self.token.kind in (Kind.WORD, Kind.QUOTED):
            return self.advance().value
        raise self.error(f"expected {what}")

    # -- statements -------------------------------------------------------------------------

    def data_type(self) -> str:
        word = self.expect_word(*SIMPLE_TYPES, "DECIMAL", "ARRAY", "MAP", "STRUCT")
        if word in SIMPLE_TYPES:
            return SIMPLE_TYPES[word]
        if word == "DECIMAL":
            self.expect_symbol("(")
            precision = self.integer()
            self.expect_symbol(",")
            scale = self.integer()
            self.expect_symbol(")")
            return f"DECIMAL({precision}, {scale})"
        self.expect_symbol("<")
        if word == "ARRAY":
            inner = self.data_type()
        elif word == "MAP":
            inner = f"{self.data_type()}, {self.data_type_after_comma()}"
        else:
            fields = [f"`{self.identifier('a field name')}` {self.data_type()}"]
            while self.accept_symbol(","):
                fields.append(f"`{self.identifier('a field name')}` {self.data_type()}")
            inner = ", ".join(fields)
        self.expect_symbol(">")
        return f"{word}<{inner}>"

    def data_type_after_comma(self) -> str:
        self.expect_symbol(",")
        return self.data_type()

    def integer(self) -> int:
        if self.token.kind is Kind.NUMBER and self.token.value.isdigit():
            return int(self.advance().value)
        raise self.error("expected an integer")

    def expression(self) -> Expression:
        left = self.conjunction()
        while self.accept_word("OR"):
            left = Logical("OR", left, self.conjunction())
        return left

    def conjunction(self) -> Expression:
        left = self.negation()
        while self.accept_word("AND"):
            left = Logical("AND", left, self.negation())
        return left

    def negation(self) -> Expression:
        if self.accept_word("NOT"):
            return Not(self.negation())
        return self.comparison()

    def comparison(self) -> Expression:
        left = self.primary()
        if self.token.kind is Kind.SYMBOL and self.token.value in _COMPARISONS:
            op = self.advance().value
            return Comparison("!=" if op == "<>" else op, left, self.primary())
        if self.accept_word("IS"):
            negated = self.accept_word("NOT")
            self.expect_word("NULL")
            return IsNull(left, negated)
        return left

    def primary(self) -> Expression:
        if self.accept_symbol("("):
            inner = self.expression()
            self.expect_symbol(")")
            return inner
        literal = self.literal()
        if literal is not None:
            return literal
        if self.token.kind not in (Kind.WORD, Kind.QUOTED):
            raise self.error("expected a column, literal or function call")
        is_word = self.token.kind is Kind.WORD
        name = self.advance().value
        if is_word and self.accept_symbol("("):
            return self.function_call(name)
        if self.accept_symbol("."):
            return ColumnRef(self.identifier("a column name"), source=name)
        return ColumnRef(name)

    def function_call(self, name: str) -> FunctionCall:
        if self.accept_symbol(")"):
            return FunctionCall(name, ())
        if self.accept_symbol("*"):
            self.expect_symbol(")")
            return FunctionCall(name, (Star(),))
        args = [self.expression()]
        while self.accept_symbol(","):
            args.append(self.expression())
        self.expect_symbol(")")
        return FunctionCall(name, tuple(args))

    def literal(self) -> Literal | None:
        token = self.token
        negative = token.is_symbol("-") and self.peek().kind is Kind.NUMBER
        if negative:
            self.advance()
            token = self.token
        if token.kind is Kind.NUMBER:
            self.advance()
            try:
                number: int | float = float(token.value) if "." in token.value else int(token.value)
            except ValueError:
                raise self.error("malformed number", token) from None
            return Literal(-number if negative else number)
        if token.kind is Kind.STRING:
            self.advance()
            return Literal(token.value)
        if token.is_word("TRUE", "FALSE"):
            self.advance()
            return Literal(token.value == "TRUE")
        if token.is_word("NULL"):
            self.advance()
            return Literal(None)
        return None
