"""Vendors and GL accounts of transactions: rules and LedgerSync's hints, set-based.

An ``Assigner`` lives for one sync run (or one Re-apply): it compiles the rules of a
company once, and reads the company's vendors and GL accounts once, the first time a
transaction of that company needs them; every transaction then costs dictionary
look-ups only (sync/rules.py decides, without a query).
"""

from odoo.fields import Domain
from odoo.tools import SQL

from . import rules


def hint_key(text):
    """How a LedgerSync hint is compared: trimmed, case-insensitive."""
    return (text or "").strip().lower()


class Assigner:
    def __init__(self, env):
        self.env = env(su=True)
        self._matchers = {}  # company id -> rules.Matcher
        self._partners = {}  # company id -> ({ref: id}, {name: id})
        self._accounts = {}  # company id -> {code: id}

    def prime(self, company_id):
        """Compile the company's rules and read its vendors and GL accounts now."""
        self.matcher(company_id)
        if company_id not in self._partners:
            self._partners[company_id] = self._load_partners(company_id)
        if company_id not in self._accounts:
            self._accounts[company_id] = self._load_accounts(company_id)

    def matcher(self, company_id):
        if company_id not in self._matchers:
            company = self.env["res.company"].browse(company_id)
            self._matchers[company_id] = self.env["ledgersync.rule"]._matcher(company)
        return self._matchers[company_id]

    def hint_partner(self, company_id, vendor_name):
        """The vendor named by LedgerSync: by partner reference, then by name."""
        key = hint_key(vendor_name)
        if not key:
            return None
        if company_id not in self._partners:
            self._partners[company_id] = self._load_partners(company_id)
        by_ref, by_name = self._partners[company_id]
        return by_ref.get(key) or by_name.get(key)

    def hint_account(self, company_id, gl_code):
        """The GL account whose code LedgerSync gave."""
        key = hint_key(gl_code)
        if not key:
            return None
        if company_id not in self._accounts:
            self._accounts[company_id] = self._load_accounts(company_id)
        return self._accounts[company_id].get(key)

    def _load_partners(self, company_id):
        """{reference: id}, {name: id} of the partners usable in the company (the oldest
        wins a shared name); archived partners and the contacts of a company are left out."""
        Partner = self.env["res.partner"]
        company = self.env["res.company"].browse(company_id)
        query = Partner._search(
            Domain(Partner._check_company_domain(company)) & Domain("parent_id", "=", False),
            order="id",
        )
        by_ref, by_name = {}, {}
        for partner_id, ref, name in self.env.execute_query(
            query.select(
                SQL.identifier(query.table, "id"),
                SQL.identifier(query.table, "ref"),
                SQL.identifier(query.table, "name"),
            )
        ):
            if ref:
                by_ref.setdefault(hint_key(ref), partner_id)
            if name:
                by_name.setdefault(hint_key(name), partner_id)
        return by_ref, by_name

    def _load_accounts(self, company_id):
        company = self.env["res.company"].browse(company_id)
        Account = self.env["account.account"].with_company(company)
        accounts = Account.search_fetch(Account._check_company_domain(company), ["code"])
        return {hint_key(account.code): account.id for account in accounts.sorted("id")}

    def assign(self, row, current=None):
        """The ``rules.Assignment`` of one transaction and its match status.

        ``row``: (description, amount, client_id, company_id, vendor_name, gl_code);
        ``current``: its Assignment now (None: a new transaction).
        """
        description, amount, client_id, company_id, vendor_name, gl_code = row
        rule = self.matcher(company_id).match(description, amount, client_id, company_id)
        current = current or rules.Assignment()
        # Hints are looked up only where they may be used.
        hint_partner = hint_account = None
        if not (rule and rule.partner_id):
            hint_partner = self.hint_partner(company_id, vendor_name)
        if not (rule and rule.account_id):
            hint_account = self.hint_account(company_id, gl_code)
        decided = rules.decide(current, rule, hint_partner, hint_account)
        status = rules.match_status(
            decided.partner_id, decided.partner_source, decided.account_id, decided.account_source
        )
        return decided, status
