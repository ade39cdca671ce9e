"""Reports, rendered from the results store only, never from the harness's
live state: the end-of-run summary table (summary.py) and the self-contained
HTML report (html.py, with data.py, values.py, charts.py, bench.py, template.py)."""
