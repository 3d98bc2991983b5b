"""Matching rules: pure parsing, compiling and matching (no Odoo import).

A rule matches a transaction's description by a pattern: several alternatives separated
by commas, each compared case-insensitively (and with runs of spaces as one) in one of
four ways (``MATCH_KINDS``), ``*`` standing for any text. It may also require an amount
sign and a range of the absolute amount.

``compile_rules`` turns a rule set into a ``Matcher`` once; ``Matcher.match`` then costs
a few dictionary look-ups per transaction, whatever the number of rules: every
alternative is indexed by a trigram of the literal text it needs (or by its whole text,
for an exact one), and only the rules found that way are checked, best first:

1. a client's rules before firm-wide ones (``client_id`` set or not);
2. within a scope, the higher priority;
3. then the lower id (deterministic).

``NaiveMatcher`` checks every rule in that order: the reference of the tests and of
``bench/bench_rules.py``.

``decide`` and ``match_status`` say what a transaction's vendor and GL account become
once a rule and LedgerSync's hints are known, without overwriting a person's choice.
"""

import re
from dataclasses import dataclass

MATCH_KINDS = ("contains", "exact", "starts_with", "ends_with")
AMOUNT_SIGNS = ("any", "in", "out")  # in: money in (> 0), out: money out (< 0)
WILDCARD = "*"
GRAM = 3  # characters of the index keys

# Who set a transaction's vendor or GL account. A value without a source was set before
# rules existed, or by code: it is kept as a person's.
SOURCE_HINT = "hint"  # a LedgerSync hint resolved in Odoo: a suggestion
SOURCE_RULE = "rule"
SOURCE_PERSON = "person"
AUTOMATIC_SOURCES = frozenset({SOURCE_HINT, SOURCE_RULE})

_SPACES = re.compile(r"\s+")


class PatternError(ValueError):
    """A pattern that cannot match anything, or an invalid rule; ``code`` says which."""

    def __init__(self, code, detail=""):
        super().__init__(code, detail)
        self.code = code
        self.detail = detail


def normalize(text):
    """Text as rules compare it: case-folded, spaces collapsed, trimmed."""
    return _SPACES.sub(" ", (text or "").casefold()).strip()


def parse_pattern(pattern):
    """The normalized alternatives of a pattern, in order, duplicates removed.

    Raises PatternError("empty") when no alternative has any text.
    """
    alternatives = []
    for part in (pattern or "").split(","):
        text = normalize(part)
        # "**" is "*": it makes no difference to what matches.
        text = re.sub(r"\*{2,}", WILDCARD, text)
        if text and text not in alternatives:
            alternatives.append(text)
    if not alternatives:
        raise PatternError("empty", pattern or "")
    return tuple(alternatives)


def search_words(pattern):
    """One word per alternative that every text it matches contains (its longest), for a
    database pre-filter; None when an alternative has no word (it may match any text)."""
    words = []
    for alternative in parse_pattern(pattern):
        pieces = [word for piece in alternative.split(WILDCARD) for word in piece.split()]
        if not pieces:
            return None
        words.append(max(pieces, key=len))
    return words


def pattern_from_description(description):
    """The exact-match pattern a correction teaches: the normalized description, its
    digits (store numbers, dates, references) and commas (the pattern's separator) as
    ``*``; "" when nothing else is left."""
    text = re.sub(r"[\d,]+", WILDCARD, normalize(description))
    text = re.sub(r"\*(?:\s*\*)+", WILDCARD, text)
    return text if text.replace(WILDCARD, "").strip() else ""


@dataclass(frozen=True)
class RuleSpec:
    """What the matcher needs of a rule; amounts are compared as floats."""

    id: int
    pattern: str
    kind: str = "contains"
    priority: int = 0
    client_id: int | None = None  # None: firm-wide, for every client of company_id
    company_id: int | None = None
    amount_sign: str = "any"
    amount_min: float | None = None  # bounds of the absolute amount, None: open
    amount_max: float | None = None
    partner_id: int | None = None
    account_id: int | None = None

    def precedence(self):
        """Sort key: the smallest wins."""
        return (0 if self.client_id else 1, -self.priority, self.id)


def check_rule(spec):
    """Raise PatternError for a rule that cannot be compiled."""
    if spec.kind not in MATCH_KINDS:
        raise PatternError("kind", spec.kind)
    if spec.amount_sign not in AMOUNT_SIGNS:
        raise PatternError("sign", spec.amount_sign)
    for bound in (spec.amount_min, spec.amount_max):
        if bound is not None and bound < 0:
            raise PatternError("negative_bound", str(bound))
    if (
        spec.amount_min is not None
        and spec.amount_max is not None
        and spec.amount_min > spec.amount_max
    ):
        raise PatternError("range", f"{spec.amount_min} > {spec.amount_max}")
    parse_pattern(spec.pattern)


def _text_test(alternative, kind):
    """A function text -> bool for one normalized alternative."""
    if WILDCARD not in alternative:
        if kind == "exact":
            return alternative.__eq__
        if kind == "starts_with":
            return lambda text, a=alternative: text.startswith(a)
        if kind == "ends_with":
            return lambda text, a=alternative: text.endswith(a)
        return lambda text, a=alternative: a in text
    body = ".*".join(re.escape(piece) for piece in alternative.split(WILDCARD))
    regex = re.compile(body, re.DOTALL)
    if kind == "exact":
        return lambda text, r=regex: r.fullmatch(text) is not None
    if kind == "starts_with":
        return lambda text, r=regex: r.match(text) is not None
    if kind == "ends_with":
        regex = re.compile(f"(?:{body})\\Z", re.DOTALL)
    return lambda text, r=regex: r.search(text) is not None


def _amount_test(spec):
    """A function amount -> bool, or None when the rule takes any amount."""
    sign, low, high = spec.amount_sign, spec.amount_min, spec.amount_max
    if sign == "any" and low is None and high is None:
        return None

    def test(amount):
        amount = float(amount or 0.0)
        if (sign == "in" and amount <= 0) or (sign == "out" and amount >= 0):
            return False
        size = abs(amount)
        return (low is None or size >= low) and (high is None or size <= high)

    return test


class _Compiled:
    """One rule, ready to test: its precedence rank and its tests."""

    __slots__ = ("amount_test", "client_id", "company_id", "rank", "spec", "text_tests")

    def __init__(self, spec, rank):
        self.spec = spec
        self.rank = rank
        self.client_id = spec.client_id or None
        self.company_id = spec.company_id or None
        self.text_tests = tuple(_text_test(a, spec.kind) for a in parse_pattern(spec.pattern))
        self.amount_test = _amount_test(spec)

    def in_scope(self, client_id, company_id):
        if self.client_id is not None:
            return self.client_id == client_id
        return self.company_id is None or self.company_id == company_id

    def matches(self, text, amount):
        if self.amount_test is not None and not self.amount_test(amount):
            return False
        return any(test(text) for test in self.text_tests)


def _key_gram(alternative, index):
    """The trigram of the longest literal piece of ``alternative`` whose bucket in
    ``index`` is the smallest so far (spreads the candidates), or None when no piece has
    GRAM characters."""
    piece = max(alternative.split(WILDCARD), key=len)
    if len(piece) < GRAM:
        return None
    grams = {piece[i : i + GRAM] for i in range(len(piece) - GRAM + 1)}
    return min(sorted(grams), key=lambda gram: len(index.get(gram, ())))


class Matcher:
    """A compiled rule set. ``match`` returns the winning RuleSpec or None."""

    def __init__(self, specs):
        ordered = sorted(specs, key=RuleSpec.precedence)
        self.rules = [_Compiled(spec, rank) for rank, spec in enumerate(ordered)]
        self._exact = {}  # normalized text -> ranks (exact alternatives without "*")
        self._grams = {}  # trigram -> ranks
        self._always = []  # ranks to check for every transaction
        for rule in self.rules:
            for alternative in parse_pattern(rule.spec.pattern):
                if rule.spec.kind == "exact" and WILDCARD not in alternative:
                    self._exact.setdefault(alternative, []).append(rule.rank)
                    continue
                gram = _key_gram(alternative, self._grams)
                if gram is None:
                    self._always.append(rule.rank)
                else:
                    self._grams.setdefault(gram, []).append(rule.rank)
        self._always = sorted(set(self._always))

    def __len__(self):
        return len(self.rules)

    def match(self, description, amount, client_id=None, company_id=None):
        text = normalize(description)
        grams = self._grams
        candidates = set(self._always)
        candidates.update(self._exact.get(text, ()))
        for i in range(len(text) - GRAM + 1):
            ranks = grams.get(text[i : i + GRAM])
            if ranks:
                candidates.update(ranks)
        if not candidates:
            return None
        rules = self.rules
        for rank in sorted(candidates):
            rule = rules[rank]
            if rule.in_scope(client_id, company_id) and rule.matches(text, amount):
                return rule.spec
        return None


def compile_rules(specs):
    """A Matcher for ``specs`` (each checked first: PatternError on a bad one)."""
    specs = list(specs)
    for spec in specs:
        check_rule(spec)
    return Matcher(specs)


class NaiveMatcher:
    """The same rules, checked one by one in precedence order for every transaction."""

    def __init__(self, specs):
        ordered = sorted(specs, key=RuleSpec.precedence)
        self.rules = [_Compiled(spec, rank) for rank, spec in enumerate(ordered)]

    def match(self, description, amount, client_id=None, company_id=None):
        text = normalize(description)
        for rule in self.rules:
            if rule.in_scope(client_id, company_id) and rule.matches(text, amount):
                return rule.spec
        return None


def naive_match(specs, description, amount, client_id=None, company_id=None):
    """The winning rule by checking every rule in precedence order (no index)."""
    return NaiveMatcher(specs).match(description, amount, client_id, company_id)


# --------------------------------------------------------------------------- decisions


@dataclass(frozen=True)
class Assignment:
    """A transaction's vendor and GL account, who set each, and the rule that matched."""

    partner_id: int | None = None
    partner_source: str | None = None
    account_id: int | None = None
    account_source: str | None = None
    rule_id: int | None = None


def _field(current_value, current_source, rule_value, hint_value):
    if current_value and current_source not in AUTOMATIC_SOURCES:
        return current_value, current_source or SOURCE_PERSON
    if rule_value:
        return rule_value, SOURCE_RULE
    if hint_value:
        return hint_value, SOURCE_HINT
    return None, None


def decide(current, rule, hint_partner_id=None, hint_account_id=None):
    """What a transaction's Assignment becomes with the winning ``rule`` (or None) and
    the resolved hints: a person's value is kept, then the rule's, then the hint's; a
    value that a rule or a hint set earlier and that none sets now is cleared."""
    partner_id, partner_source = _field(
        current.partner_id,
        current.partner_source,
        rule.partner_id if rule else None,
        hint_partner_id,
    )
    account_id, account_source = _field(
        current.account_id,
        current.account_source,
        rule.account_id if rule else None,
        hint_account_id,
    )
    return Assignment(
        partner_id, partner_source, account_id, account_source, rule.id if rule else None
    )


def match_status(partner_id, partner_source, account_id, account_source):
    """matched by a rule, set by hand, suggested (a value that only a hint set) or
    unmatched (neither vendor nor GL account)."""
    sources = [
        source or SOURCE_PERSON
        for value, source in ((partner_id, partner_source), (account_id, account_source))
        if value
    ]
    if not sources:
        return "unmatched"
    if SOURCE_HINT in sources:
        return "suggested"
    return "rule" if SOURCE_RULE in sources else "manual"
