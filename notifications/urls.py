from django.urls import path

from . import views

urlpatterns = [
    path("settings/mail-templates/", views.mail_template_list, name="mail_template_list"),
    path("settings/mail-templates/new/", views.mail_template_create, name="mail_template_create"),
    path("settings/mail-templates/<int:pk>/", views.mail_template_edit, name="mail_template_edit"),
    path("settings/mail-templates/<int:pk>/copy/", views.mail_template_copy, name="mail_template_copy"),
    path("settings/mail-templates/<int:pk>/preview/", views.mail_template_preview, name="mail_template_preview"),
    path("settings/mail-templates/<int:pk>/test.pdf", views.mail_template_pdf, name="mail_template_pdf"),
    path("settings/tokens/", views.token_dictionary, name="token_dictionary"),
    path("communication/<int:pk>/attachment/", views.communication_attachment, name="communication_attachment"),
    path("relations/documents/", views.documents_send, name="documents_send"),
    path("relations/documents/<int:pk>/", views.document_job_detail, name="document_job_detail"),
    path("relations/documents/<int:pk>/download/", views.document_job_download, name="document_job_download"),
]
