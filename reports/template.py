"""The report's Jinja2 template (kept in a module: nothing to package as data).

Rendered with autoescaping on; no value is ever marked safe. Values from
results files appear only as element text and attribute values (quoted), never
inside ``<script>`` or ``<style>``; the inline script reads what it needs from
``data-`` attributes.
"""

TEMPLATE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Upsample conformance report</title>
<style>
:root {
  --pass: #d7efd8; --pass-ink: #1b5e20; --fail: #f9cfcf; --fail-ink: #b71c1c;
  --expected: #e3dcf5; --expected-ink: #4527a0;
  --error: #f1d6f5; --error-ink: #6a1b9a; --unsupported: #e8e8e8; --unsupported-ink: #555;
  --ink: #1d1d1f; --muted: #6b6b70; --line: #d9d9de; --bg: #fff; --panel: #f7f7f9;
  --faster: #2e7d32; --slower: #e07b00; --offref: #a15c00;
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); background: var(--bg); }
main { max-width: 1500px; margin: 0 auto; padding: 18px 28px 60px; }
h1 { font-size: 24px; margin: 6px 0 2px; }
h2 { font-size: 19px; margin: 34px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; }
code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
.muted { color: var(--muted); }
.small { font-size: 12px; }
nav { margin: 8px 0 4px; font-size: 13px; }
nav a { margin-right: 14px; color: #1a4fa0; text-decoration: none; }
nav a:hover { text-decoration: underline; }
table { border-collapse: collapse; }
th, td { padding: 3px 8px; border: 1px solid var(--line); vertical-align: top; }
th { background: var(--panel); text-align: left; font-weight: 600; }
.totals { display: flex; flex-wrap: wrap; gap: 10px; margin: 14px 0; }
.total { border-radius: 8px; padding: 8px 14px; min-width: 120px; border: 1px solid var(--line); background: var(--panel); }
.total b { display: block; font-size: 22px; }
.s-pass { background: var(--pass); color: var(--pass-ink); }
.s-fail { background: var(--fail); color: var(--fail-ink); }
.s-error { background: var(--error); color: var(--error-ink); }
.s-unsupported { background: var(--unsupported); color: var(--unsupported-ink); }
.s-expected { background: var(--expected); color: var(--expected-ink); }
.failure.st-expected { border-left-color: var(--expected-ink); }
.s-empty { background: #fff; color: #bbb; }
.verdict { font-weight: 600; }
.badge { display: inline-block; border-radius: 4px; padding: 0 6px; font-size: 12px; font-weight: 600; }
table.glance td { min-width: 230px; }
table.matrix td.c { text-align: center; white-space: nowrap; min-width: 74px; font-variant-numeric: tabular-nums; }
table.matrix td.c a { color: inherit; font-weight: 700; }
table.matrix tr.first td { border-top: 2px solid #9a9aa2; }
table.matrix td.rep { color: #b0b0b8; }
#library-table td { max-width: 260px; vertical-align: top; }
#library-table td .mono { font-size: 10.5px; overflow-wrap: anywhere; }
.pictures { display: flex; flex-wrap: wrap; gap: 10px; }
.pictures figure { margin: 0; max-width: 200px; }
.pictures img { image-rendering: pixelated; display: block; }
table.matrix th.machine { text-align: center; background: #eceef3; }
table.matrix thead th { position: sticky; top: 0; z-index: 1; }
table.matrix thead tr:nth-child(2) th { top: 27px; }
.offref { color: var(--offref); font-size: 11px; margin-left: 3px; }
.filters { display: flex; flex-wrap: wrap; gap: 16px; align-items: center; padding: 8px 12px; margin: 8px 0;
  background: var(--panel); border: 1px solid var(--line); border-radius: 6px; }
.filters label { font-weight: 600; }
.filters select { margin-left: 6px; font: inherit; max-width: 260px; }
.legend span { margin-right: 10px; padding: 1px 6px; border-radius: 4px; }
.failure { border: 1px solid var(--line); border-left: 6px solid var(--fail-ink); border-radius: 6px;
  padding: 10px 16px 14px; margin: 16px 0; }
.failure.st-error { border-left-color: var(--error-ink); }
.failure h3 { margin-top: 2px; }
.message { background: #fff6f6; border: 1px solid #f0c9c9; border-radius: 4px; padding: 6px 10px; margin: 8px 0;
  white-space: pre-wrap; word-break: break-word; }
.failure .cols { display: flex; flex-wrap: wrap; gap: 24px; }
table.metrics td:last-child { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12.5px; }
.grids { display: flex; flex-wrap: wrap; gap: 16px; }
table.grid { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
.gridtitle { font-weight: 600; font-size: 13px; padding-bottom: 3px; white-space: nowrap; }
.failure .values { flex: 1 1 560px; min-width: 0; }
table.grid td { text-align: right; padding: 2px 6px; }
table.grid th { font-weight: 400; color: var(--muted); text-align: center; padding: 2px 5px; }
table.grid td.diff { background: var(--fail); }
table.grid td.worst { outline: 2px solid var(--fail-ink); outline-offset: -2px; font-weight: 700; }
.notes { color: #7a4b00; background: #fff7e6; border: 1px solid #f1dcb0; border-radius: 4px; padding: 4px 10px; margin: 6px 0; }
pre.repro { background: #f4f5f7; border: 1px solid var(--line); border-radius: 4px; padding: 10px 12px; overflow-x: auto;
  margin: 4px 0 0; white-space: pre; }
button.select { font: inherit; font-size: 12px; margin-left: 8px; }
svg.chart { display: block; margin: 4px 0 14px; max-width: 100%; height: auto; }
svg.chart text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: var(--ink); }
svg.chart .group { font-weight: 700; }
svg.chart .note { fill: var(--muted); font-size: 11px; }
svg.chart line.grid { stroke: #e3e3e8; }
svg.chart line.one { stroke: #333; stroke-width: 1.5; }
svg.chart rect.faster { fill: var(--faster); }
svg.chart rect.slower { fill: var(--slower); }
svg.chart .value { font-variant-numeric: tabular-nums; white-space: pre; }
table.env td { max-width: 340px; word-break: break-word; }
table.env td.unavailable { color: var(--fail-ink); }
details > summary { cursor: pointer; color: #1a4fa0; }
[hidden] { display: none !important; }
</style>
</head>
<body>
<main>
{% macro chart(c) %}
<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{{ c.width }}" height="{{ c.height }}" viewBox="0 0 {{ c.width }} {{ c.height }}" role="img" aria-label="{{ c.title }}: time relative to torch, log scale">
<text x="{{ c.x_one - 6 }}" y="12" text-anchor="end" class="note">← faster than torch</text>
<text x="{{ c.x_one + 6 }}" y="12" class="note">slower than torch →</text>
{% for t in c.ticks %}
<line x1="{{ t.x|round(1) }}" x2="{{ t.x|round(1) }}" y1="16" y2="{{ c.height - 18 }}" class="{{ 'one' if t.one else 'grid' }}"/>
<text x="{{ t.x|round(1) }}" y="{{ c.height - 5 }}" text-anchor="middle" class="note">{{ t.label }}</text>
{% endfor %}
{% for b in c.bars %}
<g class="bar"><title>{{ b.tooltip }}</title>
{% if b.show_group %}<text x="4" y="{{ b.y + 13 }}" class="group">{{ b.group_text }}{% if b.group_text != b.group %}<title>{{ b.group }}</title>{% endif %}</text>{% endif %}
<text x="{{ c.plot_left - 8 }}" y="{{ b.y + 13 }}" text-anchor="end">{{ b.label_text }}{% if b.label_text != b.label %}<title>{{ b.label }}</title>{% endif %}</text>
<rect x="{{ b.x|round(1) }}" y="{{ b.y + 3 }}" width="{{ b.width|round(1) }}" height="{{ c.row_h - 5 }}" rx="2" class="{{ 'faster' if b.faster else 'slower' }}"/>
<text x="{{ c.value_x }}" y="{{ b.y + 13 }}" class="value">{{ b.value }}{% if b.clipped %} (beyond the axis){% endif %}</text>
</g>
{% endfor %}
</svg>
{% endmacro %}
{% macro badge(v) %}{% if v %}<span class="badge {{ 's-pass' if v == 'met' else 's-fail' }}">{{ v }}</span>{% endif %}{% endmacro %}
{% macro counts_text(counts) %}{% for s in statuses %}{% if counts.by_status[s] %}<span class="badge s-{{ s }}">{{ counts.by_status[s] }} {{ s }}</span> {% endif %}{% endfor %}{% endmacro %}

<h1>Upsample conformance report</h1>
<div class="muted small">Generated {{ generated }} from {% for s in sources %}<code>{{ s }}</code>{% if not loop.last %}, {% endif %}{% endfor %}.
PyTorch's semantics are the contract: each backend is checked against torch and the exact float64 reference.</div>
<nav>
<a href="#glance">At a glance</a><a href="#matrix">Matrix</a><a href="#failures">Failures ({{ failures|length }})</a>{% if expected %}<a href="#expected">Expected deviations</a>{% endif %}
<a href="#offref">torch off the reference ({{ off_reference_total }})</a><a href="#timings">Timings</a>
{% if bench %}<a href="#bench">Benchmarks</a>{% endif %}{% if libraries %}<a href="#libraries">Libraries</a>{% endif %}{% if frameworks %}
<h2 id="frameworks">Frameworks against torch</h2>
<p class="muted small">Each framework, compiler, exporter or kernel set that claims torch's semantics (<code>backends/frameworks/</code>), per (op, mode, align_corners, antialias, spatial rank, dtype, direction): <b>exact</b> (no error at all), <b>conforms</b> (within torch's tolerance; worst error and ULP), <b>differs</b> (cases outside it; worst error, ULP and the diagnosis where a known convention explains it), <b>crashes</b> (it raised where torch returns: the exception), <b>not expressible</b> (the adapter's reason). Hover a cell for the call used and its slowest first call (compile time is not kernel time: the timings below give the steady state).</p>
<table class="matrix small" id="framework-table">
<thead><tr><th>op</th><th>mode</th><th>align_corners</th><th>antialias</th><th>rank</th><th>dtype</th><th>direction</th>{% for f in frameworks.frameworks %}<th>{{ f }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in frameworks.rows %}
<tr>{% for k in row.key %}<td>{{ k }}</td>{% endfor %}
{% for td in row.tds %}<td class="s-{{ td.status }}" title="{{ td.calls|join('; ') }} {{ td.timing }}">{{ td.text }}{% for c in td.calls %}<div class="mono muted">{{ c }}</div>{% endfor %}</td>{% endfor %}
</tr>
{% endfor %}
</tbody>
</table>
{% if frameworks.divergences %}
<h3 id="framework-divergences">Divergences</h3>
<ul class="small">
{% for d in frameworks.divergences %}<li><b>{{ d.framework }}</b> {{ d.cell }}: {{ d.text }}. <i>{{ d.kind }}</i>. <a href="{{ d.href }}">failure card{% if d.repro %} and repro{% endif %}</a></li>
{% endfor %}
</ul>
{% endif %}
{% endif %}
{% if pictures %}<a href="#pictures">Pictures</a>{% endif %}<a href="#environment">Environment</a>
</nav>

<div class="totals" id="totals">
<div class="total"><span class="muted">cases</span><b>{{ totals.counts.total }}</b></div>
{% for s in statuses %}<div class="total s-{{ s }}"><span>{{ s }}</span><b>{{ totals.counts.by_status[s] }}</b></div>{% endfor %}
<div class="total"><span class="muted">cells not conforming</span><b>{{ totals.bad_cells }} / {{ totals.cells }}</b></div>
<div class="total"><span class="muted">torch off the reference</span><b>{{ off_reference_total }}</b></div>
</div>

<h2 id="glance">At a glance</h2>
<p class="muted small">A backend conforms on a machine when every case it supports agrees with torch within the tolerance policy. Columns are machines: a machine's latest run of each cell counts.</p>
<table class="glance">
<thead><tr><th>backend</th>{% for m in machines %}<th>{{ m.label }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in summary %}
<tr><th>{{ row.backend }}</th>
{% for cell in row.machines %}<td class="s-{{ cell.status }}"><div class="verdict">{{ cell.verdict }}</div><div class="small">{{ counts_text(cell.counts) }}</div></td>{% endfor %}
</tr>
{% endfor %}
</tbody>
</table>

<h2 id="matrix">Conformance matrix</h2>
<div class="filters" id="filters">
<label>backend <select id="f-backend"><option value="">all</option>{% for b in backends %}<option value="{{ b }}">{{ b }}</option>{% endfor %}</select></label>
<label>op <select id="f-op"><option value="">all</option>{% for o in ops %}<option value="{{ o }}">{{ o }}</option>{% endfor %}</select></label>
<label>status <select id="f-status"><option value="">all</option><option value="bad">not conforming (fail or error)</option>{% for s in statuses %}<option value="{{ s }}">{{ s }}</option>{% endfor %}</select></label>
<span class="muted small" id="f-count"></span>
</div>
<div class="legend small">{% for s in statuses %}<span class="s-{{ s }}">{{ symbols[s] }} {{ s }}</span>{% endfor %}<span class="offref">⚑ torch off the reference</span>
<span class="muted">counts are cases (unsupported: 1 where the backend takes no case of the cell, else the cases it declined); a cell's colour is its worst status; click a failing cell for its minimal case</span></div>
<table class="matrix" id="matrix-table">
<thead>
<tr><th rowspan="2">backend</th><th rowspan="2">op</th><th rowspan="2">cell</th><th rowspan="2" title="semantic variants (plausible wrong versions) the cell's passing discriminating cases separate from torch's semantics, of those its cases can separate">variants separated</th>{% for m in matrix.machines %}<th class="machine" colspan="{{ m.dtypes|length or 1 }}">{{ m.label }}</th>{% endfor %}</tr>
<tr>{% for m in matrix.machines %}{% for d in m.dtypes %}<th>{{ d }}</th>{% else %}<th>-</th>{% endfor %}{% endfor %}</tr>
</thead>
<tbody>
{% set prev = namespace(backend=None, op=None) %}
{% for row in matrix.rows %}
<tr data-filter="matrix" data-backend="{{ row.backend }}" data-op="{{ row.op }}" data-statuses="{{ row.statuses }}"{% if row.backend != prev.backend %} class="first"{% endif %}>
<td{% if row.backend == prev.backend %} class="rep"{% endif %}>{{ row.backend }}</td>
<td{% if row.backend == prev.backend and row.op == prev.op %} class="rep"{% endif %}>{{ row.op }}</td>
<td>{{ row.mode }}</td>
<td class="power" title="{{ row.power_title }}">{{ row.power }}</td>
{% for td in row.tds %}<td class="c s-{{ td.status }}" title="{{ td.title }}">{% if td.href %}<a href="{{ td.href }}">{% endif %}{% for n, sym, s in td.parts %}{{ n }}&#8239;{{ sym }}{% if not loop.last %} {% endif %}{% else %}·{% endfor %}{% if td.href %}</a>{% endif %}{% if td.offref %}<span class="offref">⚑{{ td.offref }}</span>{% endif %}</td>{% endfor %}
</tr>
{% set prev.backend = row.backend %}{% set prev.op = row.op %}
{% endfor %}
</tbody>
</table>

{% if libraries %}
<h2 id="libraries">Resize libraries against torch</h2>
<p class="muted small">Each library's call that stands for torch's (op, mode, align_corners, antialias, upscale or downscale, dtype), and how close it comes over the cases drawn: <b>exact</b> (no error at all), <b>conforms</b> (within torch's tolerance; worst error and ULP), <b>differs</b> (cases outside it; worst error and ULP), <b>not expressible</b> (no call of the library expresses it: the adapter's reason). Hover a cell for the call used; each adapter's docstring (<code>backends/libraries/</code>) holds its full mapping.</p>
<table class="matrix small" id="library-table">
<thead><tr><th>op</th><th>mode</th><th>align_corners</th><th>antialias</th><th>scale</th><th>dtype</th>{% for l in libraries.libraries %}<th>{{ l }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in libraries.rows %}
<tr>{% for k in row.key %}<td>{{ k }}</td>{% endfor %}
{% for td in row.tds %}<td class="s-{{ td.status }}" title="{{ td.calls|join('; ') }}">{{ td.text }}{% for c in td.calls %}<div class="mono muted">{{ c }}</div>{% endfor %}</td>{% endfor %}
</tr>
{% endfor %}
</tbody>
</table>
{% endif %}
{% if pictures %}
<h2 id="pictures">Pictures: each library beside torch</h2>
<p class="muted small">{{ pictures.note }}</p>
{% for group in pictures.groups %}
<h3>{{ group.title }}</h3>
<div class="pictures">
{% for p in group.entries %}<figure><img src="{{ p.image }}" alt="{{ p.label }}" width="{{ p.width }}"><figcaption class="small"><b>{{ p.label }}</b>{% if p.call %}<br><code>{{ p.call }}</code>{% endif %}{% if p.diff %}<br><img src="{{ p.diff }}" alt="|difference| of {{ p.label }} from torch" width="{{ p.width }}"><br>|{{ p.label }} − torch|, max {{ p.max_diff }}{% endif %}{% if p.reason %}<br>{{ p.reason }}{% endif %}</figcaption></figure>{% endfor %}
</div>
{% endfor %}
{% endif %}

<h2 id="failures">Failures</h2>
{% if not failures %}<p>No failing cell: every checked case conforms.</p>{% else %}
<p class="muted small">For each cell that does not conform: the minimal failing case Hypothesis shrank it to, its errors, the values around the worst element, and a repro to paste into <code>python</code> at the checkout's root.</p>
{% endif %}
{% for f in failures %}
<section class="failure st-{{ f.status }}" id="{{ f.id }}" data-filter="failure" data-backend="{{ f.backend }}" data-op="{{ f.op }}" data-statuses="{{ f.status }}">
<h3><span class="badge s-{{ f.status }}">{{ f.status }}</span> {{ f.backend }} · {{ f.op }} · {{ f.mode }} · {{ f.dtype }} <span class="muted small">on {{ f.machine }}</span></h3>
{% if f.calls %}
<div class="message">{{ f.calls|length }} of the {{ f.calls_total }} invalid calls checked are not handled as torch handles them (torch's exception class, a message naming the problem):</div>
<table class="calls small"><thead><tr><th>call</th><th>torch</th><th>{{ f.backend }}</th><th>verdict</th></tr></thead>
<tbody>{% for c in f.calls %}<tr><td class="mono">{{ c.case }}</td><td>{{ c.torch or "-" }}</td><td>{{ c.backend or "-" }}</td><td><span class="badge s-{{ c.status }}">{{ c.status }}</span> {{ c.message }}</td></tr>{% endfor %}</tbody>
</table>
{% else %}
<div class="mono">{% if f.minimal %}minimal case{% else %}first failing case (no minimal case recorded){% endif %}: {{ f.case }}</div>
<div class="message">{{ f.message or "(no message)" }}</div>
{% endif %}
{% if f.diagnosis %}<div class="diagnosis"><b>diagnosis</b>: {{ f.diagnosis }}</div>{% endif %}
{% if f.expected %}<div class="expected"><span class="badge s-expected">expected deviation</span> {{ f.expected.reason }}{% if f.expected.link %} ({{ f.expected.link }}){% endif %} <span class="muted small">{{ f.expected.source }}</span></div>{% endif %}
{% for k, v in f.extra %}<div class="small"><b>{{ k }}</b>: <code>{{ v }}</code></div>{% endfor %}
<div class="cols">
{% if f.metrics %}
<table class="metrics small"><caption class="small" style="text-align:left;font-weight:600">errors against the exact reference</caption>
{% for label, value in f.metrics %}<tr><th>{{ label }}</th><td>{{ value }}</td></tr>{% endfor %}
</table>
{% endif %}
<div class="values">
{% if f.raised %}<div class="small"><b>what each did</b> (no values to set side by side)</div>
<table class="raised small">{% for who, did in f.raised %}<tr><th>{{ who }}</th><td>{{ did }}</td></tr>{% endfor %}</table>{% endif %}
{% if f.window.grids %}<div class="small muted">{{ f.window.caption }}.{% if f.window.legend %} <span class="s-fail">&nbsp;red&nbsp;</span>: {{ f.window.legend }};{% endif %} outlined: the worst element</div>
<div class="grids">
{% for g in f.window.grids %}
<div class="gridbox"><div class="gridtitle">{{ g.title }} <span class="muted small">{{ g.dtype }} {{ g.shape }}</span></div>
<table class="grid">
<tr><th></th>{% for c in g.col_labels %}<th>{{ c }}</th>{% endfor %}</tr>
{% for i, cells in g.rows %}<tr><th>{{ i }}</th>{% for cell in cells %}<td{% if cell.classes %} class="{{ cell.classes }}"{% endif %}>{{ cell.text }}</td>{% endfor %}</tr>
{% endfor %}
</table></div>
{% endfor %}
</div>
{% endif %}
{% for n in f.window.notes %}<div class="notes small">{{ n }}</div>{% endfor %}
</div>
</div>
{% if f.repro %}
<h4 class="small" style="margin:12px 0 2px">repro <button type="button" class="select" data-select="{{ f.id }}-repro">select</button></h4>
<pre class="repro" id="{{ f.id }}-repro">{{ f.repro }}</pre>
{% endif %}
{% if not f.calls %}<details class="small"><summary>the case as recorded (run {{ f.run_id }}{% if f.spec %}, <code>--backend {{ f.spec }}</code>{% endif %})</summary><pre class="repro">{{ f.case_json }}</pre></details>{% endif %}
</section>
{% endfor %}

{% if expected %}
<h2 id="expected">Expected deviations</h2>
<p class="muted small">Failures an <code>--expected</code> entry (or torch's own known deviations, where torch is the backend) accepts: they do not fail the run. A <b>stale</b> entry's cells were checked and nothing failed: remove it; <code>--strict</code> fails the run on it.</p>
{% for x in expected %}
<h3>{{ x.machine }} (run {{ x.run_id }})</h3>
<table class="small">
<thead><tr><th></th><th>entry</th><th>cases accepted</th><th>reason</th></tr></thead>
<tbody>{% for e in x.used %}<tr><td><span class="badge s-expected">expected</span></td><td>{{ e.where }}</td><td>{{ e.n }}</td><td>{{ e.reason }}{% if e.link %} ({{ e.link }}){% endif %}</td></tr>{% endfor %}
{% for e in x.stale %}<tr><td><span class="badge {{ 's-fail' if x.strict else 's-unsupported' }}">stale</span></td><td>{{ e.where }}</td><td>0</td><td>{{ e.reason }}{% if e.link %} ({{ e.link }}){% endif %}</td></tr>{% endfor %}</tbody>
</table>
{% endfor %}
{% endif %}

<h2 id="offref">Cases where torch strays from the reference</h2>
<p class="muted small">torch's own error beyond 64 eps (uint8: beyond 1). There "no worse than torch" is a weak promise: such cases pass a backend that matches torch, and users of torch get these errors too.</p>
{% for o in off_reference %}
<h3>{{ o.machine }}: {{ o.count }} distinct case{{ '' if o.count == 1 else 's' }}</h3>
{% if o.count %}
<table class="small">
<thead><tr><th>op</th><th>cell</th><th>dtype</th><th>cases</th></tr></thead>
<tbody>{% for c in o.per_cell %}<tr><td>{{ c.op }}</td><td>{{ c.mode }}</td><td>{{ c.dtype }}</td><td>{{ c.n }}</td></tr>{% endfor %}</tbody>
</table>
<details><summary>the cases ({{ o.entries|length }}{% if o.left_out %} of {{ o.count }}{% endif %})</summary>
<table class="small">
<thead><tr><th>cell</th><th>case</th><th>input values</th><th>torch's max error (absolute, |torch − exact|)</th><th>seen by</th></tr></thead>
<tbody>{% for e in o.entries %}<tr><td>{{ e.mode }}</td><td class="mono">{{ e.case }}</td><td class="small">{{ e.inputs }}</td><td class="mono">{{ e.torch_err_text }}</td><td>{{ e.backends|join(", ") }}</td></tr>{% endfor %}</tbody>
</table></details>
{% endif %}
{% endfor %}

<h2 id="timings">Timings: each backend against torch</h2>
<p class="muted small">Per op and cell: the median over the cell's cases of the backend's time over torch's on the same case (the op alone, from the conformance run, the first case of a cell timed after a warm-up call, and every case of a backend that compiles (a JIT) timed after its first call, whose time, compile included, the table shows apart; small cases, so this measures call overhead as much as kernels). The table gives the middle half of the per-case ratios (their quartiles) beside it. Log scale; the dark line is 1×: bars to the left are faster than torch, to the right slower. Hover a bar for its numbers.</p>
{% for t in timings %}
<h3>{{ t.machine }}</h3>
{% for c in t.charts %}
<div class="small"><b>{{ c.title }}</b></div>
{{ chart(c) }}
{% else %}<p class="muted">No timings recorded.</p>
{% endfor %}
{% if t.rows %}
<details><summary>the numbers</summary>
<table class="small"><thead><tr><th>op</th><th>cell</th><th>backend</th><th>backend time (median, steady state)</th><th>backend first call (slowest; a JIT compiles)</th><th>torch time (median)</th><th>backend / torch (median)</th><th>middle half</th><th>cases</th></tr></thead>
<tbody>{% for r in t.rows %}<tr><td>{{ r.op }}</td><td>{{ r.mode }}</td><td>{{ r.backend }}</td><td>{{ r.time }}</td><td>{{ r.first }}</td><td>{{ r.torch }}</td><td>{{ r.ratio }}</td><td>{{ r.spread }}</td><td>{{ r.n }}</td></tr>{% endfor %}</tbody>
</table></details>
{% endif %}
{% endfor %}

{% if bench %}
<h2 id="bench">Benchmarks (<code>tox -e bench</code>)</h2>
<p class="muted small">From <code>{{ bench.data.path }}</code>{% if bench.data.date %}, {{ bench.data.date }}{% endif %}{% if bench.data.machine %}, {{ bench.data.machine }}{% endif %}: fixed representative cases, each implementation and torch CPU on one thread, medians, forward and backward (groups named <code>… backward</code>: the backend's <code>vjp</code> against <code>torch.autograd.grad</code>, forwards untimed). Ratio = implementation / torch; × floor = implementation / a plain copy of the case's bytes (the memory floor); peak = the most memory one call had allocated at once (tracemalloc, its result included; numpy only); targets are goals, never asserted.</p>
{% if bench.chart %}{{ chart(bench.chart) }}{% endif %}
<table class="small">
<thead><tr><th>case</th><th>shape</th><th>implementation</th><th>ms</th><th>torch ms</th><th>ratio</th><th>target</th><th></th><th>floor ms</th><th>× floor</th><th>target</th><th></th><th>peak</th><th></th></tr></thead>
<tbody>{% for r in bench.rows %}<tr><td>{{ r.case }}</td><td>{{ r.shape }}</td><td>{{ r.impl }}</td><td>{{ r.ms }}</td><td>{{ r.torch_ms }}</td><td>{{ r.ratio }}</td><td>{{ r.target }}</td><td>{{ badge(r.verdict) }}</td><td>{{ r.floor_ms }}</td><td>{{ r.floor_ratio }}</td><td>{{ r.floor_target }}</td><td>{{ badge(r.floor_verdict) }}</td><td>{{ r.peak }}</td><td>{{ badge(r.peak_verdict) }}</td></tr>{% endfor %}</tbody>
</table>
{% for n in bench.data.notes %}<div class="notes small">{{ n }}</div>{% endfor %}
{% endif %}

<h2 id="environment">Environment and backends</h2>
<p class="muted small">One column per run shown above (a machine's latest run of each cell).</p>
<table class="env small">
<thead>
<tr><th></th>{% for c in env.columns %}<th>{{ c.machine }}</th>{% endfor %}</tr>
<tr><th>run</th>{% for c in env.columns %}<td class="mono">{{ c.run_id }} · {{ c.results }} results<br><span class="muted">{{ c.source }}</span></td>{% endfor %}</tr>
</thead>
<tbody>
{% for label, values in env.rows %}<tr><th>{{ label }}</th>{% for v in values %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}
{% for name, values in env.backends %}<tr><th>backend {{ name }}</th>{% for v, cls in values %}<td{% if cls %} class="{{ cls }}"{% endif %}>{{ v }}</td>{% endfor %}</tr>{% endfor %}
</tbody>
</table>
{% if env.superseded %}
<details class="small"><summary>{{ env.superseded|length }} earlier run{{ '' if env.superseded|length == 1 else 's' }} superseded by later runs of the same cells</summary>
<ul>{% for r in env.superseded %}<li>{{ r.machine }}: run <code>{{ r.run_id }}</code> of {{ r.date or "unknown date" }}, {{ r.results }} results, <code>{{ r.source }}</code></li>{% endfor %}</ul>
</details>
{% endif %}
</main>
<script>
(function () {
  "use strict";
  var backend = document.getElementById("f-backend");
  var op = document.getElementById("f-op");
  var status = document.getElementById("f-status");
  var shown = document.getElementById("f-count");
  function matches(el) {
    if (backend.value && el.getAttribute("data-backend") !== backend.value) return false;
    if (op.value && el.getAttribute("data-op") !== op.value) return false;
    if (!status.value) return true;
    var statuses = (el.getAttribute("data-statuses") || "").split(" ");
    if (status.value === "bad") return statuses.indexOf("fail") >= 0 || statuses.indexOf("error") >= 0;
    return statuses.indexOf(status.value) >= 0;
  }
  function apply() {
    var rows = 0, visible = 0;
    var items = document.querySelectorAll("[data-filter]");
    for (var i = 0; i < items.length; i++) {
      var ok = matches(items[i]);
      items[i].hidden = !ok;
      if (items[i].getAttribute("data-filter") === "matrix") { rows++; if (ok) visible++; }
    }
    shown.textContent = "showing " + visible + " of " + rows + " rows (the filters apply to the failures too)";
  }
  [backend, op, status].forEach(function (el) { el.addEventListener("change", apply); });
  var buttons = document.querySelectorAll("button[data-select]");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].addEventListener("click", function () {
      var pre = document.getElementById(this.getAttribute("data-select"));
      var range = document.createRange();
      range.selectNodeContents(pre);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    });
  }
  apply();
  document.body.setAttribute("data-filters-ready", "yes");
})();
</script>
</body>
</html>
"""
