from django.urls import path

from . import views

urlpatterns = [
    path("imports/", views.import_list, name="import_list"),
    path("imports/template.<str:fmt>", views.import_template, name="import_template"),
    path("imports/upload/", views.import_upload, name="import_upload"),
    path("imports/<uuid:pk>/", views.import_detail, name="import_detail"),
    path("imports/<uuid:pk>/import/", views.import_run, name="import_run"),
    path("imports/<uuid:pk>/undo/", views.import_undo, name="import_undo"),
    path("imports/<uuid:pk>/errors/", views.import_errors, name="import_errors"),
]
