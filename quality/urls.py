from django.urls import path

from . import views

urlpatterns = [
    path("problems/", views.problem_list, name="quality_problem_list"),
    path("problems/export/<str:fmt>/", views.problem_export, name="quality_problem_export"),
    path("recipients/", views.recipient_list, name="quality_recipient_list"),
    path("recipients/overview/", views.recipient_overview, name="quality_recipient_overview"),
    path("recipients/<int:pk>/toggle/", views.recipient_toggle, name="quality_recipient_toggle"),
    path("recipients/<int:pk>/delete/", views.recipient_remove, name="quality_recipient_delete"),
    path("rules/", views.rule_list, name="quality_rule_list"),
    path("retention/", views.retention, name="quality_retention"),
]
