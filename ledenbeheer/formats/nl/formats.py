# The one date format of the templates: `|date:"SHORT_DATE_FORMAT"` prints 05-03-2026 (Django's
# own Dutch short format, j-n-Y, drops the leading zeros that forms and exports use).
SHORT_DATE_FORMAT = "d-m-Y"
# Dates are typed as dd-mm-jjjj (tenants.forms.DateInput); 5/3/2026 and 5.3.2026 are read the same
# way. Django adds ISO (2026-03-05) itself, which links and saved searches may carry.
DATE_INPUT_FORMATS = ["%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y"]
