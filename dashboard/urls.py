from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/widgets/", views.widget_visibility, name="dashboard_widget_visibility"),
    path("dashboard/widgets/<slug:key>/", views.widget, name="dashboard_widget"),
    path("reports/flow/", views.flow, name="dashboard_flow"),
    path("reports/flow.<str:fmt>", views.flow_export, name="dashboard_flow_export"),
    path("reports/end-dates/", views.end_dates, name="dashboard_end_dates"),
]
