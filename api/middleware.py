"""Edges of the API that come before and after DRF: body size and caching."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

from .errors import RequestTooLarge
from .exceptions import is_api_request, json_error


class ApiEdgeMiddleware:
    """Under /api/: a declared body over the limit answers 413 before anything reads it, and no
    response is stored by a shared cache (they carry one user's data); one with an ETag may be kept by
    the client, which revalidates it every time (If-None-Match, 304)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_api_request(request):
            return self.get_response(request)
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if not declared.isdigit():
            response = json_error(400, "bad_request", "Content-Length is not a number.")
        elif int(declared) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            response = json_error(413, RequestTooLarge.default_code, RequestTooLarge.default_detail)
        else:
            response = self.get_response(request)
        if response.has_header("ETag"):
            # One user's plan, revalidated by its ETag: kept only privately, and never used unchecked.
            patch_cache_control(response, private=True, no_cache=True)
        else:
            patch_cache_control(response, no_store=True)
        return response
