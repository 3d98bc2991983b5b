"""The pure rule matcher (ledgersync_connector/sync/rules.py)."""

import random

import pytest

from ledgersync_connector.sync.rules import (
    Assignment,
    PatternError,
    RuleSpec,
    check_rule,
    compile_rules,
    decide,
    match_status,
    naive_match,
    normalize,
    parse_pattern,
    pattern_from_description,
    search_words,
)


def winner(specs, description, amount=-10.0, client_id=1, company_id=1):
    found = compile_rules(specs).match(description, amount, client_id, company_id)
    assert found == naive_match(specs, description, amount, client_id, company_id)
    return found and found.id


def test_normalize_folds_case_and_spaces():
    assert normalize("  Straße   COFFEE\tShop ") == "strasse coffee shop"
    assert normalize(None) == ""


def test_parse_pattern_alternatives():
    assert parse_pattern(" Amazon , AMZN MKTP,amazon,, ") == ("amazon", "amzn mktp")
    assert parse_pattern("uber**eats") == ("uber*eats",)
    with pytest.raises(PatternError) as raised:
        parse_pattern(" , ,")
    assert raised.value.code == "empty"


@pytest.mark.parametrize(
    "kind, pattern, description, expected",
    [
        ("contains", "coffee", "Blue Bottle COFFEE #12", True),
        ("contains", "coffee", "Blue Bottle Cofee", False),
        ("exact", "blue bottle", "BLUE  BOTTLE", True),
        ("exact", "blue bottle", "Blue Bottle Coffee", False),
        ("starts_with", "pos ", "POS Purchase", True),
        ("starts_with", "purchase", "POS Purchase", False),
        ("ends_with", "seattle wa", "Starbucks Seattle WA", True),
        ("ends_with", "seattle", "Starbucks Seattle WA", False),
        # wildcards
        ("contains", "uber*eats", "card UBER 123 EATS help", True),
        ("contains", "uber*eats", "EATS uber", False),
        ("exact", "amzn*", "AMZN Mktp US", True),
        ("exact", "amzn*us", "AMZN Mktp US x", False),
        ("starts_with", "sq *", "SQ *JOE'S CAFE", True),
        ("starts_with", "*cafe", "SQ *JOE'S CAFE", True),
        ("starts_with", "joe*cafe", "SQ *JOE'S CAFE", False),
        ("ends_with", "*cafe", "SQ *JOE'S CAFE", True),
        ("ends_with", "sq*joe", "SQ *JOE'S CAFE", False),
        # short alternatives (not indexed) and several alternatives
        ("contains", "ab", "GRAB TAXI", True),
        ("contains", "zz, taxi", "GRAB TAXI", True),
        ("exact", "x, grab taxi", "grab taxi", True),
        ("contains", "*", "anything", True),
    ],
)
def test_pattern_forms(kind, pattern, description, expected):
    spec = RuleSpec(id=1, pattern=pattern, kind=kind, company_id=1, partner_id=7)
    assert (winner([spec], description) == 1) is expected


def test_amount_sign_and_range():
    rules = [
        RuleSpec(1, "shop", amount_sign="out", amount_min=10, amount_max=100, company_id=1),
        RuleSpec(2, "shop", amount_sign="in", company_id=1),
        RuleSpec(3, "shop", amount_min=100.01, company_id=1),
    ]
    assert winner(rules, "Shop", -50) == 1
    assert winner(rules, "Shop", -100) == 1
    assert winner(rules, "Shop", -9.99) is None
    assert winner(rules, "Shop", 20) == 2
    assert winner(rules, "Shop", -500) == 3


def test_precedence_client_then_priority_then_id():
    rules = [
        RuleSpec(5, "coffee", priority=99, company_id=1),  # firm-wide, high priority
        RuleSpec(9, "coffee", priority=1, client_id=1, company_id=1),
        RuleSpec(8, "coffee", priority=1, client_id=1, company_id=1),
        RuleSpec(7, "coffee", priority=0, client_id=1, company_id=1),
        RuleSpec(3, "coffee", priority=50, client_id=2, company_id=1),  # another client
    ]
    assert winner(rules, "coffee") == 8  # client rule, priority 1, lower id
    assert winner(rules, "coffee", client_id=3) == 5  # no client rule: firm-wide
    assert winner(rules, "coffee", client_id=2) == 3
    # Firm-wide rules apply in their own company only.
    assert winner(rules, "coffee", client_id=3, company_id=2) is None


def test_check_rule_messages():
    with pytest.raises(PatternError) as raised:
        check_rule(RuleSpec(1, "x", amount_min=5, amount_max=1))
    assert raised.value.code == "range"
    with pytest.raises(PatternError) as raised:
        check_rule(RuleSpec(1, "x", amount_min=-1))
    assert raised.value.code == "negative_bound"
    with pytest.raises(PatternError) as raised:
        check_rule(RuleSpec(1, "x", kind="regex"))
    assert raised.value.code == "kind"


def test_matcher_agrees_with_naive_loop_on_random_data():
    rng = random.Random(4)
    words = ["amazon", "uber", "eats", "coffee", "pos", "shell", "ab", "zz", "rent", "gym"]
    kinds = ["contains", "exact", "starts_with", "ends_with"]
    specs = []
    for ident in range(1, 301):
        parts = rng.sample(words, rng.randint(1, 3))
        joiner = rng.choice([" ", "*", ", "])
        specs.append(
            RuleSpec(
                ident,
                joiner.join(parts),
                kind=rng.choice(kinds),
                priority=rng.randint(0, 3),
                client_id=rng.choice([None, 1, 2]),
                company_id=rng.choice([1, 2]),
                amount_sign=rng.choice(["any", "any", "in", "out"]),
            )
        )
    matcher = compile_rules(specs)
    for _ in range(2000):
        description = " ".join(rng.choice(words) for _ in range(rng.randint(1, 4)))
        amount = rng.choice([-20.0, 15.0])
        client_id, company_id = rng.choice([1, 2, 3]), rng.choice([1, 2])
        assert matcher.match(description, amount, client_id, company_id) == naive_match(
            specs, description, amount, client_id, company_id
        )


def test_decide_keeps_a_persons_value_and_clears_stale_ones():
    rule = RuleSpec(4, "x", partner_id=10, account_id=None)
    person = Assignment(partner_id=1, partner_source="person", account_id=2, account_source="rule")
    assert decide(person, rule, hint_partner_id=5, hint_account_id=6) == Assignment(
        1, "person", 6, "hint", 4
    )
    assert decide(Assignment(), rule, hint_partner_id=5) == Assignment(10, "rule", None, None, 4)
    stale = Assignment(partner_id=3, partner_source="rule", account_id=4, account_source="hint")
    assert decide(stale, None) == Assignment()
    # A value without a source (set before rules existed) is a person's.
    legacy = Assignment(partner_id=8, partner_source=None)
    assert decide(legacy, rule) == Assignment(8, "person", None, None, 4)


def test_match_status():
    assert match_status(None, None, None, None) == "unmatched"
    assert match_status(1, "rule", None, None) == "rule"
    assert match_status(1, "rule", 2, "hint") == "suggested"
    assert match_status(1, "person", 2, "person") == "manual"
    assert match_status(1, "person", 2, "rule") == "rule"
    # A source without a value does not count; a value without a source is a person's.
    assert match_status(None, "hint", 2, "person") == "manual"
    assert match_status(1, None, None, None) == "manual"


def test_search_words():
    assert search_words("Uber*Eats, AMZN MKTP") == ["uber", "amzn"]
    assert search_words("coffee, *") is None


def test_pattern_from_description():
    assert pattern_from_description("POS PURCHASE STAPLES #1234 BOSTON MA") == (
        "pos purchase staples #* boston ma"
    )
    assert pattern_from_description("ACME, INC 12/31") == "acme* inc */*"
    assert pattern_from_description("12 34, 56") == ""
    taught = pattern_from_description("SHELL OIL 42 HOUSTON")
    spec = RuleSpec(1, taught, kind="exact", company_id=1)
    assert winner([spec], "Shell Oil 7781 Houston") == 1
    assert winner([spec], "Shell Oil 7781 Houston TX") is None
