from django.urls import path

from . import views

urlpatterns = [
    path("wizards/", views.wizard_list, name="wizard_list"),
    path("wizards/<int:pk>/", views.wizard_run, name="wizard_run"),
    path("wizards/<int:pk>/export/<str:fmt>/", views.wizard_export, name="wizard_export"),
    path("wizards/<int:pk>/edit/", views.wizard_edit, name="wizard_edit"),
    path("wizards/<int:pk>/fields/", views.wizard_field_add, name="wizard_field_add"),
    path("wizards/<int:pk>/copy/", views.wizard_copy, name="wizard_copy"),
    path("wizards/<int:pk>/delete/", views.wizard_delete, name="wizard_delete"),
    path("wizards/exports/<uuid:pk>/", views.export_job_detail, name="export_job_detail"),
    path("wizards/exports/<uuid:pk>/download/", views.export_job_download, name="export_job_download"),
    path("wizards/exports/<uuid:pk>/again/", views.export_job_again, name="export_job_again"),
    path("wizards/mutations/", views.mutation_list_view, name="mutation_list"),
    path("wizards/mutations/export/<str:fmt>/", views.mutation_list_export, name="mutation_list_export"),
]
