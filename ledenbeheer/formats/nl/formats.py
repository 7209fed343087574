# The one date format of the templates: `|date:"SHORT_DATE_FORMAT"` prints 05-03-2026 (Django's
# own Dutch short format, j-n-Y, drops the leading zeros that forms and exports use).
SHORT_DATE_FORMAT = "d-m-Y"
