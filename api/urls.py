from django.urls import path

from . import views
from .v1 import api

urlpatterns = [
    path("v1/", api.urls),
    path("tokens/", views.token_list, name="api_token_list"),
    path("tokens/new/", views.token_create, name="api_token_create"),
    path("tokens/<int:pk>/", views.token_detail, name="api_token_detail"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="api_token_revoke"),
]
