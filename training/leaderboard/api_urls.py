from django.urls import path

from training.leaderboard import api

urlpatterns = [
    path("leaderboard/", api.LeaderboardView.as_view(), name="api-leaderboard"),
    path("leaderboard/compare/", api.LeaderboardCompareView.as_view(), name="api-leaderboard-compare"),
    path("leaderboard/predictors/", api.ScorePredictorsView.as_view(), name="api-leaderboard-predictors"),
]
