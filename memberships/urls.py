"""URLs of functions on the relation card and of the federation's notice-rule settings."""

from django.urls import path

from . import views

urlpatterns = [
    # Functions on the card.
    path("relations/<int:pk>/functions/", views.function_list, name="function_list"),
    path("relations/<int:pk>/functions/new/", views.function_add, name="function_add"),
    path("relations/<int:pk>/functions/<int:function_pk>/end/", views.function_end, name="function_end"),
    path("relations/<int:pk>/functions/<int:function_pk>/delete/", views.function_delete, name="function_delete"),
    path("relations/<int:pk>/functions/<int:function_pk>/transfer/", views.member_transfer, name="member_transfer"),
    # The federation's notice rules for ending memberships.
    path("settings/notice-rules/", views.notice_rule_list, name="notice_rule_list"),
    path("settings/notice-rules/new/", views.notice_rule_edit, name="notice_rule_create"),
    path("settings/notice-rules/<int:pk>/", views.notice_rule_edit, name="notice_rule_edit"),
    path("settings/notice-rules/<int:pk>/delete/", views.notice_rule_delete, name="notice_rule_delete"),
    # Ending the memberships of relations selected in the relation list.
    path("relations/bulk-end/", views.memberships_bulk_end, name="memberships_bulk_end"),
]
