from django.contrib import admin
from django.urls import include, path

from engage.api.docs import DocsView, SchemaView
from engage.common import ids  # noqa: F401 - registers the <id:...> path converter
from engage.views_media import public_media_file
from engage.views_review import public_words

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("desk/", include("accounts.urls_desk")),
    path("desk/", include("campaigns.urls")),
    path("desk/inbox/", include("engage.urls_inbox")),
    path("desk/dashboard/", include("engage.urls_dashboard")),
    path("desk/public-words/", public_words, name="public-words"),  # event drafts, verdicts, templates
    path("api/v1/", include("engage.api.urls")),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),  # sign-in needed unless ENGAGE_PUBLIC_API_DOCS
    path("api/docs/", DocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("media/<id:pk>/", public_media_file, name="public-media"),
    path("", include("engage.urls_public")),
]

# Under /api/ even a URL no view matches answers in the API's error format.
handler404 = "engage.common.api.handler404"
handler400 = "engage.common.api.handler400"
