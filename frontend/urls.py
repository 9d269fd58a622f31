from django.contrib.auth import views as auth_views
from django.urls import include, path

from frontend import views

urlpatterns = [
    path("favicon.ico", views.favicon, name="favicon"),
    path("api/schema/redoc/redoc.standalone.js", views.redoc_bundle, name="redoc-bundle"),
    path("", views.dataset_list_page, name="home"),
    path("datasets/", views.dataset_list_page, name="dataset-list"),
    path("datasets/upload/", views.dataset_upload_page, name="dataset-upload"),
    path("datasets/<slug:slug>/", views.dataset_detail_page, name="dataset-detail"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("frontend.board_urls")),
]
