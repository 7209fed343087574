from django.urls import path

from . import views, views_duplicates

urlpatterns = [
    path("imports/", views.import_list, name="import_list"),
    path("imports/template.<str:fmt>", views.import_template, name="import_template"),
    path("imports/upload/", views.import_upload, name="import_upload"),
    path("imports/<uuid:pk>/", views.import_detail, name="import_detail"),
    path("imports/<uuid:pk>/import/", views.import_run, name="import_run"),
    path("imports/<uuid:pk>/undo/", views.import_undo, name="import_undo"),
    path("imports/<uuid:pk>/errors/", views.import_errors, name="import_errors"),
]

urlpatterns += [
    path("duplicates/", views_duplicates.duplicate_list, name="duplicate_list"),
    path("duplicates/scan/", views_duplicates.duplicate_scan, name="duplicate_scan"),
    path("duplicates/<int:pk>/dismiss/", views_duplicates.duplicate_dismiss_view, name="duplicate_dismiss"),
    path("duplicates/<int:pk>/merge/", views_duplicates.relation_merge, name="relation_merge"),
]
