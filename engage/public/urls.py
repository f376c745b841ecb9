"""Public pages: no sign-in. engage/urls.py mounts these with the inbound and metrics rooms' public
pages (the contact form, "did this answer help?", the transparency page) under one ``public`` namespace."""

from django.urls import path, re_path

from core import ids  # noqa: F401 - registers the <id:...> path converter
from engage.public import audit_head as views_audit_head
from engage.public import views

urlpatterns = [
    path("", views.news_list, name="home"),
    path("news/", views.news_list, name="news"),
    path("news/<id:pk>/", views.news_detail, name="news_detail"),
    path("events/<id:pk>/", views.event_live, name="event"),
    path("events/<id:pk>/updates.json", views.event_updates_json, name="event_updates"),
    path("feeds/news.atom", views.news_feed, name="feed_news"),
    path("feeds/events/<id:pk>.atom", views.event_feed, name="feed_event"),
    path("feeds/cap.atom", views.cap_feed, name="feed_cap"),
    path("cap/<id:pk>.xml", views.cap_alert, name="cap_alert"),
    path("transparency/audit-head.json", views_audit_head.audit_head_json, name="audit_head"),
    path("transparency/audit-heads.json", views_audit_head.audit_heads_json, name="audit_heads"),
    path("transparency/audit-key.pem", views_audit_head.audit_key_pem, name="audit_key"),
    re_path(r"^img/(?P<pk>[0-9]{1,19})/(?P<sha>[0-9a-f]{12})-(?P<width>[0-9]{2,4})\.(?P<ext>jpg|png|webp)$", views.public_image,
            name="image"),
]
