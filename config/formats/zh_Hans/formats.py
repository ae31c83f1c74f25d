# Chinese amounts grouped by three with a comma (¥1,234.50), as bank statements and finance
# staff read them; Django's zh_Hans default groups by four with no separator ("12345678.00").
# Only the number format is overridden: dates keep Django's 2026年10月16日.
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
