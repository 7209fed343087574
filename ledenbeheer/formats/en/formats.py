# The English interface shows the same day-month-year dates as the Dutch one: the data, the forms
# (which accept d-m-Y) and the exports are Dutch, and m/d/Y would misread 05-03 as May 3rd.
SHORT_DATE_FORMAT = "d-m-Y"
