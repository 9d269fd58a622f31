from django.urls import path

from frontend.api import views

urlpatterns = [
    path("leaderboard/compare/", views.LeaderboardCompareView.as_view(), name="api-leaderboard-compare"),
    path("leaderboard/predictors/", views.ScorePredictorsView.as_view(), name="api-leaderboard-predictors"),
]
