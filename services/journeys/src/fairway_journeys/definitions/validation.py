"""Checks a definition before it is saved: every path ends, no step is unreachable, no cycle lacks a WAIT, every
CONDITION names catalogue fields, every SEND has its content. Pure: no storage, tested directly.

Each problem names the step and the path of the part at fault, so the API's 422 says exactly what to fix.
"""
from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, ValidationError

from fairway_journeys.definitions.events import REACTIVE
from fairway_journeys.definitions.model import (
    ConditionStep,
    Definition,
    EndStep,
    EventTrigger,
    SendStep,
    SplitStep,
    UpdateStep,
    WaitStep,
    successors,
)
from fairway_journeys.readmodel.fields import CATALOGUE
from fairway_schemas.criteria import check_criteria

# Staff-editable profile attributes an UPDATE step may set (identity applies them; it owns the profile).
EDITABLE_ATTRIBUTES = frozenset({"homeClub", "lifecycleStage"})  # what identity accepts in a command


class Problem(BaseModel):
    model_config = ConfigDict(frozen=True)
    step: str | None  # the step at fault, None for the journey as a whole
    field: str  # path inside the definition, e.g. "steps[2].criteria.rules[0].field"
    message: str


class InvalidDefinition(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


def parse(raw: Any) -> Definition:
    """Raw JSON to a Definition, or InvalidDefinition naming each malformed part (and its step when known)."""
    try:
        return Definition.model_validate(raw)
    except ValidationError as exc:
        steps = raw.get("steps") if isinstance(raw, dict) else None
        problems = []
        for err in exc.errors():
            loc = [p for p in err["loc"] if not (isinstance(p, str) and p[:1].isupper())]  # drop union tags
            step = None
            if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int) and isinstance(steps, list):
                item = steps[loc[1]] if loc[1] < len(steps) else None
                step = item.get("id") if isinstance(item, dict) else None
            path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
            problems.append(Problem(step=step, field=path or "<root>", message=err["msg"]))
        raise InvalidDefinition(_unique(problems)) from None


def _unique(problems: list[Problem]) -> list[Problem]:
    seen: dict[tuple[str | None, str], Problem] = {}
    for p in problems:
        seen.setdefault((p.step, p.field), p)
    return list(seen.values())


def validate(d: Definition) -> list[Problem]:
    problems: list[Problem] = []
    index = {s.id: i for i, s in enumerate(d.steps)}
    if len(index) != len(d.steps):
        seen: set[str] = set()
        for i, s in enumerate(d.steps):
            if s.id in seen:
                problems.append(Problem(step=s.id, field=f"steps[{i}].id", message=f"step id {s.id!r} is used twice"))
            seen.add(s.id)
        return problems
    problems += _journey_level(d, index)
    edges: dict[str, list[str]] = {}
    for i, s in enumerate(d.steps):
        problems += _step(d, s, i, index)
        targets = []
        for label, target in successors(s):
            if target is None:
                problems.append(Problem(step=s.id, field=f"steps[{i}].{label}",
                                        message=f"{s.type} step {s.id!r} has no next step on '{label}': "
                                                "every path must end at an END step"))
            elif target not in index:
                problems.append(Problem(step=s.id, field=f"steps[{i}].{label}",
                                        message=f"step {s.id!r} leads to unknown step {target!r}"))
            else:
                targets.append(target)
        edges[s.id] = targets
    if d.first not in index:
        return [*problems, Problem(step=None, field="start", message=f"start step {d.first!r} does not exist")]
    problems += _graph(d, index, edges)
    return problems


def _journey_level(d: Definition, index: dict[str, int]) -> list[Problem]:
    out: list[Problem] = []
    try:
        ZoneInfo(d.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        out.append(Problem(step=None, field="timezone", message=f"unknown time zone {d.timezone!r}"))
    t = d.trigger
    if isinstance(t, EventTrigger):
        if t.eventType not in REACTIVE:
            out.append(Problem(step=None, field="trigger.eventType",
                               message=f"journeys cannot start on {t.eventType!r} (known: {', '.join(sorted(REACTIVE))})"))
        if t.eventType == "segment.member_entered" and not t.segmentId:
            out.append(Problem(step=None, field="trigger.segmentId",
                               message="a segment.member_entered trigger names its segment"))
        if t.eventType == "score.updated" and (t.scoreField is None or t.crosses is None or t.threshold is None):
            out.append(Problem(step=None, field="trigger.threshold",
                               message="a score.updated trigger needs scoreField, crosses and threshold"))
    if d.goal is not None and d.goal.eventType not in REACTIVE:
        out.append(Problem(step=None, field="goal.eventType", message=f"unknown goal event {d.goal.eventType!r}"))
    if d.exit.onSegmentExit and not d.entry.segmentId:
        out.append(Problem(step=None, field="exit.onSegmentExit", message="exit on segment exit needs entry.segmentId"))
    return out


def _step(d: Definition, s: Any, i: int, index: dict[str, int]) -> list[Problem]:
    p = f"steps[{i}]"
    out: list[Problem] = []

    def bad(field: str, message: str) -> None:
        out.append(Problem(step=s.id, field=f"{p}.{field}", message=message))

    if isinstance(s, SendStep):
        has_body = s.content is not None and bool((s.content.body or "").strip())
        if not s.templateId and not has_body:
            bad("content", f"SEND step {s.id!r} has neither a templateId nor content with a body")
        if s.channel == "EMAIL" and not s.templateId and has_body and not (s.content and s.content.subject):
            bad("content.subject", f"EMAIL step {s.id!r} with written content needs a subject")
    elif isinstance(s, WaitStep):
        need = {"duration": ["duration"], "time_of_day": ["at"], "date_attribute": ["attribute"],
                "event": ["eventType", "timeout"]}[s.kind]
        for f in need:
            if getattr(s, f) is None:
                bad(f, f"a WAIT of kind {s.kind!r} needs {f}")
        if s.kind == "event":
            if s.eventType is not None and s.eventType not in REACTIVE:
                bad("eventType", f"cannot wait for {s.eventType!r}")
            if s.ofStep is not None:
                target = d.steps[index[s.ofStep]] if s.ofStep in index else None
                if not isinstance(target, SendStep):
                    bad("ofStep", f"ofStep {s.ofStep!r} is not a SEND step of this journey")
                elif s.eventType in REACTIVE and not REACTIVE[s.eventType].message:
                    bad("eventType", f"{s.eventType!r} is not about one message, so it cannot name ofStep")
        elif s.kind == "duration" and s.duration and s.duration.strip().startswith("-"):
            bad("duration", "a WAIT duration cannot be negative")
    elif isinstance(s, ConditionStep):
        _, errors = check_criteria(s.criteria, CATALOGUE)
        for e in errors:
            bad(f"criteria.{e.path}" if e.path != "<root>" else "criteria", e.message)
    elif isinstance(s, UpdateStep):
        if not (s.addTags or s.removeTags or s.attributes):
            bad("addTags", f"UPDATE step {s.id!r} changes nothing")
        for k in s.attributes:
            if k not in EDITABLE_ATTRIBUTES:
                bad(f"attributes.{k}", f"{k!r} is not a staff-editable attribute "
                                       f"({', '.join(sorted(EDITABLE_ATTRIBUTES))})")
    elif isinstance(s, SplitStep):
        names = [b.name for b in s.branches]
        if len(set(names)) != len(names):
            bad("branches", "branch names must be unique")
    return out


def _graph(d: Definition, index: dict[str, int], edges: dict[str, list[str]]) -> list[Problem]:
    out: list[Problem] = []
    reachable = _reach(d.first, edges)
    for s in d.steps:
        if s.id not in reachable:
            out.append(Problem(step=s.id, field=f"steps[{index[s.id]}]",
                               message=f"step {s.id!r} is unreachable from the start step {d.first!r}"))
    ends = {s.id for s in d.steps if isinstance(s, EndStep)}
    for s in d.steps:
        if s.id in reachable and not (_reach(s.id, edges) & ends):
            out.append(Problem(step=s.id, field=f"steps[{index[s.id]}]",
                               message=f"no path from step {s.id!r} reaches an END step"))
    waits = {s.id for s in d.steps if isinstance(s, WaitStep)}
    without_waits = {k: [t for t in v if t not in waits] for k, v in edges.items() if k not in waits}
    for cycle in _cycles(without_waits):
        first = min(cycle, key=lambda x: index[x])
        out.append(Problem(step=first, field=f"steps[{index[first]}]",
                           message=f"steps {' -> '.join(cycle)} form a cycle without a WAIT step"))
    return out


def _reach(start: str, edges: dict[str, list[str]]) -> set[str]:
    seen, stack = {start}, [start]
    while stack:
        for t in edges.get(stack.pop(), []):
            if t not in seen:
                seen.add(t)
                stack.append(t)
    return seen


def _cycles(edges: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components with a cycle (Tarjan), each in visiting order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, []):
            if w not in edges:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in edges.get(v, []):
                out.append(list(reversed(comp)))

    for v in edges:
        if v not in index:
            visit(v)
    return out


def check(raw: Any) -> Definition:
    """Parse and validate; raises InvalidDefinition with every problem found."""
    d = parse(raw)
    problems = validate(d)
    if problems:
        raise InvalidDefinition(problems)
    return d
