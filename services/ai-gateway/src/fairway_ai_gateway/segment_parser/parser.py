"""The deterministic segment parser: segment.parse's answer when no LLM may or can answer.

It never guesses silently. Phrases (`phrases.py`) find the conditions; what lies between them must be connectives
("and", "or", "who", "with", ...), negations ("not", "excluding"), or words that carry no condition ("members",
"the"). Any other word is reported as not understood and the answer is marked `partial`, as is an answer with no
conditions at all: an empty criteria would be a segment of the whole club.

Structure, as a reader expects it: the conditions before a relative word ("who", "whose", "with", "that") describe
the people and apply to the whole ("Gold members who X or Y" is Gold AND (X OR Y)); after it, AND binds tighter than
OR ("X and Y or Z" is (X AND Y) OR Z). A negation applies to the condition that follows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fairway_ai_gateway.segment_parser.lexicon import normalise
from fairway_ai_gateway.segment_parser.phrases import PHRASES, Node, Unsupported
from fairway_schemas.criteria import FieldSpec, Group, Operator, Rule, validate_criteria
from fairway_schemas.criteria_eval import walk_rules
from fairway_schemas.criteria_text import describe

RELATIVE = {"who", "whom", "whose", "that", "which", "with", "having", "where", "whereby", ":",
            # the noun after the describing words ends the subject too: "Gold members at risk or inactive"
            "members", "golfers", "players", "people", "profiles", "contacts"}
AND_WORDS = {"and", ",", ";", "but", "also", "plus", "as well as", "both"}
OR_WORDS = {"or", "either"}
NEGATIONS = {"not", "no", "excluding", "except", "exclude", "without", "non", "never", "aren", "isn", "other than"}
FILLER = {
    "members", "member", "golfers", "golfer", "players", "player", "people", "persons", "person", "profiles",
    "profile", "customers", "customer", "contacts", "contact", "everyone", "everybody", "anyone", "those", "ones",
    "them", "they", "their", "the", "a", "an", "all", "any", "of", "in", "on", "for", "to", "from", "at", "by",
    "have", "has", "had", "been", "are", "is", "were", "was", "be", "do", "does", "did", "who", "list", "show",
    "me", "find", "get", "give", "select", "segment", "our", "club", "please", "currently", "still", "also",
    "only", "just", "i", "want", "need", "would", "like", "target", "audience", "send", "each", "every",
    "whose", "there", "here", "golf", "that", "which", "with", "having", "membership", "memberships", "one", "more", "already", "yet", "ever", "tier", "tiers", "level", "category", "stage",
}


@dataclass
class ParsedSegment:
    criteria: Group
    interpretation: str
    reading: str = ""
    assumptions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    partial: bool = False
    unparsed: list[str] = field(default_factory=list)


@dataclass
class _Atom:
    start: int
    end: int
    node: Node
    negated: bool = False


def negate(node: Node) -> Node:
    if isinstance(node, Rule):
        flip = {Operator.eq: Operator.neq, Operator.neq: Operator.eq, Operator.in_: Operator.notIn,
                Operator.notIn: Operator.in_, Operator.contains: Operator.notContains,
                Operator.notContains: Operator.contains, Operator.isNull: Operator.isNotNull,
                Operator.isNotNull: Operator.isNull}
        if node.operator in flip and not (isinstance(node.value, bool)):
            return Rule(field=node.field, operator=flip[node.operator], value=node.value)
    return Group(combinator="AND", not_=True, rules=[node])


# Who a person is comes before what they did, as the AI spec's examples write their rules.
ATTRIBUTES = {"status", "lifecycleStage", "membershipTier", "membershipStatus", "membershipExpiry", "memberSince",
              "emailOptIn", "smsOptIn", "pushOptIn", "whatsappOptIn", "handicap", "engagementScore",
              "churnRiskScore", "riskLevel", "lifetimeValue", "predictedClv", "valueSegment", "tags", "homeClub"}


def _is_attribute(node: Node) -> bool:
    return isinstance(node, Rule) and node.field in ATTRIBUTES


def _flatten(combinator: str, nodes: list[Node]) -> Node:
    if combinator == "AND":
        nodes = sorted(nodes, key=lambda n: not _is_attribute(n))  # stable: each kind keeps the query's order
    out: list[Node] = []
    for n in nodes:
        if isinstance(n, Group) and n.combinator == combinator and not n.not_:
            out.extend(n.rules)
        else:
            out.append(n)
    return out[0] if len(out) == 1 else Group(combinator=combinator, rules=out)  # type: ignore[arg-type]


class RuleParser:
    def __init__(self, catalogue: dict[str, FieldSpec]) -> None:
        self.catalogue = catalogue

    def parse(self, query: str) -> ParsedSegment:
        text = normalise(query)
        mask = list(text)
        atoms: list[_Atom] = []
        assumptions: list[str] = []
        unsupported: list[str] = []
        warnings: list[str] = []
        for phrase in PHRASES:
            for m in phrase.pattern.finditer("".join(mask)):
                try:
                    meaning = phrase.build(m)
                except Unsupported as exc:
                    unsupported.append(f"'{m.group(0).strip()}': {exc}")
                    self._take(mask, m.start(), m.end())
                    continue
                missing = sorted({r.field for r in walk_rules(_as_group(meaning.node))} - set(self.catalogue))
                if missing:
                    unsupported.append(f"'{m.group(0).strip()}' needs the field(s) {', '.join(missing)}, which "
                                       "this catalogue does not have")
                    self._take(mask, m.start(), m.end())
                    continue
                atoms.append(_Atom(m.start(), m.end(), meaning.node))
                if meaning.assumption and meaning.assumption not in assumptions:
                    assumptions.append(meaning.assumption)
                self._take(mask, m.start(), m.end())
        atoms.sort(key=lambda a: a.start)
        # Words inside phrases that were understood or reported are gone from the mask; the rest is the gaps.
        node, unknown = self._compose("".join(mask), atoms)
        unparsed = [*unsupported, *(f"'{u}'" for u in unknown)]
        partial = bool(unparsed) or node is None
        if node is None:
            criteria = Group(combinator="AND", rules=[])
            reading = "No conditions were understood."
            interpretation = ("The rule-based parser did not recognise any condition in this query, so it built no "
                              "rules. Rephrase it (e.g. 'Gold members who have not played in 30 days') or build "
                              "the segment in the editor.")
            warnings.append("No rules: a segment with no rules would hold every profile; this is not an answer.")
        else:
            criteria = node if isinstance(node, Group) and not node.not_ else Group(combinator="AND", rules=[node])
            errors = validate_criteria(criteria, self.catalogue)
            if errors:  # a phrase built something the catalogue refuses: report it, never return it as understood
                raise ValueError("; ".join(f"{e.path}: {e.message}" for e in errors))
            reading = describe(criteria, self.catalogue)
            interpretation = describe(criteria, self.catalogue, subject="Profiles")
        warnings.extend(unsupported)
        if partial and node is not None:
            warnings.append("Only part of the query was understood: check the parts listed as not understood "
                            "before saving this segment.")
            interpretation += ". Not understood: " + "; ".join(unparsed)
        return ParsedSegment(criteria=criteria, interpretation=interpretation, reading=reading,
                             assumptions=assumptions, warnings=warnings, partial=partial, unparsed=unparsed)

    @staticmethod
    def _take(mask: list[str], start: int, end: int) -> None:
        for i in range(start, end):
            mask[i] = "\0"

    def _compose(self, text: str, atoms: list[_Atom]) -> tuple[Node | None, list[str]]:
        """Combine the conditions by the words between them; return the words nobody used."""
        unknown: list[str] = []
        # Each atom: (node, joiner before it, negated?). Joiners: "and" / "or"; relative words split subject.
        items: list[tuple[Node, str]] = []
        split_at: int | None = None  # index of the first atom after a relative word
        bounds = [0] + [p for a in atoms for p in (a.start, a.end)] + [len(text)]
        for i in range(len(atoms) + 1):
            gap = text[bounds[2 * i]:bounds[2 * i + 1]]
            words = re.findall(r"[a-z0-9']+|[,;:]", gap)
            joiner, negated, relative, run = "and", False, False, []
            for w in words:
                if w in OR_WORDS:
                    joiner = "or"
                elif w in RELATIVE:
                    relative = True
                elif w in NEGATIONS:
                    negated = not negated
                elif w in AND_WORDS or w in FILLER:
                    pass
                else:
                    run.append(w)
                    continue
                if run:
                    unknown.append(" ".join(run))
                    run = []
            if run:
                unknown.append(" ".join(run))
            # "Gold members who ..." describes the people; "Gold members or members with ..." does not.
            if relative and joiner != "or" and split_at is None and 0 < i < len(atoms):
                split_at = i
            if i < len(atoms):
                node = atoms[i].node
                items.append((negate(node) if negated else node, joiner))
            elif negated:
                unknown.append("not")  # a negation with nothing after it
        if not items:
            return None, unknown
        split = split_at if split_at is not None and split_at > 0 else 0
        if any(joiner == "or" for _, joiner in items[1:split]):
            split = 0  # an "or" among the describing words: no common subject, plain precedence
        subject = [n for n, _ in items[:split]]
        predicate = items[split:]
        disjuncts: list[list[Node]] = [[]]
        for j, (n, joiner) in enumerate(predicate):
            if joiner == "or" and j > 0:
                disjuncts.append([])
            disjuncts[-1].append(n)
        ors = [_flatten("AND", d) for d in disjuncts if d]
        body = _flatten("OR", ors) if len(ors) > 1 else ors[0]
        return _flatten("AND", [*subject, body]), unknown


def _as_group(node: Node) -> Group:
    return node if isinstance(node, Group) else Group(combinator="AND", rules=[node])
