"""Tables, charts and the documents a planner forwards, for an assessment and its proposals.

- :mod:`~pointplan.report.tables`: ``units.csv`` and ``points.csv`` (:func:`units_table`,
  :func:`points_table`);
- :mod:`~pointplan.report.charts`: the charts and the static overview map;
- :mod:`~pointplan.report.content`: what the report says, once, for every format;
- writers: ``report.html`` (:func:`write_html`, self-contained, print-ready on A4),
  ``report.docx`` (:func:`write_docx`), ``tables.xlsx`` (:func:`write_xlsx`) and
  ``report.md`` with ``chart_*.png`` (:func:`write_report`);
- :mod:`~pointplan.report.documents`: choosing formats (:func:`parse_formats`) and
  writing them together (:func:`write_documents`).

Labels are Vietnamese first; ``lang="en"`` gives English. The column dictionary
(``templates/columns.csv``) names and explains every column the same way in every format.

Examples
--------
>>> from pointplan import report
>>> report.REPORT_FORMATS, report.DEFAULT_FORMATS
(('html', 'docx', 'xlsx', 'md'), ('html', 'xlsx'))
"""

from __future__ import annotations

from pointplan.report.charts import CHART_FILES, chart_images, charts, overview_map
from pointplan.report.content import Document, build_document
from pointplan.report.documents import (
    DEFAULT_FORMATS,
    FORMAT_FILES,
    REPORT_FORMATS,
    parse_formats,
    write_documents,
)
from pointplan.report.labels import column_dictionary, column_label
from pointplan.report.summary_json import sites_report_table, summary_json
from pointplan.report.tables import POINT_TABLE_COLUMNS, UNIT_COLUMNS, points_table, units_table
from pointplan.report.to_docx import write_docx
from pointplan.report.to_html import write_html
from pointplan.report.to_markdown import write_report
from pointplan.report.to_xlsx import write_xlsx

__all__ = [
    "CHART_FILES",
    "DEFAULT_FORMATS",
    "FORMAT_FILES",
    "POINT_TABLE_COLUMNS",
    "REPORT_FORMATS",
    "UNIT_COLUMNS",
    "Document",
    "build_document",
    "chart_images",
    "charts",
    "column_dictionary",
    "column_label",
    "overview_map",
    "parse_formats",
    "points_table",
    "sites_report_table",
    "summary_json",
    "units_table",
    "write_documents",
    "write_docx",
    "write_html",
    "write_report",
    "write_xlsx",
]
