"""The allow-list scanner (reference §2.3): every rule, lexing edge cases, and properties."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from algaflow.expressions import ExpressionError, compile_expression, normalize_expression_source
from algaflow.expressions import validate_expression_source as validate
from algaflow.expressions.engine import build_engine_expression
from algaflow.expressions.scanner import REGEX, STR, find_violation, tokenize


def violation(source: str) -> str | None:
    found = find_violation(tokenize(normalize_expression_source(source)))
    return None if found is None else found.code


def compile_error(source: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        validate(source)
    assert caught.value.stage == "compile"
    assert caught.value.category == "ExpressionError"
    return caught.value


ALLOWED = [
    "payload.ticket.id",
    "$len(payload.items)",
    "len(payload.items)",
    "len ( payload.items )",
    "toString(1) & nowIso() & toString(coalesce(a, b))",
    "append(vars.list, payload.item)",
    "payload.amount > 10 ? 'big' : 'small'",
    "($x := payload.a; $x + 1)",
    "payload.items[price > 3].name",
    "{'a': payload.a, 'b': [1, 2, 3][0]}",
    "payload.name ~> $toString",
    "payload.name ~> $toString()",
    "payload.name ~> toString()",  # normalised to $toString()
    "payload.list ~> $append([1])",
    "payload.name ~> ($toString)",
    "payload.a ~> $toString ~> $len",
    "payload.a ~> $len = 3",
    "x ~> $len ? 1 : 2",
    "($len)(payload.s)",
    "((payload.$len))(payload.s)",
    "$len(?)",
    "$ and $$ and true and null",
    "a in [1, 2] or b",
    "payload.and / 2",
    "1..3",
    "payload | $ | {'a': 1} |",
    '"$eval(1) and string(x)"',
    "'$eval(1)'",
    "`$eval(1)` & `weird name`",
    "/* $eval('x') */ 1",
    "payload ~> $toString /* ~> $eval */",
    "x and /$eval(1)/",  # a regex literal: its body is not code
]


@pytest.mark.parametrize("source", ALLOWED)
def test_allowed_expressions_pass(source: str) -> None:
    assert violation(source) is None


REJECTED = [
    # every JSONata built-in, with and without $, and as a path step
    ("$string(1)", "EXPRESSION_DISALLOWED_FUNCTION", "string"),
    ("string(1)", "EXPRESSION_DISALLOWED_FUNCTION", "string"),
    ("$count([1])", "EXPRESSION_DISALLOWED_FUNCTION", "count"),
    ("$sum([1])", "EXPRESSION_DISALLOWED_FUNCTION", "sum"),
    ("$map([1], $len)", "EXPRESSION_DISALLOWED_FUNCTION", "map"),
    ("$not(true)", "EXPRESSION_DISALLOWED_FUNCTION", "not"),
    ("$exists(a)", "EXPRESSION_DISALLOWED_FUNCTION", "exists"),
    ("$substring('ab', 1)", "EXPRESSION_DISALLOWED_FUNCTION", "substring"),
    ("$eval('1')", "EXPRESSION_DISALLOWED_FUNCTION", "eval"),
    ("$now()", "EXPRESSION_DISALLOWED_FUNCTION", "now"),
    ("payload.$string(x)", "EXPRESSION_DISALLOWED_FUNCTION", "string"),
    ("1 / $eval('2') / 2", "EXPRESSION_DISALLOWED_FUNCTION", "eval"),
    ("payload.and / $eval('2') / 2", "EXPRESSION_DISALLOWED_FUNCTION", "eval"),
    ("$lenx(1)", "EXPRESSION_DISALLOWED_FUNCTION", "lenx"),
    ("$$len(1)", "EXPRESSION_DISALLOWED_FUNCTION", "$len"),
    # calling a bound variable: not allow-listed
    ("($f := $len; $f('a'))", "EXPRESSION_DISALLOWED_FUNCTION", "f"),
    ("(payload.$string)(1)", "EXPRESSION_DISALLOWED_FUNCTION", "string"),
    # lambdas, however spelled
    ("function($x) { $x }", "EXPRESSION_LAMBDA", None),
    ("function ($x) { $x }(1)", "EXPRESSION_LAMBDA", None),
    ("λ($x) { $x }(1)", "EXPRESSION_LAMBDA", None),
    ("`function`($x) { $x }", "EXPRESSION_LAMBDA", None),
    ("$append([1], function($x){$x})", "EXPRESSION_LAMBDA", None),
    ("x ~> function($v) { $v }", "EXPRESSION_LAMBDA", None),
    # computed callees
    ("$len(x)(1)", "EXPRESSION_DYNAMIC_CALL", None),
    ("[$len][0]('a')", "EXPRESSION_DYNAMIC_CALL", None),
    ("{'f': $len}.f('a')", "EXPRESSION_DISALLOWED_FUNCTION", "f"),
    ("($len; $toString)(1)", "EXPRESSION_DYNAMIC_CALL", None),
    ("(payload.a[0])(1)", "EXPRESSION_DYNAMIC_CALL", None),
    ("'len'(1)", "EXPRESSION_DYNAMIC_CALL", None),
    ("null(1)", "EXPRESSION_DYNAMIC_CALL", None),
    ("*(1)", "EXPRESSION_DYNAMIC_CALL", None),
    # rebinding an allow-listed name would let an allowed call run anything
    ("($len := $string; $len(1))", "EXPRESSION_DYNAMIC_CALL", None),
    ("[$string]@$len.$len(1)", "EXPRESSION_DYNAMIC_CALL", None),
    ("payload#$toString", "EXPRESSION_DYNAMIC_CALL", None),
    # ~> right-hand sides
    ("payload.name ~> $string", "EXPRESSION_DISALLOWED_FUNCTION", "string"),
    ("payload.name ~> $uppercase()", "EXPRESSION_DISALLOWED_FUNCTION", "uppercase"),
    ("payload.name ~> /a/", "EXPRESSION_INVALID_APPLY", None),
    ("payload ~> | $ | {'a': 1} |", "EXPRESSION_INVALID_APPLY", None),
    ("payload ~> 'x'", "EXPRESSION_INVALID_APPLY", None),
    ("payload ~> $toString.$eval", "EXPRESSION_INVALID_APPLY", None),
    ("payload ~> $toString[0]", "EXPRESSION_INVALID_APPLY", None),
    ("payload ~> $len + 1", "EXPRESSION_INVALID_APPLY", None),
    ("payload ~> ($len ~> $toString)", "EXPRESSION_INVALID_APPLY", None),
]


@pytest.mark.parametrize(("source", "code", "name"), REJECTED)
def test_rejected_expressions(source: str, code: str, name: str | None) -> None:
    error = compile_error(source)
    assert error.code == code
    if name is not None:
        assert error.message == f"Expression uses disallowed function: {name}"


def test_alga_message_texts() -> None:
    assert compile_error("function($x){1}").message == (
        "Expression uses a function definition (lambda), which is not allowed"
    )
    assert compile_error("[$len][0](1)").message == (
        "Expression uses a dynamic or computed function call, which is not allowed"
    )
    assert compile_error("a ~> /x/").message == (
        "Expression applies (~>) a value that cannot be validated against the function allowlist"
    )


def test_syntax_error_wins_over_allow_list() -> None:
    error = compile_error("$string(")
    assert error.code == "EXPRESSION_SYNTAX_ERROR"
    assert error.details is not None and error.details["engineCode"].startswith("S")


@pytest.mark.parametrize("source", ["", "   ", "\n\t", "/* only a comment */"])
def test_empty(source: str) -> None:
    assert compile_error(source).code == "EXPRESSION_EMPTY"


@pytest.mark.parametrize(
    ("source", "kinds"),
    [
        ("a / b / c", ["name", "op", "name", "op", "name"]),  # division after operands
        ("x and /b/", ["name", "op", "regex"]),  # regex after an operator
        ("a.and / 2", ["name", "op", "name", "op", "num"]),  # `and` as a name
        ("(/a\\/b/i)", ["op", "regex", "op"]),
        ("/[/]/", ["regex"]),  # a slash inside a class does not close it
        ('a"b"', ["name"]),  # quotes inside a name belong to it (engine agrees)
        ("'it\\'s' & \"x\"", ["str", "op", "str"]),
        ("`a b` & $x$y", ["btick", "op", "var"]),
        ("1.5e3..2", ["num", "op", "num"]),
        ("**.a * %", ["wild", "op", "name", "op", "wild"]),
        ("a /* c */ + 1", ["name", "op", "num"]),
    ],
)
def test_token_kinds(source: str, kinds: list[str]) -> None:
    assert [token.kind for token in tokenize(source)] == kinds


@given(st.text())
def test_scanner_never_crashes(source: str) -> None:
    tokens = tokenize(source)
    find_violation(tokens)
    assert all(0 <= token.start < len(source) for token in tokens)


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.characters(), max_size=30) | st.sampled_from(["'\ud800'", "$len(\udfff)"])
)
def test_compile_raises_only_expression_errors(source: str) -> None:
    try:
        compile_expression(source)
    except ExpressionError as error:
        assert error.stage == "compile"


@given(st.text())
def test_string_literal_content_is_ignored(content: str) -> None:
    for quoted in (json.dumps(content), json.dumps(content, ensure_ascii=False)):
        tokens = tokenize(quoted)
        assert [token.kind for token in tokens] == [STR]
        assert find_violation(tokens) is None


@given(st.text().filter(lambda s: "*/" not in s))
def test_comment_content_is_ignored(content: str) -> None:
    tokens = tokenize(f"/*{content}*/ 1")
    assert [token.text for token in tokens] == ["1"]


@given(st.text().filter(lambda s: "`" not in s))
def test_backtick_content_is_ignored(content: str) -> None:
    tokens = tokenize(f"`{content}` & 1")
    assert tokens[0].text == content
    assert find_violation(tokens) is None


@given(
    st.text(alphabet=st.characters(blacklist_characters="/\\[]()")).filter(
        lambda s: not s.startswith("*")  # "/*" opens a comment, not a regex
    )
)
def test_regex_content_is_ignored(content: str) -> None:
    tokens = tokenize(f"x and /{content}/i")
    assert tokens[-1].kind == REGEX
    assert find_violation(tokens) is None


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40))
def test_strings_survive_the_engine(content: str) -> None:
    """A string literal compiles and evaluates to its (normalised) content, whatever is inside."""
    source = json.dumps(content)
    expected = json.loads(normalize_expression_source(source))
    assert compile_expression(source).evaluate({}) == expected


# --- generated expressions: the scanner's verdict equals the generator's ground truth ------------

ALLOWED_CALLS = ["$len", "len", "$toString", "toString", "$coalesce", "append"]
BAD_CALLS = ["$string", "$count", "$eval", "$lookup", "$x", "string", "$sum"]

leaf = st.one_of(
    st.sampled_from(["payload.a", "vars.x.y", "$", "$$", "1", "2.5", "true", "null", "$v"]),
    st.text(max_size=8).map(json.dumps),
    st.text(alphabet="abc $(", min_size=1, max_size=6).map(lambda s: f"`{s}`"),
).map(lambda text: (text, False))


def _combine(children: st.SearchStrategy[tuple[str, bool]]) -> st.SearchStrategy[tuple[str, bool]]:
    pair = st.tuples(children, children)

    def call(name_bad: tuple[str, bool], arg: tuple[str, bool]) -> tuple[str, bool]:
        return f"{name_bad[0]}({arg[0]})", name_bad[1] or arg[1]

    callee = st.one_of(
        st.sampled_from(ALLOWED_CALLS).map(lambda n: (n, False)),
        st.sampled_from(BAD_CALLS).map(lambda n: (n, True)),
    )
    op = st.sampled_from([" + ", " & ", " = ", " and ", " / ", " or ", " in "])
    return st.one_of(
        st.builds(call, callee, children),
        st.builds(lambda p, o: (p[0][0] + o + p[1][0], p[0][1] or p[1][1]), pair, op),
        children.map(lambda c: (f"({c[0]})", c[1])),
        pair.map(lambda p: (f"[{p[0][0]}, {p[1][0]}]", p[0][1] or p[1][1])),
        pair.map(lambda p: (f"{{'k': {p[0][0]}, 'j': {p[1][0]}}}", p[0][1] or p[1][1])),
        pair.map(lambda p: (f"{p[0][0]}[{p[1][0]}]", p[0][1] or p[1][1])),
        pair.map(lambda p: (f"({p[0][0]}) ? {p[1][0]} : 0", p[0][1] or p[1][1])),
        children.map(lambda c: (f"(({c[0]}) ~> $toString)", c[1])),
        children.map(lambda c: (f"(({c[0]}) ~> $string)", True)),
        children.map(lambda c: (f"(function($v) {{ {c[0]} }})", True)),
        children.map(lambda c: (f"/* $eval() */ {c[0]}", c[1])),
    )


expressions = st.recursive(leaf, _combine, max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(expressions)
def test_generated_expressions(case: tuple[str, bool]) -> None:
    source, bad = case
    normalized = normalize_expression_source(source)
    build_engine_expression(normalized)  # the generator writes valid JSONata
    assert (violation(source) is not None) == bad, normalized
