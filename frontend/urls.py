from django.contrib.auth import views as auth_views
from django.urls import include, path

from frontend import account_views, views

urlpatterns = [
    path("favicon.ico", views.favicon, name="favicon"),
    path("api/schema/redoc/redoc.standalone.js", views.redoc_bundle, name="redoc-bundle"),
    path("", views.dataset_list_page, name="home"),
    path("datasets/", views.dataset_list_page, name="dataset-list"),
    path("datasets/upload/", views.dataset_upload_page, name="dataset-upload"),
    path("datasets/<slug:slug>/", views.dataset_detail_page, name="dataset-detail"),
    path("accounts/login/", account_views.ThrottledLoginView.as_view(), name="login"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/tokens/", account_views.tokens_page, name="account-tokens"),
    path("accounts/tokens/<int:token_id>/revoke/", account_views.token_revoke_page, name="account-token-revoke"),
    path("accounts/tokens/<int:token_id>/rotate/", account_views.token_rotate_page, name="account-token-rotate"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("frontend.board_urls")),
]
