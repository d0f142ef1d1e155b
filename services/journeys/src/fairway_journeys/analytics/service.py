"""Per journey, version and step: entered, completed, waiting now, exited by reason, converted, median time in
step, sends by dispatch outcome, opens and clicks; and rule-based suggestions from them."""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy.ext.asyncio import AsyncSession

from fairway_journeys.analytics.repository import AnalyticsRepository
from fairway_journeys.analytics.schemas import Analytics, SendStats, StepStats, Suggestion, VersionStats
from fairway_journeys.definitions.model import ConditionStep, Definition, SendStep, SplitStep, WaitStep
from fairway_journeys.definitions.repository import JourneyRepository

DELIVERED = ("REQUESTED", "HELD")
MIN_SAMPLE = 20  # below this many, a rate says nothing


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


async def analytics(session: AsyncSession, tenant_id: str, journey_id: str) -> Analytics:
    repo = AnalyticsRepository(session, tenant_id)
    versions = {v.version: Definition.model_validate(v.definition)
                for v in await JourneyRepository(session, tenant_id).versions(journey_id)}
    out: dict[int, VersionStats] = {v: VersionStats(version=v) for v in versions}
    steps: dict[tuple[int, str], StepStats] = {}

    def step(v: int, sid: str, stype: str = "") -> StepStats:
        if (v, sid) not in steps:
            d = versions.get(v)
            s = d.step(sid) if d else None
            steps[(v, sid)] = StepStats(stepId=sid, stepType=stype or (s.type if s else "?"))
        return steps[(v, sid)]

    for r in await repo.runs(journey_id):
        vs = out.setdefault(r.version, VersionStats(version=r.version))
        vs.entered += r.n
        if r.status == "ACTIVE":
            vs.active += r.n
        elif r.status == "COMPLETED":
            vs.completed += r.n
        elif r.status == "CONVERTED":
            vs.converted += r.n
        else:
            vs.exited[r.end_reason or "UNKNOWN"] = vs.exited.get(r.end_reason or "UNKNOWN", 0) + r.n
    for r in await repo.steps(journey_id):
        s = step(r.version, r.step_id, r.step_type)
        s.entered, s.completed = r.entered, r.completed
        s.medianSecondsInStep = round(r.median_seconds, 3) if r.median_seconds is not None else None
    for r in await repo.outcomes(journey_id):
        if r.outcome not in ("exited", "converted"):
            step(r.version, r.step_id).branches[r.outcome] = r.n
    for r in await repo.waiting(journey_id):
        if r.step_id:
            step(r.version, r.step_id).waitingNow = r.n
    for r in await repo.ended_at(journey_id):
        if r.step_id:
            s = step(r.version, r.step_id)
            if r.status == "CONVERTED":
                s.converted += r.n
            else:
                s.exited[r.end_reason] = s.exited.get(r.end_reason, 0) + r.n
    for r in await repo.sends(journey_id):
        s = step(r.version, r.step_id)
        s.sends = s.sends or SendStats(channel=r.channel)
        s.sends.byOutcome[r.outcome] = s.sends.byOutcome.get(r.outcome, 0) + r.n
        if r.outcome in DELIVERED:
            s.sends.delivered += r.n
        s.sends.opens += r.opens
        s.sends.clicks += r.clicks
    by_version: dict[int, list[StepStats]] = defaultdict(list)
    for (v, _), s in steps.items():
        if s.sends:
            s.sends.openRate = _rate(s.sends.opens, s.sends.delivered)
            s.sends.clickRate = _rate(s.sends.clicks, s.sends.delivered)
        by_version[v].append(s)
    for v, vs in out.items():
        order = {st.id: i for i, st in enumerate(versions[v].steps)} if v in versions else {}
        vs.steps = sorted(by_version.get(v, []), key=lambda s: order.get(s.stepId, 10**6))
        vs.conversionRate = _rate(vs.converted, vs.entered)
    return Analytics(journeyId=journey_id, versions=[out[v] for v in sorted(out)])


def suggest(d: Definition, vs: VersionStats) -> list[Suggestion]:
    """The rules of the AI marketing spec's journey optimisation (4.1), on this version's figures."""
    out: list[Suggestion] = []
    by_id = {s.stepId: s for s in vs.steps}
    channel_rates: dict[str, list[float]] = defaultdict(list)
    for st in d.steps:
        s = by_id.get(st.id)
        if s is None or s.entered < MIN_SAMPLE:
            continue
        dropped = sum(s.exited.values())
        if isinstance(st, WaitStep) and dropped / s.entered > 0.2:
            out.append(Suggestion(
                type="TIMING", stepId=st.id, confidence=0.7,
                description=f"Shorten the WAIT {st.id!r} ({st.duration or st.timeout or st.kind})",
                evidence={"entered": s.entered, "exitedWhileWaiting": s.exited,
                          "dropOutRate": round(dropped / s.entered, 3)},
                expectedEffect=f"about {round(dropped / s.entered * 30)} % more runs reaching the next step"))
        if isinstance(st, SendStep) and s.sends and s.sends.delivered >= MIN_SAMPLE:
            rate = s.sends.openRate or 0.0
            channel_rates[st.channel].append(rate)
            if st.channel == "EMAIL" and rate < 0.15:
                out.append(Suggestion(
                    type="CONTENT", stepId=st.id, confidence=0.6,
                    description=f"Test new subject lines for {st.id!r} with an A/B SPLIT",
                    evidence={"delivered": s.sends.delivered, "opens": s.sends.opens, "openRate": rate},
                    expectedEffect="open rate towards the 20-25 % golf clubs typically see"))
            refused = sum(n for o, n in s.sends.byOutcome.items() if o in ("NO_CONSENT", "SUPPRESSED"))
            if refused / max(1, sum(s.sends.byOutcome.values())) > 0.3 and not st.notSent:
                out.append(Suggestion(
                    type="CHANNEL", stepId=st.id, confidence=0.65,
                    description=f"Add a 'not sent' branch to {st.id!r} on another channel",
                    evidence={"byOutcome": s.sends.byOutcome},
                    expectedEffect=f"reach up to {refused} more members who cannot get {st.channel}"))
        if isinstance(st, ConditionStep | SplitStep):
            labels = ["yes", "no"] if isinstance(st, ConditionStep) else [b.name for b in st.branches]
            for label in labels:
                if s.completed >= MIN_SAMPLE and s.branches.get(label, 0) == 0:
                    out.append(Suggestion(
                        type="BRANCHING", stepId=st.id, confidence=0.8,
                        description=f"Nobody takes the {label!r} branch of {st.id!r}: simplify or fix its rule",
                        evidence={"completed": s.completed, "branches": s.branches},
                        expectedEffect="a shorter journey with the same outcome"))
    if len(channel_rates) > 1:
        avg = {c: sum(r) / len(r) for c, r in channel_rates.items()}
        best = max(avg, key=lambda c: avg[c])
        for c, r in avg.items():
            if c != best and avg[best] > 1.5 * r:
                out.append(Suggestion(
                    type="CHANNEL", stepId=None, confidence=0.55, description=f"Prefer {best} over {c}",
                    evidence={"engagementRateByChannel": {k: round(v, 3) for k, v in avg.items()}},
                    expectedEffect=f"engagement rate from {r:.0%} towards {avg[best]:.0%}"))
    return out
