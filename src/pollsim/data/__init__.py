"""Bundled Mississippi data (counties, equipment per county, 2020 precinct results), read with
``importlib.resources``; where each file comes from is in SOURCES.md beside them."""
