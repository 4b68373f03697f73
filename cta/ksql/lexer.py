"""The KSQL tokenizer and the statement splitter built on it.

Identifiers follow ksqlDB: unquoted ones are upper-cased, back-quoted (or double-quoted) ones
keep their case. Comments (``--`` and ``/* */``) are skipped, so a ``;`` inside a comment or a
string never ends a statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from cta.ksql.errors import KsqlSyntaxError


class Kind(Enum):
    WORD = "word"  # unquoted identifier or keyword; ``value`` is upper-cased
    QUOTED = "quoted"  # quoted identifier; ``value`` keeps its case
    STRING = "string"  # 'single-quoted literal'
    NUMBER = "number"
    SYMBOL = "symbol"
    END = "end"


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    value: str
    start: int  # offset into the source text
    end: int

    def is_word(self, *words: str) -> bool:
        return self.kind is Kind.WORD and self.value in words

    def is_symbol(self, *symbols: str) -> bool:
        return self.kind is Kind.SYMBOL and self.value in symbols


_TWO_CHAR_SYMBOLS = ("<=", ">=", "!=", "<>")
_ONE_CHAR_SYMBOLS = "(),;=<>*.+-/%:[]"
_QUOTES = {"`": "`", '"': '"'}


def position(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of ``offset`` in ``text``."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def statement_around(text: str, offset: int) -> str:
    """The ``;``-delimited stretch of ``text`` around ``offset`` (for error messages)."""
    begin = text.rfind(";", 0, offset) + 1
    end = text.find(";", offset)
    return text[begin : len(text) if end < 0 else end + 1].strip()


def _error(text: str, offset: int, message: str) -> KsqlSyntaxError:
    line, column = position(text, offset)
    return KsqlSyntaxError(message, statement_around(text, offset), line, column)


def tokenize(text: str) -> list[Token]:
    """All tokens of ``text``, ending with one END token."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
        elif text.startswith("--", i):
            newline = text.find("\n", i)
            i = n if newline < 0 else newline + 1
        elif text.startswith("/*", i):
            close = text.find("*/", i + 2)
            if close < 0:
                raise _error(text, i, "unterminated /* comment")
            i = close + 2
        elif char.isalpha() or char == "_":
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] in "_$@"):
                j += 1
            tokens.append(Token(Kind.WORD, text[i:j].upper(), i, j))
            i = j
        elif char.isdigit():
            j = i + 1
            while j < n and (text[j].isdigit() or text[j] == "."):
                j += 1
            tokens.append(Token(Kind.NUMBER, text[i:j], i, j))
            i = j
        elif char == "'":
            i = _string(text, i, tokens)
        elif char in _QUOTES:
            close = text.find(_QUOTES[char], i + 1)
            if close < 0:
                raise _error(text, i, f"unterminated quoted identifier starting with {char}")
            if close == i + 1:
                raise _error(text, i, "empty quoted identifier")
            tokens.append(Token(Kind.QUOTED, text[i + 1 : close], i, close + 1))
            i = close + 1
        elif text[i : i + 2] in _TWO_CHAR_SYMBOLS:
            tokens.append(Token(Kind.SYMBOL, text[i : i + 2], i, i + 2))
            i += 2
        elif char in _ONE_CHAR_SYMBOLS:
            tokens.append(Token(Kind.SYMBOL, char, i, i + 1))
            i += 1
        else:
            raise _error(text, i, f"unexpected character {char!r}")
    tokens.append(Token(Kind.END, "", n, n))
    return tokens


def _string(text: str, start: int, tokens: list[Token]) -> int:
    """Read a '...' literal ('' is an escaped quote); returns the offset after it."""
    parts: list[str] = []
    i = start + 1
    while True:
        close = text.find("'", i)
        if close < 0:
            raise _error(text, start, "unterminated string literal")
        parts.append(text[i:close])
        if text.startswith("''", close):
            parts.append("'")
            i = close + 2
            continue
        tokens.append(Token(Kind.STRING, "".join(parts), start, close + 1))
        return close + 1


def split_statements(text: str) -> list[str]:
    """The statements of ``text``, each with its terminating ``;``, comments between dropped.

    A trailing statement without ``;`` is a syntax error, as in ksqlDB.
    """
    statements: list[str] = []
    first: Token | None = None
    for token in tokenize(text):
        if token.kind is Kind.END:
            break
        if first is None:
            if token.is_symbol(";"):
                continue  # an empty statement
            first = token
        if token.is_symbol(";"):
            statements.append(text[first.start : token.end])
            first = None
    if first is not None:
        raise _error(text, first.start, "statement does not end with ';'")
    return statements
