"""Preconditions of changing requests: the version a change is based on (If-Match or a `version` field),
the Idempotency-Key of a create, and the 409s a plan's state or version gives a change."""

import re
from collections.abc import Iterator
from contextlib import contextmanager

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from agents.services import NothingToRetry
from planning.models import Plan
from planning.services import ConcurrentUpdate, IllegalTransition

from .errors import Conflict

IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="The plan version the change is based on (a number, or the plan's ETag); a stale one answers 409.",
    pattern=r'^(W/)?"?[0-9]{1,9}(-[0-9]+)?(-i)?"?$',
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Any unique string (e.g. a UUID) of 1-255 visible characters, sent again on a retry.",
    pattern=r"^[!-~]{1,255}$",
)
REPLAYED = {"Idempotent-Replayed": "true"}
IF_MATCH_VERSION = re.compile(r'^(?:W/)?"?([0-9]{1,9})(?:-[0-9]+(?:-r[0-9]+)?)?(?:-i)?"?$')


def idempotency_key(request: Request) -> str | None:
    """The request's Idempotency-Key (None without one); a malformed key is a 400."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not re.fullmatch(r"[!-~]{1,255}", key):
        raise ValidationError({"Idempotency-Key": ["Give 1-255 visible ASCII characters."]})
    return key


def expected_version(request: Request, body_version: int | None) -> int | None:
    """The version a change is based on: the If-Match header's (a version or an ETag; it wins) or the body's."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return body_version
    match = IF_MATCH_VERSION.match(header.strip())
    if match is None:
        raise ValidationError({"If-Match": ["Give the plan's version (a number) or its ETag."]})
    return int(match.group(1))


@contextmanager
def plan_conflicts() -> Iterator[None]:
    """A plan's state or version refusing a change, as a 409 with a machine-readable code."""
    try:
        yield
    except ConcurrentUpdate as exc:
        raise Conflict(str(exc), code="stale_version", current_version=exc.current_version) from None
    except IllegalTransition as exc:
        raise Conflict(f"The plan is {exc.current}: {exc}", code="conflict", plan_status=exc.current) from None
    except NothingToRetry as exc:
        raise Conflict(str(exc), code="nothing_to_retry") from None
    except Plan.DoesNotExist:
        raise Http404 from None
