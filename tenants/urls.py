from django.urls import path

from .views import accounts, environments, tenants, users

urlpatterns = [
    path("accounts/login/", accounts.LoginView.as_view(), name="login"),
    path("accounts/login/code/", accounts.login_two_factor, name="login_two_factor"),
    path("accounts/two-factor/", accounts.two_factor_settings, name="two_factor_settings"),
    path("accounts/two-factor/setup/", accounts.two_factor_enrol, name="two_factor_enrol"),
    path("accounts/two-factor/recovery-codes/", accounts.two_factor_recovery_codes, name="two_factor_recovery_codes"),
    path("accounts/two-factor/disable/", accounts.two_factor_disable, name="two_factor_disable"),
    path("accounts/logout/", accounts.auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/change/", accounts.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/reset/", accounts.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password/reset/sent/", accounts.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        accounts.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/complete/",
        accounts.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("environment/", environments.switch_environment, name="switch_environment"),
    path("environments/<int:pk>/", tenants.tenant_detail, name="tenant_detail"),
    path("environments/<int:pk>/edit/", tenants.tenant_edit, name="tenant_edit"),
    path("environments/<int:pk>/logo/", tenants.tenant_logo, name="tenant_logo"),
    path("users/", users.user_list, name="user_list"),
    path("users/new/", users.user_create, name="user_create"),
    path("users/<int:pk>/", users.user_detail, name="user_detail"),
    path("users/<int:pk>/roles/new/", users.role_assignment_create, name="role_assignment_create"),
    path(
        "users/<int:pk>/roles/<int:assignment_pk>/end/",
        users.role_assignment_end,
        name="role_assignment_end",
    ),
    path("users/<int:pk>/block/", users.user_block, name="user_block"),
    path("users/<int:pk>/unblock/", users.user_unblock, name="user_unblock"),
    path("users/<int:pk>/invitation/", users.user_send_invitation, name="user_send_invitation"),
    path("users/<int:pk>/two-factor/reset/", accounts.user_two_factor_reset, name="user_two_factor_reset"),
    path("settings/two-factor/", accounts.two_factor_policy, name="two_factor_policy"),
    path("users/<int:pk>/temporary-password/", users.user_temporary_password, name="user_temporary_password"),
]
