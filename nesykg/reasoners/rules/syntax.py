"""Horn rules as typed values, in AnyBURL's text syntax.

A rule is ``head <= body`` with atoms ``relation(term, term)``::

    locatedin(X,Y) <= neighbor(X,A), locatedin(A,Y)      closed path (length 2)
    locatedin(X,europe) <= locatedin(X,western_europe)   constant rule, constant body
    gender(X,female) <= daughter_of(X,A)                 constant rule, dangling body

Terms: a **variable** is a single upper-case ASCII letter (``X``, ``Y``, ``A``...), as
in AnyBURL; every other term is a **constant** (an entity name). A name that holds a
character of the syntax (``(),<="`` or white space) or that is a single upper-case
letter is written in double quotes, with ``\\"`` and ``\\\\`` escapes; `format_rule`
adds the quotes, so printing and parsing round-trip.

Supported shapes (`Rule.kind`):

* ``"path"``: ``h(X,Y) <= b1(X,A), b2(A,B), b3(B,Y)`` with distinct variables, the body a
  chain from the head's subject to its object, each atom in either direction, length 1-3
  (`MAX_PATH_LENGTH`). Any variable names may be used; the chain is found by
  following shared variables.
* ``"constant"``: one constant and one variable in the head, ``h(X,c)`` or ``h(c,X)``, and
  one body atom that holds the head's variable and either a constant (``b(X,d)``) or a
  variable that occurs nowhere else (``b(X,A)``), in either direction.

Names (relations and constants) follow the same rules as names in triple files
(`nesykg.kg.terms.check_name`): at most 4,096 characters, no control characters.

Rules files (`read_rules` / `write_rules`): UTF-8, one rule per line; blank lines and
lines starting with ``#`` are ignored. A rule read from a file remembers where
(`Rule.origin`, ``FILE:LINE``), so that a later error (a relation the graph lacks) names
it. A line is tab-separated, and its column count says what it holds:

* 1 column: ``rule`` (confidence 1.0, an expert rule);
* 2 columns: ``confidence<TAB>rule``;
* 4 columns, AnyBURL's output: ``body_size<TAB>support<TAB>confidence<TAB>rule`` (the
  two counts are told apart by size, support never exceeding body size, so
  ``support<TAB>body_size<TAB>...`` reads the same);
* 6 columns, nesykg's output (written with a ``#`` header naming them):
  ``support<TAB>body_size<TAB>confidence<TAB>pca_confidence<TAB>head_coverage<TAB>rule``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from nesykg.errors import InputError, ParseError, UnknownNameError
from nesykg.kg.formats import decode_text
from nesykg.kg.terms import check_name

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.kg.vocab import Vocabulary

__all__ = [
    "Var",
    "Const",
    "Term",
    "Atom",
    "RuleStats",
    "Rule",
    "CompiledRule",
    "MAX_PATH_LENGTH",
    "parse_rule",
    "parse_rules",
    "format_rule",
    "format_rule_line",
    "read_rules",
    "write_rules",
    "compile_rules",
    "path_rule",
    "path_variables",
    "with_confidence",
    "RULES_HEADER",
]

MAX_PATH_LENGTH = 3
RULES_HEADER = "# nesykg rules: support\tbody_size\tconfidence\tpca_confidence\thead_coverage\trule"


@dataclass(frozen=True, slots=True)
class Var:
    """A variable: one upper-case ASCII letter."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Const:
    """A constant: an entity name."""

    name: str

    def __str__(self) -> str:
        return _quote(self.name)


Term = Var | Const


@dataclass(frozen=True, slots=True)
class Atom:
    """``relation(subject, object)``."""

    relation: str
    subject: Term
    object: Term

    def __str__(self) -> str:
        return f"{_quote(self.relation)}({self.subject},{self.object})"


@dataclass(frozen=True, slots=True)
class RuleStats:
    """Counts and measures of a rule on the graph it was mined on.

    Attributes:
        support: distinct head groundings that the body also grounds (true predictions).
        body_size: distinct head groundings the body grounds (all predictions).
        confidence: ``support / body_size`` (standard confidence).
        pca_confidence: ``support / pca_body_size``: only predictions whose head entity
            has some known object under the head relation count (partial completeness).
        head_coverage: ``support / |head relation|``.
    """

    support: int
    body_size: int
    confidence: float
    pca_confidence: float = math.nan
    head_coverage: float = math.nan


@dataclass(frozen=True, slots=True)
class Rule:
    """A Horn rule ``head <= body`` with the confidence it is applied with.

    Attributes:
        head: the conclusion.
        body: the premises (a conjunction).
        confidence: belief in a conclusion of one grounding, in [0, 1].
        stats: mining statistics, when known.
        origin: where the rule was read (``FILE:LINE``), for messages; not part of its identity.
    """

    head: Atom
    body: tuple[Atom, ...]
    confidence: float = 1.0
    stats: RuleStats | None = field(default=None, compare=False)
    origin: str | None = field(default=None, compare=False, repr=False)

    def where(self) -> str:
        """``FILE:LINE: rule '...'`` (or ``rule '...'`` for a rule not read from a file)."""
        return f"{self.origin + ': ' if self.origin else ''}rule {format_rule(self)!r}"

    def __post_init__(self) -> None:
        _shape(self)  # raises InputError for unsupported shapes

    @property
    def kind(self) -> Literal["path", "constant"]:
        return _shape(self)[0]

    @property
    def length(self) -> int:
        return len(self.body)

    @property
    def text(self) -> str:
        return format_rule(self)

    def relations(self) -> set[str]:
        return {self.head.relation, *(a.relation for a in self.body)}

    def __str__(self) -> str:
        return format_rule(self)


def path_rule(head: str, steps: Sequence[tuple[str, bool]], confidence: float = 1.0, stats: RuleStats | None = None) -> Rule:
    """A closed path rule ``head(X,Y) <= ...`` from ``(relation, inverse)`` steps.

    Variables are named AnyBURL-style: ``X``, then ``A``, ``B``..., then ``Y``.
    """
    names = ["X", *"ABCDEFG"[: len(steps) - 1], "Y"]
    body = []
    for i, (rel, inv) in enumerate(steps):
        a, b = Var(names[i]), Var(names[i + 1])
        body.append(Atom(rel, b, a) if inv else Atom(rel, a, b))
    return Rule(Atom(head, Var("X"), Var("Y")), tuple(body), confidence, stats)


# ------------------------------------------------------------------ shapes
class _HeadError(InputError):
    """An unsupported rule shape whose cause lies in the head."""


def _shape(rule: Rule) -> tuple[Literal["path", "constant"], object]:
    """Classify a rule; returns its kind and, for paths, the ``(relation, inverse)`` chain."""
    h = rule.head
    if not rule.body:
        raise InputError(f"rule {format_rule(rule)!r}: the body is empty")
    if isinstance(h.subject, Var) and isinstance(h.object, Var):
        if h.subject == h.object:
            raise _HeadError(f"rule {format_rule(rule)!r}: the head repeats variable {h.subject}")
        if len(rule.body) > MAX_PATH_LENGTH:
            raise InputError(f"rule {format_rule(rule)!r}: path rules have at most {MAX_PATH_LENGTH} body atoms")
        chain: list[tuple[str, bool]] = []
        cur = h.subject
        seen = {cur}
        left = list(rule.body)
        while left:
            nxt = None
            for i, a in enumerate(left):
                if not isinstance(a.subject, Var) or not isinstance(a.object, Var):
                    raise InputError(f"rule {format_rule(rule)!r}: a path rule's body has only variables")
                if a.subject == cur:
                    nxt = (i, a.object, False)
                    break
                if a.object == cur:
                    nxt = (i, a.subject, True)
                    break
            if nxt is None:
                raise InputError(f"rule {format_rule(rule)!r}: the body is not a path from {h.subject} to {h.object}")
            i, var, inv = nxt
            atom = left.pop(i)
            chain.append((atom.relation, inv))
            if var in seen or (var == h.object and left):
                raise InputError(f"rule {format_rule(rule)!r}: the body is not a simple path from {h.subject} to {h.object}")
            seen.add(var)
            cur = var
        if cur != h.object:
            raise InputError(f"rule {format_rule(rule)!r}: the body path ends at {cur}, not at {h.object}")
        return "path", tuple(chain)
    if isinstance(h.subject, Const) and isinstance(h.object, Const):
        raise _HeadError(f"rule {format_rule(rule)!r}: a head needs at least one variable")
    var = h.subject if isinstance(h.subject, Var) else h.object
    if len(rule.body) != 1:
        raise InputError(f"rule {format_rule(rule)!r}: a constant rule has exactly one body atom")
    b = rule.body[0]
    if b.subject == var:
        other = b.object
    elif b.object == var:
        other = b.subject
    else:
        raise InputError(f"rule {format_rule(rule)!r}: the body atom must hold the head variable {var}")
    if other == var:
        raise InputError(f"rule {format_rule(rule)!r}: the body atom repeats variable {var}")
    return "constant", None


def path_variables(rule: Rule) -> tuple[Var, ...]:
    """The variables of a path rule in chain order, from the head's subject to its object."""
    kind, chain = _shape(rule)
    if kind != "path":
        raise InputError(f"rule {format_rule(rule)!r} is not a path rule")
    cur = rule.head.subject
    out = [cur]
    left = list(rule.body)
    while left:
        for i, a in enumerate(left):
            if a.subject == cur or a.object == cur:
                cur = a.object if a.subject == cur else a.subject
                out.append(cur)  # type: ignore[arg-type]
                left.pop(i)
                break
    return tuple(out)  # type: ignore[arg-type]


# ------------------------------------------------------------------ printing
_SPECIAL = re.compile(r'[\s(),<="\\]')


def _quote(name: str) -> str:
    if not name or _SPECIAL.search(name) or (len(name) == 1 and "A" <= name <= "Z"):
        return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return name


def format_rule(rule: Rule) -> str:
    """AnyBURL text of `rule`: ``h(X,Y) <= b1(X,A), b2(A,Y)``."""
    return f"{rule.head} <= " + ", ".join(str(a) for a in rule.body)


def _num(x: float, exact: bool = False) -> str:
    if isinstance(x, float) and math.isnan(x):
        return "nan"
    return repr(float(x)) if exact else f"{x:.6g}"


def format_rule_line(rule: Rule, exact: bool = False) -> str:
    """One line of a rules file: the 6-column form with stats, else ``confidence<TAB>rule``.

    Numbers have 6 significant digits, or with `exact` as many as round-trip the float.
    """
    s = rule.stats
    if s is None:
        return f"{_num(rule.confidence, exact)}\t{format_rule(rule)}"
    nums = (_num(rule.confidence, exact), _num(s.pca_confidence, exact), _num(s.head_coverage, exact))
    return "\t".join([str(s.support), str(s.body_size), *nums, format_rule(rule)])


# ------------------------------------------------------------------ parsing
class _Lexer:
    def __init__(self, text: str, source: str, line: int, col0: int):
        self.text, self.source, self.line, self.col0 = text, source, line, col0
        self.pos = 0

    def error(self, reason: str, pos: int | None = None) -> ParseError:
        p = self.pos if pos is None else pos
        return ParseError(self.source, self.line, reason, column=self.col0 + p + 1)

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self.skip_ws()
        return self.text[self.pos : self.pos + 1]

    def expect(self, tok: str) -> None:
        self.skip_ws()
        if not self.text.startswith(tok, self.pos):
            found = self.text[self.pos : self.pos + len(tok)] or "end of rule"
            raise self.error(f"expected {tok!r}, found {found!r}")
        self.pos += len(tok)

    def name(self, what: str) -> tuple[str, bool, int]:
        """A bare or quoted name; returns ``(name, quoted, start)``."""
        self.skip_ws()
        start = self.pos
        t = self.text
        if start < len(t) and t[start] == '"':
            out = []
            i = start + 1
            while i < len(t):
                ch = t[i]
                if ch == "\\" and i + 1 < len(t) and t[i + 1] in '"\\':
                    out.append(t[i + 1])
                    i += 2
                    continue
                if ch == '"':
                    self.pos = i + 1
                    self.check("".join(out), start)
                    return "".join(out), True, start
                out.append(ch)
                i += 1
            raise self.error("unterminated quoted name", start)
        i = start
        while i < len(t) and not _SPECIAL.match(t[i]):
            i += 1
        if i == start:
            found = t[start : start + 1] or "end of rule"
            raise self.error(f"expected {what}, found {found!r}")
        self.pos = i
        self.check(t[start:i], start)
        return t[start:i], False, start

    def check(self, name: str, start: int) -> None:
        """Refuse a name that is too long or holds a control character."""
        reason = check_name(name)
        if reason:
            raise self.error(reason, start)


def _term(lex: _Lexer) -> Term:
    name, quoted, _ = lex.name("a variable or constant")
    if not quoted and len(name) == 1 and "A" <= name <= "Z":
        return Var(name)
    return Const(name)


def _atom(lex: _Lexer) -> tuple[Atom, int]:
    rel, _, start = lex.name("a relation name")
    lex.expect("(")
    s = _term(lex)
    lex.expect(",")
    o = _term(lex)
    lex.expect(")")
    return Atom(rel, s, o), start


def parse_rule(
    text: str,
    source: str = "<string>",
    line: int = 1,
    column: int = 1,
    confidence: float = 1.0,
    stats: RuleStats | None = None,
    origin: str | None = None,
) -> Rule:
    """Parse one rule; `ParseError` with line and column on malformed text or shapes.

    `origin` is recorded on the rule (`Rule.origin`), e.g. ``"rules.txt:3"``.
    """
    lex = _Lexer(text, source, line, column - 1)
    head, _ = _atom(lex)
    lex.expect("<=")
    body = []
    starts = []
    while True:
        a, st = _atom(lex)
        body.append(a)
        starts.append(st)
        if lex.peek() == ",":
            lex.expect(",")
            continue
        break
    lex.skip_ws()
    if lex.pos != len(text):
        raise lex.error(f"unexpected {text[lex.pos]!r} after the rule")
    try:
        return Rule(head, tuple(body), confidence, stats, origin)
    except _HeadError as e:
        raise ParseError(source, line, str(e), column=column) from None
    except InputError as e:
        raise ParseError(source, line, str(e), column=column + starts[0]) from None


def _float(field_text: str, what: str, source: str, line: int, col: int, unit: bool = False) -> float:
    try:
        x = float(field_text)
    except ValueError:
        raise ParseError(source, line, f"{what} is not a number: {field_text!r}", column=col) from None
    if unit and not (0.0 <= x <= 1.0):
        raise ParseError(source, line, f"{what} must lie in [0, 1], got {field_text}", column=col)
    return x


def _int(field_text: str, what: str, source: str, line: int, col: int) -> int:
    try:
        x = int(field_text)
    except ValueError:
        raise ParseError(source, line, f"{what} is not a whole number: {field_text!r}", column=col) from None
    if x < 0:
        raise ParseError(source, line, f"{what} must not be negative", column=col)
    return x


def _parse_line(text: str, source: str, lineno: int) -> Rule:
    cols = text.split("\t")
    starts = [0]
    for c in cols[:-1]:
        starts.append(starts[-1] + len(c) + 1)
    n = len(cols)
    rule_col = starts[-1] + 1
    rule_text = cols[-1]
    origin = f"{source}:{lineno}"
    if n == 1:
        return parse_rule(rule_text, source, lineno, rule_col, origin=origin)
    if n == 2:
        conf = _float(cols[0], "confidence", source, lineno, 1, unit=True)
        return parse_rule(rule_text, source, lineno, rule_col, conf, origin=origin)
    if n == 4:  # AnyBURL: body_size support confidence rule (either order of the counts)
        a = _int(cols[0], "body size", source, lineno, 1)
        b = _int(cols[1], "support", source, lineno, starts[1] + 1)
        body, supp = max(a, b), min(a, b)
        conf = _float(cols[2], "confidence", source, lineno, starts[2] + 1, unit=True)
        return parse_rule(rule_text, source, lineno, rule_col, conf, RuleStats(supp, body, conf), origin)
    if n == 6:
        supp = _int(cols[0], "support", source, lineno, 1)
        body = _int(cols[1], "body size", source, lineno, starts[1] + 1)
        conf = _float(cols[2], "confidence", source, lineno, starts[2] + 1, unit=True)
        pca = _float(cols[3], "PCA confidence", source, lineno, starts[3] + 1)
        hc = _float(cols[4], "head coverage", source, lineno, starts[4] + 1)
        stats = RuleStats(supp, body, conf, pca, hc)
        return parse_rule(rule_text, source, lineno, rule_col, conf, stats, origin)
    raise ParseError(
        source, lineno, f"expected 1, 2, 4 or 6 tab-separated columns (see nesykg.reasoners.rules.syntax), found {n}", column=1
    )


def parse_rules(text: str, source: str = "<string>") -> list[Rule]:
    """Parse a rules file's text (see the module docstring for the format)."""
    rules = []
    for lineno, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        rules.append(_parse_line(line, source, lineno))
    return rules


def read_rules(path: str | Path) -> list[Rule]:
    """Read a rules file; `ParseError` names the file, line and column of a bad rule."""
    p = Path(path)
    try:
        if p.is_dir():
            raise InputError(f"{p}: is a directory, not a rules file")
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{p}: no such rules file") from None
    except OSError as e:
        raise InputError(f"{p}: cannot read the rules file: {e.strerror or e}") from None
    return parse_rules(decode_text(p, data), str(p))


def write_rules(rules: Iterable[Rule], path: str | Path, exact: bool = False) -> Path:
    """Write rules in the 6-column form (2-column for rules without stats); `exact` keeps
    every digit of the numbers (checkpoints), else 6 significant ones."""
    p = Path(path)
    lines = [RULES_HEADER, *(format_rule_line(r, exact) for r in rules)]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


# ------------------------------------------------------------------ compiling
@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule over ids, oriented so that it concludes ``q(x, ?)`` for a directed relation ``q``.

    Directed relation ids follow the reciprocal convention: ``d < R`` is relation ``d``,
    ``d >= R`` the inverse of ``d - R``.

    Attributes:
        rule: the source rule.
        head: directed head relation id; the rule concludes ``head(x, y)``.
        kind: ``"path"`` (``y`` reached from ``x`` along `chain`), ``"const_tail"``
            (concludes ``head(x, constant)`` when ``x`` satisfies the body) or
            ``"const_head"`` (concludes ``head(x, y)`` for the fixed ``x == constant`` and
            every ``y`` satisfying the body).
        chain: directed relation ids of the body path (paths), or of the one body step
            starting at the head variable (constant rules).
        constant: the head constant's entity id (constant rules), else -1.
        body_constant: the body constant's entity id, or -1 for a dangling variable.
        confidence: the confidence it is applied with.
    """

    rule: Rule
    head: int
    kind: Literal["path", "const_tail", "const_head"]
    chain: tuple[int, ...]
    constant: int = -1
    body_constant: int = -1
    confidence: float = 1.0


def _where(rule: Rule, source: str | None) -> str:
    """The rule for a message: its ``FILE:LINE`` when read from a file, else `source`."""
    return rule.where() if rule.origin or not source else f"{source}: {rule.where()}"


def _inv(d: int, R: int) -> int:
    return d - R if d >= R else d + R


def compile_rules(rules: Iterable[Rule], vocab: Vocabulary, source: str | None = None) -> list[CompiledRule]:
    """Compile rules against a vocabulary, in both orientations.

    Every rule yields two `CompiledRule`s: one for tail queries of its head relation
    and one for tail queries of the reciprocal relation (head prediction).

    Raises:
        UnknownNameError: a rule names a relation or entity the vocabulary lacks.
    """
    R = vocab.num_relations
    out: list[CompiledRule] = []
    for rule in rules:
        for name in sorted(rule.relations()):
            if name not in vocab.relation_to_id:
                err = UnknownNameError("relation", name, vocab.relations)
                err.args = (f"{_where(rule, source)}: {err}",)
                raise err
        h = vocab.relation_to_id[rule.head.relation]
        kind, chain = _shape(rule)
        if kind == "path":
            fwd = tuple(vocab.relation_to_id[r] + (R if inv else 0) for r, inv in chain)  # type: ignore[union-attr]
            bwd = tuple(_inv(d, R) for d in reversed(fwd))
            out.append(CompiledRule(rule, h, "path", fwd, confidence=rule.confidence))
            out.append(CompiledRule(rule, h + R, "path", bwd, confidence=rule.confidence))
            continue
        head = rule.head
        var, const = (head.subject, head.object) if isinstance(head.subject, Var) else (head.object, head.subject)
        hd = h if isinstance(head.subject, Var) else h + R  # hd(var, const)
        b = rule.body[0]
        b_id = vocab.relation_to_id[b.relation]
        step, other = (b_id, b.object) if b.subject == var else (b_id + R, b.subject)
        try:
            c_id = vocab.entity_id(const.name)  # type: ignore[union-attr]
            bc = vocab.entity_id(other.name) if isinstance(other, Const) else -1
        except UnknownNameError as err:
            err.args = (f"{_where(rule, source)}: {err}",)
            raise
        out.append(CompiledRule(rule, hd, "const_tail", (step,), c_id, bc, rule.confidence))
        out.append(CompiledRule(rule, _inv(hd, R), "const_head", (step,), c_id, bc, rule.confidence))
    return out


def with_confidence(rule: Rule, confidence: float) -> Rule:
    """A copy of `rule` applied with another confidence."""
    return replace(rule, confidence=confidence)
