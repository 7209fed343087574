from django.urls import path

from . import views

urlpatterns = [
    # The public website form: no login.
    path("aanmelden/<slug:slug>/", views.intake_public, name="intake_public"),
    # Registrations ("Inschrijvingen") and "+Inschrijving".
    path("registrations/", views.registration_list, name="registration_list"),
    path("registrations/<int:pk>/", views.registration_detail, name="registration_detail"),
    path("registrations/<int:pk>/accept/", views.registration_accept, name="registration_accept"),
    path("registrations/<int:pk>/link/", views.registration_link, name="registration_link"),
    path("registrations/<int:pk>/reject/", views.registration_reject, name="registration_reject"),
    path("registrations/forms/<int:pk>/", views.intake_fill, name="intake_fill"),
    # Settings: the environment's intake forms.
    path("settings/intake-forms/", views.intake_form_list, name="intake_form_list"),
    path("settings/intake-forms/new/", views.intake_form_create, name="intake_form_create"),
    path("settings/intake-forms/<int:pk>/", views.intake_form_edit, name="intake_form_edit"),
]
