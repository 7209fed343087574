"""URLs of the ledenmodule (mounted under /ledenmodule/)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.member_list, name="ledenmodule_member_list"),
    path("dashboard/", views.dashboard, name="ledenmodule_dashboard"),
    path("department/", views.department_switch, name="ledenmodule_department_switch"),
    path("register/", views.member_search, name="ledenmodule_member_search"),
    path("register/new/", views.member_create, name="ledenmodule_member_create"),
    path("register/<int:pk>/", views.member_enrol, name="ledenmodule_member_enrol"),
    path("members/<int:pk>/", views.member_detail, name="ledenmodule_member_detail"),
    path("members/<int:pk>/edit/", views.member_edit, name="ledenmodule_member_edit"),
    path("members/<int:pk>/end/", views.member_end, name="ledenmodule_member_end"),
    path("organisation/", views.organisation, name="ledenmodule_organisation"),
    path("reports/", views.reports, name="ledenmodule_reports"),
    path("reports/<int:pk>/", views.report_run, name="ledenmodule_report_run"),
    path("reports/members.<str:fmt>", views.member_export, name="ledenmodule_member_export"),
    path("changes/", views.change_requests, name="ledenmodule_change_requests"),
    path("my-history/", views.my_history, name="ledenmodule_my_history"),
    path("look-along/<int:pk>/", views.look_along_start, name="look_along_start"),
    path("look-along/stop/", views.look_along_stop, name="look_along_stop"),
]
