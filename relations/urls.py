from django.urls import path

from .views import card, configuration, magazine, privacy, search

urlpatterns = [
    # Search ("Relaties beheren"), exports, saved searches, columns.
    path("relations/", search.relation_list, name="relation_list"),
    # The count of a search whose first page came before it (relations/paging.py, count_later).
    path("relations/count/", search.relation_count, name="relation_count"),
    path("relations/export/<str:fmt>/", search.relation_export, name="relation_export"),
    path("relations/columns/", search.relation_columns, name="relation_columns"),
    path("relations/searches/", search.saved_search_create, name="saved_search_create"),
    path("relations/searches/<int:pk>/delete/", search.saved_search_delete, name="saved_search_delete"),
    # The relation card and its tabs ("+ Relatie" and the Functions tab: memberships.urls).
    path("relations/address-lookup/", card.address_lookup, name="address_lookup"),
    path("relations/<int:pk>/", card.relation_detail, name="relation_detail"),
    path("relations/<int:pk>/edit/", card.relation_edit, name="relation_edit"),
    path("relations/<int:pk>/history/", card.relation_history, name="relation_history"),
    path("relations/<int:pk>/communication/", card.relation_communication, name="relation_communication"),
    # The card's privacy tab (GDPR): export everything, the view log, erasure on request.
    path("relations/<int:pk>/privacy/", privacy.relation_privacy, name="relation_privacy"),
    path("relations/<int:pk>/privacy/export/", privacy.relation_personal_data, name="relation_personal_data"),
    path("relations/<int:pk>/privacy/anonymise/", privacy.relation_anonymise, name="relation_anonymise"),
    # Magazine ("BNDR") addresses.
    path("relations/magazine/", magazine.magazine_addresses, name="magazine_addresses"),
    path("relations/magazine/block/", magazine.magazine_block, name="magazine_block"),
    # Configuration of the environment: custom fields and communication types.
    path("settings/custom-fields/", configuration.custom_field_list, name="custom_field_list"),
    path("settings/custom-fields/new/", configuration.custom_field_create, name="custom_field_create"),
    path("settings/custom-fields/<int:pk>/", configuration.custom_field_edit, name="custom_field_edit"),
    path("settings/custom-fields/<int:pk>/delete/", configuration.custom_field_delete, name="custom_field_delete"),
    path("settings/communication-types/", configuration.communication_type_list, name="communication_type_list"),
    path("settings/member-portal/approval/", configuration.approval_settings, name="approval_settings"),
    path("settings/communication-types/<int:pk>/", configuration.communication_type_edit, name="communication_type_edit"),
]
