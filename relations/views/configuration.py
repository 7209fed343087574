"""IN PROGRESS: being written by a helper; every view below is replaced."""


def custom_field_list(request, *args, **kwargs):
    raise NotImplementedError


def custom_field_create(request, *args, **kwargs):
    raise NotImplementedError


def custom_field_edit(request, *args, **kwargs):
    raise NotImplementedError


def custom_field_delete(request, *args, **kwargs):
    raise NotImplementedError


def communication_type_list(request, *args, **kwargs):
    raise NotImplementedError


def communication_type_edit(request, *args, **kwargs):
    raise NotImplementedError
