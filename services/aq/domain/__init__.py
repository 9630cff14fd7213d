"""Pure Rolling AQ domain: reference data, the AQ formula and the business calendar.

Nothing here reads clocks, files or the network; dates and data are passed in so
a whole gas year can be replayed in a unit test.
"""
