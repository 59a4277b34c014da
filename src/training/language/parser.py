"""Recursive-descent parser from caption text to a logical form (training.language.logic).

The grammar is the part of the ShapeWorld language seen in the shared example sets. A caption
that does not parse completely (e.g. "half as many red shapes as blue shapes are squares")
yields None: unsupported, never guessed.
"""
from __future__ import annotations

from fractions import Fraction

from training.language import lexicon as lx
from training.language.logic import (
    Connective, Description, Existential, Quantified, Relation, Selection, Statement,
)


class _Fail(Exception):
    """The words at the cursor do not fit the rule being tried."""


class _Cursor:
    def __init__(self, words: list[str]) -> None:
        self.words = words
        self.pos = 0

    def peek(self, offset: int = 0) -> str | None:
        i = self.pos + offset
        return self.words[i] if i < len(self.words) else None

    def at(self, phrase: str) -> bool:
        parts = phrase.split()
        return self.words[self.pos:self.pos + len(parts)] == parts

    def accept(self, phrase: str) -> bool:
        if self.at(phrase):
            self.pos += len(phrase.split())
            return True
        return False

    def expect(self, phrase: str) -> None:
        if not self.accept(phrase):
            raise _Fail(phrase)

    def accept_any(self, phrases) -> str | None:
        # longest first, so "to the left of" is not cut short by a shorter phrase
        for phrase in sorted(phrases, key=lambda p: -len(p.split())):
            if self.accept(phrase):
                return phrase
        return None

    def next(self) -> str:
        word = self.peek()
        if word is None:
            raise _Fail("end")
        self.pos += 1
        return word


def parse(caption: str) -> Statement | None:
    """The logical form of `caption`, or None if it is not in the supported language."""
    words = caption.split()
    if not words or words[-1] != ".":
        return None
    cursor = _Cursor(words[:-1])
    try:
        statement = _statement(cursor)
    except _Fail:
        return None
    return statement if cursor.pos == len(cursor.words) else None


def _statement(c: _Cursor) -> Statement:
    if c.accept("if"):
        antecedent = _simple(c)
        consequent = _simple(c)
        return Connective("implies", antecedent, consequent, prefix=True)
    left = _simple(c)
    if c.accept("if and only if"):
        return Connective("iff", left, _simple(c))
    if c.accept("if"):
        return Connective("implies", _simple(c), left)
    for word in ("and", "or"):
        if c.accept(word):
            return Connective(word, left, _simple(c))
    return left


def _simple(c: _Cursor) -> Statement:
    if c.accept("there is"):
        return Existential(None, _indefinite(c))
    if c.at("the"):
        return _selection(c)
    if c.peek() in ("a", "an"):
        return _predication(c)
    return _quantified(c)


# -- noun phrases ---------------------------------------------------------------------------

def _noun(c: _Cursor, plural: bool | None = False) -> str | None:
    """A shape noun or "shape": its singular shape name, or None for "shape"."""
    word = c.next()
    if plural is not False and word in lx.SINGULARS:
        word = lx.SINGULARS[word]
    elif plural is True or word not in lx.PLURALS:
        raise _Fail(word)
    return None if word == "shape" else word


def _bare_description(c: _Cursor, plural: bool | None = False) -> Description:
    """[colour] noun, without article: "red square", "shape", "blue shapes"."""
    color = c.next() if c.peek() in lx.COLORS else None
    return Description(color, _noun(c, plural))


def _indefinite(c: _Cursor) -> Description:
    """ "a red square", "an ellipse", "a shape", with the article matching the next word."""
    art = c.next()
    if art not in ("a", "an") or c.peek() is None or art != lx.article(c.peek()):
        raise _Fail(art)
    return _bare_description(c)


def _definite(c: _Cursor) -> Description:
    c.expect("the")
    return _bare_description(c)


# -- "a X is ..." ---------------------------------------------------------------------------

def _predication(c: _Cursor) -> Statement:
    subject = _indefinite(c)
    c.expect("is")
    negated = c.accept("not")
    for table in (lx.SPATIAL_RELATIONS, lx.DEPTH_RELATIONS, lx.ATTRIBUTE_RELATIONS,
                  lx.COMPARATIVE_RELATIONS):
        phrase = c.accept_any(table)
        if phrase:
            return Relation(subject, table[phrase], _indefinite(c), negated)
    phrase = c.accept_any(lx.DISTANCE_RELATIONS)
    if phrase:
        obj = _indefinite(c)
        c.expect("than")
        return Relation(subject, lx.DISTANCE_RELATIONS[phrase], obj, negated, _definite(c))
    if negated:
        raise _Fail("not")  # "a square is not red" is not part of the language
    return Existential(subject, _property(c))


def _property(c: _Cursor) -> Description:
    """What follows "is" in an attribution: "red", "a square", "a red shape" (not "a shape",
    which says nothing)."""
    if c.peek() in lx.COLORS:
        return Description(color=c.next())
    return _nonempty(_indefinite(c))


def _nonempty(d: Description) -> Description:
    if d.color is None and d.shape is None:
        raise _Fail("shape")
    return d


# -- selection: "the leftmost red shape is a square" -------------------------------------------

def _selection(c: _Cursor) -> Selection:
    """Only selection by an attribute ("the leftmost red shape", "the bigger square") is
    supported. "the red shape closest to the blue square" is not: no distance rule tried
    reproduces more than 86% of the shared labels, so such captions get None."""
    c.expect("the")
    selector = c.next()
    if selector not in lx.SELECTORS:
        raise _Fail(selector)
    target = _bare_description(c)
    c.expect("is")
    return Selection(selector, target, _property(c))


# -- quantifiers: "at least two red shapes are squares", "half the circles are gray" -----------

def _quantified(c: _Cursor) -> Quantified:
    comparison = c.accept_any(lx.COMPARISONS)
    if comparison is None:
        raise _Fail("quantifier")
    amount, amount_word = _amount(c)
    restrictor = _bare_description(c, plural=None)
    verb = c.next()
    if verb not in ("is", "are"):
        raise _Fail(verb)
    if verb == "is":
        body = _property(c)
    elif c.peek() in lx.COLORS and c.peek(1) not in lx.SINGULARS:
        body = Description(color=c.next())
    else:
        body = _nonempty(_bare_description(c, plural=True))
    return Quantified(comparison, amount, restrictor, body, amount_word)


def _amount(c: _Cursor) -> tuple[int | Fraction, str]:
    word = c.next()
    if word in lx.NUMBERS:
        number = lx.NUMBERS.index(word)
        noun = c.peek()
        if noun in lx.FRACTION_NOUNS and noun.endswith("s") and number > 1:
            c.next()
            c.expect("of the")
            return Fraction(number, lx.FRACTION_NOUNS[noun]), "ratio"
        return number, "number"
    if word == "no":
        return 0, "no"
    if word == "all":
        return Fraction(1), "ratio"
    if word == "half":
        c.expect("the")
        return Fraction(1, 2), "ratio"
    if word == "a" and c.peek() in ("third", "quarter"):
        denominator = lx.FRACTION_NOUNS[c.next()]
        c.expect("of the")
        return Fraction(1, denominator), "ratio"
    raise _Fail(word)
