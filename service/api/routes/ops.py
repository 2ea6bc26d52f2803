"""Probes and metrics: open without an API key (load balancers and Prometheus call them)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from service.api.models import Health, Ready
from service.api.startup import Startup
from service.briefing import BriefingService
from service.metrics import CONTENT_TYPE

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is alive."""
    return {"status": "ok"}


@router.get(
    "/readyz", response_model=Ready, response_model_exclude_unset=True,
    responses={503: {"model": Ready, "description": "Starting (the stage it is at and the "
                     "seconds since the start), failed to start (the error), stopping, or "
                     "unavailable (the LLM server does not answer and BRIEFING_LLM_FALLBACK "
                     "is false)"}},
)
async def readyz(request: Request) -> Ready | JSONResponse:
    """Ready to brief: says which engine and model serve, and why if it is a fallback.
    Until then 503 with ``starting`` and what the start is doing (loading the model,
    opening storage, starting feeds), or ``failed`` and why. With the llm engine, whether
    its server answers (``llm``)."""
    startup: Startup = request.app.state.startup
    service: BriefingService | None = request.app.state.service
    if startup.status != "ready" or service is None:
        return JSONResponse(startup.describe(), status_code=503)
    ready = await run_in_threadpool(service.readiness)
    if ready["status"] != "ready":
        return JSONResponse(ready, status_code=503)
    return ready


@router.get("/metrics", response_class=PlainTextResponse)
async def prometheus_metrics(request: Request) -> Response:
    """Prometheus metrics in the text format."""
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE)
