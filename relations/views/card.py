"""IN PROGRESS: being written by a helper; every view below is replaced."""


def relation_create(request, *args, **kwargs):
    raise NotImplementedError


def address_lookup(request, *args, **kwargs):
    raise NotImplementedError


def relation_detail(request, *args, **kwargs):
    raise NotImplementedError


def relation_edit(request, *args, **kwargs):
    raise NotImplementedError


def relation_history(request, *args, **kwargs):
    raise NotImplementedError


def relation_communication(request, *args, **kwargs):
    raise NotImplementedError
