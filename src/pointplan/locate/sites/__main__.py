"""``python -m pointplan.locate.sites`` rewrites the shipped located-sites table."""

from pointplan.locate.sites.table import write_located_table

if __name__ == "__main__":  # pragma: no cover
    print(write_located_table())
