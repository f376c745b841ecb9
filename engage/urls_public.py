"""Public pages: no sign-in."""

from django.urls import path

from engage import views

app_name = "public"

urlpatterns = [
    path("", views.news_list, name="home"),
    path("news/", views.news_list, name="news"),
    path("news/<int:pk>/", views.news_detail, name="news_detail"),
]
