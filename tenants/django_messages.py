"""Django's own messages that our users read, listed so makemessages puts them in our catalogue.

Django's Dutch speaks formally ("Uw wachtwoord …"); the federation's interface uses "je". A
translation in our catalogue wins over Django's. Nothing imports this module.
"""

from django.utils.translation import gettext_noop, ngettext_lazy

MESSAGES = [
    gettext_noop("Your old password was entered incorrectly. Please enter it again."),
    # Lazy, so nothing is translated at import; only makemessages needs to see it.
    ngettext_lazy(
        "Your password must contain at least %(min_length)d character.",
        "Your password must contain at least %(min_length)d characters.",
        "min_length",
    ),
    gettext_noop("Your password can’t be a commonly used password."),
    gettext_noop("Your password can’t be too similar to your other personal information."),
]
