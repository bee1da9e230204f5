"""The text syntax of EFO-1 formulas: a hand-written tokenizer, a recursive-descent parser, a printer.

Grammar (white space is free between tokens)::

    formula     := "?" VAR ":" [ "exists" VAR ("," VAR)* "." ] disjunction
    disjunction := conjunction ("|" conjunction)*
    conjunction := "(" literals ")" | literals
    literals    := literal ("&" literal)*
    literal     := atom | "!" atom | "!" "(" "exists" VAR ("," VAR)* "." atom ("&" atom)* ")"
    atom        := NAME "(" term "," term ")"
    term        := "?" VAR | NAME

* ``VAR`` is ``[A-Za-z_][A-Za-z0-9_]*``; ``?y`` is the free variable, there is exactly one.
* ``NAME`` (relations and constants) is a local name: letters (any script), digits and
  ``_ . : -``, not starting with ``.`` or ``:`` and not ending with ``.`` or ``:`` (``locatedin``,
  ``saint_barthélemy``, ``person100``, ``urn:x:y``); or an IRI in angle brackets
  (``<http://example.org/a>``); or a double-quoted string with ``\\"`` and ``\\\\`` escapes,
  for any other name (white space, ``(``, a name that equals a variable, ...).
* In atom arguments, a bare name declared by ``exists`` (or by its negated block) is that
  variable; every other name is a constant. Quote a constant that has a variable's name.

Example: ``?y : exists x . locatedin(x, europe) & neighbor(x, ?y) & !locatedin(?y, europe)``.

Errors are `ParseError("<formula>", 1, reason, column=col)` with the 1-based column of the
offending token. `format_formula` prints a formula so that ``parse_formula(format_formula(f))
== f`` for every valid `Formula`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nesykg.errors import InputError, ParseError
from nesykg.reasoners.logic.formula import Atom, Conjunction, Const, Formula, Literal, NotExists, Term, Var

__all__ = ["format_formula", "format_name", "parse_formula"]

SOURCE = "<formula>"

_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A local name: word characters (any script) and . : - ; not starting with '.', not ending in '.' or ':'.
_NAME = re.compile(r"[\w-](?:[\w.:-]*[\w-])?")
_NAME_FULL = re.compile(r"(?:[\w-](?:[\w.:-]*[\w-])?)\Z")
_IRI_OK = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\x00-\x20<>\"{}|^`\\]*\Z")
_PUNCT = {"(", ")", ",", ".", "&", "|", "!", ":"}
_KEYWORD = "exists"


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # NAME | VAR (?x) | QNAME (quoted or <iri>) | a punctuation character | EOF
    text: str
    col: int  # 1-based


def _error(col: int, reason: str) -> ParseError:
    return ParseError(SOURCE, 1, reason, column=col)


def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        col = i + 1
        if c in _PUNCT:
            toks.append(_Tok(c, c, col))
            i += 1
        elif c == "?":
            m = _VAR.match(text, i + 1)
            if not m:
                raise _error(col, "expected a variable name after '?'")
            toks.append(_Tok("VAR", m.group(), col))
            i = m.end()
        elif c == "<":
            j = text.find(">", i + 1)
            if j < 0:
                raise _error(col, "unterminated IRI: missing '>'")
            iri = text[i + 1 : j]
            bad = re.search(r"[\x00-\x20<\"{}|^`\\]", iri)
            if not iri or bad:
                raise _error(col, f"invalid IRI <{iri}>: empty or holds a forbidden character")
            toks.append(_Tok("QNAME", iri, col))
            i = j + 1
        elif c == '"':
            out: list[str] = []
            j = i + 1
            while True:
                if j >= n:
                    raise _error(col, "unterminated quoted name: missing '\"'")
                d = text[j]
                if d == "\\":
                    if j + 1 >= n or text[j + 1] not in '"\\':
                        raise _error(j + 1, 'invalid escape in a quoted name: use \\" or \\\\')
                    out.append(text[j + 1])
                    j += 2
                elif d == '"':
                    break
                else:
                    out.append(d)
                    j += 1
            if not out:
                raise _error(col, "empty quoted name")
            toks.append(_Tok("QNAME", "".join(out), col))
            i = j + 1
        else:
            m = _NAME.match(text, i)
            if not m:
                raise _error(col, f"unexpected character {c!r}")
            toks.append(_Tok("NAME", m.group(), col))
            i = m.end()
    toks.append(_Tok("EOF", "", n + 1))
    return toks


class _Parser:
    def __init__(self, text: str):
        self.toks = _tokenize(text)
        self.i = 0
        self.free = ""
        self.scope: set[str] = set()

    # ------------------------------------------------------------ helpers
    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def peek(self, k: int = 1) -> _Tok:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def take(self) -> _Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def expect(self, kind: str, what: str) -> _Tok:
        t = self.tok
        if t.kind != kind:
            raise _error(t.col, f"expected {what}, found {_show(t)}")
        return self.take()

    def at_exists(self) -> bool:
        return self.tok.kind == "NAME" and self.tok.text == _KEYWORD and self.peek().kind == "NAME"

    def split_dot(self) -> None:
        """``exists x.r(...)``: the tokenizer read ``x.r`` as one name; split it at the first dot."""
        t = self.tok
        head, dot, rest = t.text.partition(".")
        if t.kind == "NAME" and dot and _VAR.fullmatch(head):
            split = [_Tok("NAME", head, t.col), _Tok(".", ".", t.col + len(head))]
            if rest:
                split.append(_Tok("NAME", rest, t.col + len(head) + 1))
            self.toks[self.i : self.i + 1] = split

    def var_list(self) -> list[tuple[str, int]]:
        names = []
        while True:
            self.split_dot()
            t = self.tok
            if t.kind != "NAME" or not _VAR.fullmatch(t.text):
                raise _error(t.col, f"expected a variable name ([A-Za-z_][A-Za-z0-9_]*), found {_show(t)}")
            names.append((t.text, t.col))
            self.take()
            if self.tok.kind != ",":
                break
            self.take()
        self.expect(".", "'.' after the quantified variables")
        return names

    # ------------------------------------------------------------ grammar
    def formula(self) -> Formula:
        t = self.tok
        if t.kind != "VAR":
            raise _error(t.col, f"a formula starts with its free variable, e.g. '?y :', found {_show(t)}")
        self.free = self.take().text
        if self.tok.kind == "," and self.peek().kind == "VAR":
            t = self.peek()
            raise _error(t.col, f"second free variable ?{t.text}: an EFO-1 query has one free variable")
        self.expect(":", "':' after the free variable")
        exists: list[str] = []
        if self.at_exists():
            self.take()
            for name, col in self.var_list():
                if name == self.free or name in exists:
                    raise _error(col, f"variable {name} is declared twice")
                exists.append(name)
        self.scope = set(exists)
        cols = [self.tok.col]
        disjuncts = [self.conjunction()]
        while self.tok.kind == "|":
            self.take()
            cols.append(self.tok.col)
            disjuncts.append(self.conjunction())
        if self.tok.kind != "EOF":
            raise _error(
                self.tok.col, f"expected '&', '|' or the end of the formula, found {_show(self.tok)}"
            )
        try:
            return Formula(self.free, tuple(exists), tuple(disjuncts))
        except InputError as e:
            # point at the conjunction the reason names (the first one when there is one)
            m = re.search(r"conjunction (\d+)", str(e))
            k = int(m.group(1)) - 1 if m and int(m.group(1)) <= len(cols) else 0
            raise _error(cols[k], str(e)) from None

    def conjunction(self) -> Conjunction:
        start = self.tok
        if start.kind == "(":
            self.take()
            lits = self.literals()
            self.expect(")", "')' closing the conjunction")
        else:
            lits = self.literals()
        try:
            return Conjunction(tuple(lits))
        except InputError as e:
            raise _error(start.col, str(e)) from None

    def literals(self) -> list[Literal]:
        lits = [self.literal()]
        while self.tok.kind == "&":
            self.take()
            lits.append(self.literal())
        return lits

    def literal(self) -> Literal:
        if self.tok.kind != "!":
            return self.atom(negated=False)
        bang = self.take()
        if self.tok.kind != "(":
            return self.atom(negated=True)
        self.take()
        if not self.at_exists():
            raise _error(
                self.tok.col, "a negated block reads !(exists z . atoms); write !r(s, o) to negate one atom"
            )
        self.take()
        local = self.var_list()
        names = [n for n, _ in local]
        for name, col in local:
            if name == self.free or name in self.scope or names.count(name) > 1:
                raise _error(col, f"variable {name} of a negated block is already declared")
        outer = self.scope
        self.scope = outer | set(names)
        atoms = [self.atom(negated=False)]
        while self.tok.kind == "&":
            self.take()
            if self.tok.kind == "!":
                raise _error(self.tok.col, "a negated block holds positive atoms only")
            atoms.append(self.atom(negated=False))
        self.scope = outer
        self.expect(")", "')' closing the negated block")
        try:
            return NotExists(tuple(names), tuple(atoms))
        except InputError as e:
            raise _error(bang.col, str(e)) from None

    def atom(self, negated: bool) -> Atom:
        t = self.tok
        if t.kind not in ("NAME", "QNAME"):
            raise _error(t.col, f"expected an atom relation(subject, object), found {_show(t)}")
        rel = self.take().text
        self.expect("(", f"'(' after the relation {rel}")
        s = self.term()
        self.expect(",", "',' between the two arguments of an atom")
        o = self.term()
        self.expect(")", "')' closing the atom (atoms are binary)")
        return Atom(rel, s, o, negated)

    def term(self) -> Term:
        t = self.tok
        if t.kind == "VAR":
            if t.text != self.free:
                raise _error(t.col, f"second free variable ?{t.text}: the free variable is ?{self.free}")
            self.take()
            return Var(t.text)
        if t.kind == "NAME":
            self.take()
            return Var(t.text) if t.text in self.scope else Const(t.text)
        if t.kind == "QNAME":
            self.take()
            return Const(t.text)
        raise _error(t.col, f"expected a constant or a variable, found {_show(t)}")


def _show(t: _Tok) -> str:
    if t.kind == "EOF":
        return "the end of the formula"
    if t.kind == "VAR":
        return f"'?{t.text}'"
    return repr(t.text)


def parse_formula(text: str) -> Formula:
    """Parse the text syntax into a `Formula`.

    Raises:
        ParseError: with the column of the offending token (``<formula>:1:COL: reason``).
    """
    if not isinstance(text, str):
        raise InputError(f"a formula is text, got {type(text).__name__}")
    if not text.strip():
        raise _error(1, "empty formula")
    return _Parser(text).formula()


# ------------------------------------------------------------------ printing
def format_name(name: str, reserved: frozenset[str] | set[str] = frozenset()) -> str:
    """A relation or constant name as it is written: bare, ``<iri>`` or ``"quoted"``.

    Names in `reserved` (variables in scope) and the keyword ``exists`` are quoted.
    """
    if _NAME_FULL.match(name) and name not in reserved and name != _KEYWORD:
        return name
    if _IRI_OK.match(name):
        return f"<{name}>"
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _term(t: Term, free: str, scope: set[str]) -> str:
    if isinstance(t, Var):
        return f"?{t.name}" if t.name == free else t.name
    return format_name(t.name, scope)


def _atom(a: Atom, free: str, scope: set[str]) -> str:
    neg = "!" if a.negated else ""
    rel = format_name(a.relation)
    return f"{neg}{rel}({_term(a.subject, free, scope)}, {_term(a.object, free, scope)})"


def _literal(lit: Literal, free: str, scope: set[str]) -> str:
    if isinstance(lit, Atom):
        return _atom(lit, free, scope)
    inner = scope | set(lit.variables)
    body = " & ".join(_atom(a, free, inner) for a in lit.atoms)
    return f"!(exists {', '.join(lit.variables)} . {body})"


def format_formula(f: Formula) -> str:
    """The text syntax of `f`; `parse_formula` reads it back to an equal formula."""
    for v in (f.free, *f.exists):
        if not _VAR.fullmatch(v):
            raise InputError(f"variable name {v!r} cannot be written: use [A-Za-z_][A-Za-z0-9_]*")
    for lit in (lit for c in f.disjuncts for lit in c.literals):
        if isinstance(lit, NotExists):
            for v in lit.variables:
                if not _VAR.fullmatch(v):
                    raise InputError(f"variable name {v!r} cannot be written: use [A-Za-z_][A-Za-z0-9_]*")
    scope = set(f.exists)
    head = f"?{f.free} : " + (f"exists {', '.join(f.exists)} . " if f.exists else "")
    conj = [" & ".join(_literal(lit, f.free, scope) for lit in c.literals) for c in f.disjuncts]
    if len(conj) == 1:
        return head + conj[0]
    return head + " | ".join(f"({c})" for c in conj)
