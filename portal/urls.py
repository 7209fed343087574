"""URLs of the member portal (mounted under /portal/)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="portal_home"),
    path("login/", views.login_request, name="portal_login"),
    path("login/<str:token>/", views.login_link, name="portal_login_link"),
    path("contact/", views.contact_edit, name="portal_contact_edit"),
    path("history/", views.history, name="portal_history"),
    path("preferences/", views.preferences, name="portal_preferences"),
    path("password/", views.password, name="portal_password"),
    path("my-data.zip", views.personal_data, name="portal_personal_data"),
    path("card/", views.card, name="portal_card"),
    path("card.pdf", views.card_pdf, name="portal_card_pdf"),
    path("verify/<str:token>/", views.card_verify, name="portal_card_verify"),
    path("invite/<int:pk>/", views.invite, name="portal_invite"),
    path("invite/selection/", views.invite_selection, name="portal_invite_selection"),
]
