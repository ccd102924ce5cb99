"""sqlglot helpers of the ETL: stable 63-bit ids, dialect rewrites, every-code event queries.

One plan (sqlglot expressions) serves DuckDB and Spark; the few functions the two spell
differently are placeholders rewritten by :func:`for_dialect` just before execution, as the
cohort compiler does for Oracle.
"""

from __future__ import annotations

from sqlglot import exp

ALL_CODES = "\x00every code"  # sentinel code list: the event query keeps every code
_HEX_TO_BIGINT = "SNDSKIT_HEX_TO_BIGINT"
TWO_POW_60 = 1 << 60


def literal(value) -> exp.Expression:
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


def date_literal(text: str) -> exp.Expression:
    return exp.cast(exp.Literal.string(text), "DATE")


def as_text(expression: exp.Expression) -> exp.Expression:
    return exp.cast(expression, "VARCHAR")


def _hex(expression: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=_HEX_TO_BIGINT, expressions=[expression])


def stable_id(*parts: exp.Expression | str) -> exp.Expression:
    """A 63-bit id from the natural key: the first 63 bits of MD5 of the key's parts joined
    by ``|`` (NULL as empty). The same key gives the same id on every run and engine.

    >>> import duckdb, hashlib
    >>> sql = for_dialect(exp.select(stable_id(exp.Literal.string("a"))), "duckdb").sql("duckdb")
    >>> expected = int(hashlib.md5(b"a").hexdigest()[:16], 16) % 2**63
    >>> duckdb.connect().execute(sql).fetchone()[0] == expected
    True
    """
    texts = [
        exp.func("coalesce", as_text(exp.column(p) if isinstance(p, str) else p), literal(""))
        for p in parts
    ]
    digest = exp.MD5(this=exp.Anonymous(this="CONCAT_WS", expressions=[literal("|"), *texts]))
    first = exp.Substring(this=digest, start=literal(1), length=literal(1))
    rest = exp.Substring(this=digest.copy(), start=literal(2), length=literal(15))
    top = exp.Mod(this=exp.paren(_hex(first)), expression=literal(8))
    return exp.paren(
        exp.Add(this=exp.Mul(this=top, expression=literal(TWO_POW_60)), expression=_hex(rest))
    )


def for_dialect(query: exp.Expression, dialect: str) -> exp.Expression:
    """Spell the placeholders for ``dialect`` (``duckdb`` or ``spark``)."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and node.name == _HEX_TO_BIGINT:
            value = for_dialect(node.expressions[0], dialect)  # ids of ids
            if dialect == "spark":
                converted = exp.func("conv", value, literal(16), literal(10))
                return exp.cast(converted, "BIGINT")
            return exp.cast(exp.DPipe(this=literal("0x"), expression=value), "BIGINT")
        return node

    return query.transform(rewrite)


def every_code(query: exp.Expression) -> exp.Expression:
    """The event query with its code-list filter (``code IN (ALL_CODES)``) made TRUE, so the
    cohort engine's event queries serve the ETL, which keeps every code."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.In) and [e.name for e in node.expressions] == [ALL_CODES]:
            return exp.true()
        return node

    return query.transform(rewrite)


def union_all(parts: list[exp.Expression]) -> exp.Expression:
    query = parts[0]
    for part in parts[1:]:
        query = exp.union(query, part, distinct=False)
    return query


def nullif_missing(expression: exp.Expression) -> exp.Expression:
    """SNDS codes a missing date 1600-01-01 (primer §2)."""
    return exp.Nullif(this=exp.cast(expression, "DATE"), expression=date_literal("1600-01-01"))
