"""Renderers of a stored report: HTML, PDF, Markdown, from one plain-data document.

- :mod:`~reports.render.document` the document of a report (everything a page prints), with
  :mod:`~reports.render.sections` (one area, one finding) and :mod:`~reports.render.tables`
  (any probe's tables and metrics, formatted);
- :mod:`~reports.render.texts` the report's fixed words; :mod:`~reports.render.charts` its SVG
  charts;
- :mod:`~reports.render.to_html`, :mod:`~reports.render.to_pdf`,
  :mod:`~reports.render.to_markdown` the formats.

Importing this package is cheap: WeasyPrint is imported only when a PDF is rendered.
"""
