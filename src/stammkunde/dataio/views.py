"""Pages of the data tools: imports, duplicates, exports, webhooks."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .access import require_import_role
from .models import ImportJob


@login_required
def home_view(request: HttpRequest) -> HttpResponse:
    """The import page: upload form and the latest jobs."""
    require_import_role(request.user)
    jobs = ImportJob.objects.visible_to(request.user)[:20]
    return render(request, "dataio/home.html", {"jobs": jobs})
