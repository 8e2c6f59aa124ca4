"""``python -m pointplan.locate.sites`` rewrites the shipped stand-ins, then the located sites.

The located post offices fall back on the stand-ins, so the stand-ins come first.
"""

from pointplan.locate.sites.table import write_located_table, write_standins_table

if __name__ == "__main__":  # pragma: no cover
    print(write_standins_table())
    print(write_located_table())
