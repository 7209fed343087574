"""The app's URLs plus the trivial view `bench_load` measures beside them (only served by
demo.bench_settings, never by the app itself)."""

from django.http import HttpResponse
from django.urls import include, path


def trivial(request):
    """Through every middleware (session, login, environment), no query of its own."""
    return HttpResponse(f"ok {request.user.pk}", content_type="text/plain")


urlpatterns = [
    path("bench/trivial/", trivial),
    path("", include("ledenbeheer.urls")),
]
