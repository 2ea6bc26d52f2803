"""Probes and metrics: open without an API key (load balancers and Prometheus call them)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from service.briefing import BriefingService
from service.metrics import CONTENT_TYPE

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Ready to brief: says which engine and model serve, and why if it is a fallback."""
    service: BriefingService | None = request.app.state.service
    if service is None:
        return JSONResponse({"status": "starting"}, status_code=503)
    engine = service.engine
    return JSONResponse({
        "status": "ready",
        "engine": engine.name,
        "model": engine.model_id,
        "fallback_reason": service.choice.fallback_reason,
        "prompt_version": service.prompts.version,
    })


@router.get("/metrics")
async def prometheus_metrics(request: Request) -> Response:
    """Prometheus metrics in the text format."""
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE)
