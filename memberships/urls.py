"""URLs of "+ Relatie" (a card with its first function), functions on the relation card, and the
federation's settings for ending memberships: notice rules and cancellation reasons."""

from django.urls import path

from . import views

urlpatterns = [
    # A new card with its first function.
    path("relations/new/", views.relation_create, name="relation_create"),
    # Functions on the card.
    path("relations/<int:pk>/functions/", views.function_list, name="function_list"),
    path("relations/<int:pk>/functions/new/", views.function_add, name="function_add"),
    path("relations/<int:pk>/functions/<int:function_pk>/end/", views.function_end, name="function_end"),
    path("relations/<int:pk>/functions/<int:function_pk>/dates/", views.function_dates, name="function_dates"),
    path("relations/<int:pk>/functions/<int:function_pk>/delete/", views.function_delete, name="function_delete"),
    path("relations/<int:pk>/functions/<int:function_pk>/transfer/", views.member_transfer, name="member_transfer"),
    # The federation's notice rules for ending memberships.
    path("settings/notice-rules/", views.notice_rule_list, name="notice_rule_list"),
    path("settings/notice-rules/new/", views.notice_rule_edit, name="notice_rule_create"),
    path("settings/notice-rules/<int:pk>/", views.notice_rule_edit, name="notice_rule_edit"),
    path("settings/notice-rules/<int:pk>/delete/", views.notice_rule_delete, name="notice_rule_delete"),
    # Ending the memberships of relations selected in the relation list.
    path("relations/bulk-end/", views.memberships_bulk_end, name="memberships_bulk_end"),
    # The federation's reasons for ending a membership.
    path("settings/cancellation-reasons/", views.cancellation_reason_list, name="cancellation_reason_list"),
    path("settings/cancellation-reasons/<int:pk>/", views.cancellation_reason_edit, name="cancellation_reason_edit"),
]
