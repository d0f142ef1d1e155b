"""Wiring only: which routers, consumers, jobs and background work make up the campaigns service."""
from pathlib import Path

from fastapi import FastAPI

from fairway_campaigns import bootstrap
from fairway_campaigns.abtests import jobs as _abtest_jobs  # noqa: F401  (registers the task)
from fairway_campaigns.approvals import jobs as _approval_jobs  # noqa: F401
from fairway_campaigns.approvals.endpoints import router as approvals_router
from fairway_campaigns.audience import handlers as audience
from fairway_campaigns.campaigns import jobs as _campaign_jobs  # noqa: F401
from fairway_campaigns.campaigns.endpoints import router as campaigns_router
from fairway_campaigns.dispatch import handlers as dispatch_requests
from fairway_campaigns.dispatch import jobs as _dispatch_jobs  # noqa: F401  (registers the release task)
from fairway_campaigns.dispatch.endpoints import router as dispatch_router
from fairway_campaigns.dispatch.service import DispatchService
from fairway_campaigns.jobs import registry
from fairway_campaigns.promotions import handlers as promotions
from fairway_campaigns.promotions import jobs as _promotion_jobs  # noqa: F401  (registers the step task)
from fairway_campaigns.promotions.endpoints import router as promotions_router
from fairway_campaigns.results.endpoints import router as results_router
from fairway_campaigns.results.handlers import HANDLED as RESULT_EVENTS
from fairway_campaigns.results.handlers import TOPICS as RESULT_TOPICS
from fairway_campaigns.results.handlers import handle as handle_results
from fairway_campaigns.sending import jobs as _sending_jobs  # noqa: F401  (registers the task)
from fairway_campaigns.sending.endpoints import router as sending_router
from fairway_campaigns.settings import Settings
from fairway_campaigns.state import CampaignsState
from fairway_chassis import (
    Clock,
    ConsumerSpec,
    ServiceDefinition,
    SystemClock,
    create_service,
    serve,
    state_consumer,
)
from fairway_events.state_readers import StateReader

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: Settings | None = None, *, clock: Clock | None = None,
               dispatch: DispatchService | None = None) -> FastAPI:
    settings = settings or Settings()
    clock = clock or SystemClock()
    dispatch = dispatch or DispatchService()
    promotion_events = promotions.PromotionEvents(dispatch, registry, clock)
    state = CampaignsState(clock=clock, batch_size=settings.fanout_batch_size, dispatch=dispatch,
                           ai_timeout_seconds=settings.ai_timeout_seconds)
    audience_handler = audience.AudienceHandler()
    return create_service(
        ServiceDefinition(
            name="campaigns",
            settings=settings,
            migrations_dir=MIGRATIONS,
            description="Campaigns, scheduling, A/B tests, send-time optimisation, event promotion, content approval.",
            routers=[campaigns_router, sending_router, results_router, approvals_router, dispatch_router,
                     promotions_router],
            consumers=[
                ConsumerSpec(name="campaigns.results", topics=RESULT_TOPICS, handler=handle_results, handles=RESULT_EVENTS),
                ConsumerSpec(name=audience.CONSUMER, topics=audience.TOPICS,
                             handler=StateReader(audience_handler, live=audience.LIVE_STATE),
                             handles=audience.HANDLED, max_records=2000),
                # A new installation's audience and key map bootstrap from the state topics, through the same code.
                state_consumer(bootstrap.CONSUMER, bootstrap.TOPICS, bootstrap.StateHandler(audience_handler),
                               max_records=2000),
                ConsumerSpec(name=dispatch_requests.CONSUMER, topics=dispatch_requests.TOPICS,
                             handler=dispatch_requests.DispatchRequestsHandler(dispatch, clock),
                             handles=dispatch_requests.HANDLED),
                ConsumerSpec(name=promotions.CONSUMER, topics=promotions.TOPICS, handler=promotion_events,
                             handles=promotion_events.types),
            ],
            jobs=registry,
            rpc_client=True,  # the AI gateway's content.generate
            state=state,
        )
    )


def main() -> None:
    settings = Settings()
    serve(lambda: create_app(settings), settings)
