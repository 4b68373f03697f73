"""A recursive-descent parser for the KSQL subset this project runs (see docs/ksql.md).

``parse(text)`` returns one ``Statement`` per ``;``-terminated statement. Anything outside the
grammar raises ``KsqlSyntaxError`` naming the statement and the line/column; recognised ksqlDB
features that the engine does not run (joins, windows, HAVING, ...) raise
``KsqlUnsupportedError``. Nothing is ever skipped silently.
"""

from __future__ import annotations

from cta.ksql.errors import KsqlSyntaxError
from cta.ksql.expressions import ExpressionParser
from cta.ksql.lexer import Kind, position
from cta.ksql.statements import (
    ColumnDef,
    CreateAsSelect,
    CreateSource,
    DropSource,
    Expression,
    Print,
    PropertyValue,
    PushQuery,
    Select,
    SelectItem,
    ShowQueries,
    SourceKind,
    Star,
    Statement,
    Terminate,
)
from cta.ksql.windows import parse_window_clause

# Words that begin a clause, so they never serve as an alias without AS.
_CLAUSE_WORDS = frozenset(
    {
        "FROM",
        "WHERE",
        "GROUP",
        "HAVING",
        "WINDOW",
        "EMIT",
        "LIMIT",
        "PARTITION",
        "JOIN",
        "LEFT",
        "RIGHT",
        "INNER",
        "FULL",
        "OUTER",
        "ON",
        "WITHIN",
        "AS",
        "AND",
        "OR",
        "NOT",
        "IS",
    }
)
_UNSUPPORTED_CLAUSES = {
    "JOIN": "joins",
    "LEFT": "joins",
    "RIGHT": "joins",
    "INNER": "joins",
    "FULL": "joins",
    "HAVING": "HAVING",
    "PARTITION": "PARTITION BY",
}


def parse(text: str) -> list[Statement]:
    """Parse every statement of ``text``."""
    return _Parser(text).statements()


def parse_one(text: str) -> Statement:
    statements = parse(text)
    if len(statements) != 1:
        raise KsqlSyntaxError(f"expected one statement, found {len(statements)}", text, 1, 1)
    return statements[0]


class _Parser(ExpressionParser):
    def statements(self) -> list[Statement]:
        result: list[Statement] = []
        while self.token.kind is not Kind.END:
            if self.accept_symbol(";"):
                continue
            self.start = self.token.start
            statement = self.statement()
            if not self.token.is_symbol(";"):
                raise self.error("expected ';' at the end of the statement")
            self.advance()
            result.append(statement)
        return result

    def statement_text(self) -> str:
        """The current statement's source text, up to and including its ``;``."""
        end = self.token.end if self.token.is_symbol(";") else self.token.start
        return self.text[self.start : end].strip()

    def statement(self) -> Statement:
        if self.accept_word("CREATE"):
            return self.create()
        if self.accept_word("DROP"):
            return self.drop()
        if self.accept_word("TERMINATE"):
            query_id = None if self.accept_word("ALL") else self.identifier("a query id")
            return Terminate(self.statement_text(), query_id)
        if self.token.is_word("SHOW", "LIST"):
            self.advance()
            self.expect_word("QUERIES")
            self.accept_word("EXTENDED")
            return ShowQueries(self.statement_text())
        if self.token.is_word("SELECT"):
            select = self.select()
            return PushQuery(self.statement_text(), select)
        if self.accept_word("PRINT"):
            return self.print_topic()
        raise self.error("expected CREATE, DROP, TERMINATE, SHOW QUERIES, SELECT or PRINT")

    def create(self) -> Statement:
        or_replace = False
        if self.accept_word("OR"):
            self.expect_word("REPLACE")
            or_replace = True
        self.accept_word("SOURCE")
        kind = self.source_kind()
        if_not_exists = self.if_exists_clause(negated=True)
        name = self.identifier("a stream or table name")
        if self.token.is_symbol("("):
            columns = self.column_defs(kind)
            properties = self.with_properties()
            if self.token.is_word("AS"):
                raise self.error("a CREATE ... AS SELECT takes no column list")
            return CreateSource(
                self.statement_text(), kind, name, columns, properties, if_not_exists, or_replace
            )
        properties = self.with_properties() if self.token.is_word("WITH") else {}
        if self.accept_word("AS"):
            select = self.select()
            return CreateAsSelect(
                self.statement_text(), kind, name, select, properties, if_not_exists, or_replace
            )
        if self.token.is_symbol(";") and properties:
            # Columns inferred from the schema registry.
            return CreateSource(
                self.statement_text(), kind, name, (), properties, if_not_exists, or_replace
            )
        raise self.error("expected a column list, WITH (...) or AS SELECT")

    def source_kind(self) -> SourceKind:
        return "STREAM" if self.expect_word("STREAM", "TABLE") == "STREAM" else "TABLE"

    def if_exists_clause(self, *, negated: bool) -> bool:
        if not self.accept_word("IF"):
            return False
        if negated:
            self.expect_word("NOT")
        self.expect_word("EXISTS")
        return True

    def column_defs(self, kind: SourceKind) -> tuple[ColumnDef, ...]:
        self.expect_symbol("(")
        columns: list[ColumnDef] = []
        while True:
            name_token = self.token
            name = self.identifier("a column name")
            column_type = self.data_type()
            key = False
            if self.token.is_word("PRIMARY"):
                self.advance()
                self.expect_word("KEY")
                if kind == "STREAM":
                    raise self.error(
                        "a stream's key column is declared KEY, not PRIMARY KEY", name_token
                    )
                key = True
            elif self.accept_word("KEY"):
                if kind == "TABLE":
                    raise self.error("a table's key column is declared PRIMARY KEY", name_token)
                key = True
            elif self.token.is_word("HEADERS", "HEADER"):
                raise self.unsupported("header columns")
            if any(c.name == name for c in columns):
                raise self.error(f"duplicate column {name}", name_token)
            columns.append(ColumnDef(name, column_type, key))
            if not self.accept_symbol(","):
                break
        self.expect_symbol(")")
        if kind == "TABLE" and not any(c.key for c in columns):
            raise KsqlSyntaxError(
                "a table needs a PRIMARY KEY column",
                self.statement_text(),
                *position(self.text, self.start),
            )
        return tuple(columns)

    def with_properties(self) -> dict[str, PropertyValue]:
        self.expect_word("WITH")
        self.expect_symbol("(")
        properties: dict[str, PropertyValue] = {}
        while True:
            name_token = self.token
            name = self.identifier("a property name").upper()
            self.expect_symbol("=")
            if name in properties:
                raise self.error(f"duplicate property {name}", name_token)
            properties[name] = self.property_value()
            if not self.accept_symbol(","):
                break
        self.expect_symbol(")")
        return properties

    def property_value(self) -> PropertyValue:
        literal = self.literal()
        if literal is None or literal.value is None:
            raise self.error("expected a string, number or boolean")
        return literal.value

    def drop(self) -> DropSource:
        kind = self.source_kind()
        if_exists = self.if_exists_clause(negated=False)
        name = self.identifier("a stream or table name")
        delete_topic = False
        if self.accept_word("DELETE"):
            self.expect_word("TOPIC")
            delete_topic = True
        return DropSource(self.statement_text(), kind, name, if_exists, delete_topic)

    def print_topic(self) -> Print:
        if self.token.kind is Kind.STRING:
            topic = self.advance().value
        else:
            topic = self.identifier("a topic name")
        while self.token.kind is not Kind.END and not self.token.is_symbol(";"):
            self.advance()  # FROM BEGINNING, INTERVAL n, LIMIT n: PRINT is refused anyway
        return Print(self.statement_text(), topic)

    # -- SELECT -----------------------------------------------------------------------------

    def select(self) -> Select:
        self.expect_word("SELECT")
        items = [self.select_item()]
        while self.accept_symbol(","):
            items.append(self.select_item())
        self.expect_word("FROM")
        source = self.identifier("a source name")
        alias = None
        if self.accept_word("AS") or self.is_alias_word():
            alias = self.identifier("a source alias")
        self.reject_unsupported_clause()
        window = parse_window_clause(self) if self.accept_word("WINDOW") else None
        where = self.expression() if self.accept_word("WHERE") else None
        self.reject_unsupported_clause()
        group_by: list[Expression] = []
        if self.accept_word("GROUP"):
            self.expect_word("BY")
            group_by.append(self.expression())
            while self.accept_symbol(","):
                group_by.append(self.expression())
        self.reject_unsupported_clause()
        emit_changes = False
        if self.accept_word("EMIT"):
            if self.accept_word("FINAL"):
                raise self.unsupported("EMIT FINAL")
            self.expect_word("CHANGES")
            emit_changes = True
        limit = self.integer() if self.accept_word("LIMIT") else None
        return Select(
            tuple(items), source, alias, where, tuple(group_by), emit_changes, limit, window
        )

    def reject_unsupported_clause(self) -> None:
        if self.token.kind is Kind.WORD and self.token.value in _UNSUPPORTED_CLAUSES:
            raise self.unsupported(_UNSUPPORTED_CLAUSES[self.token.value])

    def is_alias_word(self) -> bool:
        return self.token.kind is Kind.QUOTED or (
            self.token.kind is Kind.WORD and self.token.value not in _CLAUSE_WORDS
        )

    def select_item(self) -> SelectItem:
        if self.accept_symbol("*"):
            return SelectItem(Star())
        expression = self.expression()
        alias = None
        if self.accept_word("AS") or self.is_alias_word():
            alias = self.identifier("an alias")
        return SelectItem(expression, alias)

    # -- expressions ------------------------------------------------------------------------
