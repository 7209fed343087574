# The English interface shows the same day-month-year dates as the Dutch one: the data, the forms
# (which accept d-m-Y) and the exports are Dutch, and m/d/Y would misread 05-03 as May 3rd.
SHORT_DATE_FORMAT = "d-m-Y"
# Dates are typed as dd-mm-jjjj (tenants.forms.DateInput); 5/3/2026 and 5.3.2026 are read the same
# way. Django adds ISO (2026-03-05) itself, which links and saved searches may carry.
DATE_INPUT_FORMATS = ["%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y"]
