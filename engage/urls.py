from django.contrib import admin
from django.urls import include, path

from core import ids  # noqa: F401 - registers the <id:...> path converter
from engage.api_docs import DocsView, SchemaView
from engage.inbound import urls as inbound_urls
from engage.metrics import urls as metrics_urls
from engage.public import urls as public_urls
from engage.public.media import public_media_file
from engage.public.review import public_words

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("desk/", include("accounts.urls_desk")),
    path("desk/", include("campaigns.urls")),
    path("desk/inbox/", include("engage.inbound.urls")),
    path("desk/dashboard/", include("engage.metrics.urls")),
    path("desk/awareness/", include("engage.awareness.urls")),
    path("desk/public-words/", public_words, name="public-words"),  # event drafts, verdicts, templates
    path("api/v1/", include("engage.api_urls")),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),  # sign-in needed unless ENGAGE_PUBLIC_API_DOCS
    path("api/docs/", DocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("media/<id:pk>/", public_media_file, name="public-media"),
    # One ``public`` namespace for every page without sign-in, whichever room serves it.
    path("", include((public_urls.urlpatterns + inbound_urls.public_urlpatterns + metrics_urls.public_urlpatterns,
                      "public"))),
]

# Under /api/ even a URL no view matches answers in the API's error format.
handler404 = "core.api.handler404"
handler400 = "core.api.handler400"
handler403 = "core.api.handler403"
