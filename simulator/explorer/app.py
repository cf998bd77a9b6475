"""The explorer's user interface: a Panel layout over ``state.Explorer`` (served by ``sim explore``,
shown inline in a notebook by ``simulator.explore``, defined in ``explorer/__init__.py``).

Left: one card per policy or lever (a control per plan-area part, its start year, a reset button).
Right: the 2030 check (population in 万人, nominal GDP in 亿元, gap to the targets), metro-area
trajectories and, on a second tab, the four plan-area parts; the start scenario is drawn dashed beside
the current setting, the baseline dash-dotted when the start scenario is another one, and optionally
the 5–95 % band of an ensemble (``band=``) shaded and labelled with its scenario, member count and file.
Every change is validated and run in a worker thread (``LatestRunner``: a newer change supersedes the
running one); a setting that cannot be shown leaves the last good picture and says why.
"""
from __future__ import annotations

import html
import logging
from functools import partial

import panel as pn
from bokeh.models import ColumnDataSource, Span
from bokeh.plotting import figure

from .controls import PART_NAMES, PARTS
from .state import Explorer, ExploreError, LatestRunner, Numbers, Superseded

log = logging.getLogger(__name__)
COLORS = {"CC_P": "#1f77b4", "JL_P": "#d62728", "SP_P": "#2ca02c", "LY_P": "#9467bd"}
START_STYLE = dict(line_dash="dashed", color="#888", line_width=2)
BASELINE_STYLE = dict(line_dash="dotdash", color="#e07b00", line_width=2)
BAND_COLOR = "#1f77b4"


def _label(cls, text: str) -> dict:
    """A widget's label: ``label=`` where the installed Panel has it (Panel 1.9 deprecates ``name``, to go
    in 2.0), else ``name=`` (earlier 1.x releases without ``label``)."""
    return {"label": text} if "label" in cls.param else {"name": text}


def _color(cls, color: str) -> dict:
    """A button's colour: ``color=`` where the installed Panel has it (``button_type`` goes away in 2.0)."""
    return {"color": color} if "color" in cls.param else {"button_type": color}


def _fig(title: str, y_label: str, height: int = 300):
    f = figure(title=title, height=height, sizing_mode="stretch_width", x_axis_label="year",
               y_axis_label=y_label, toolbar_location=None, x_range=(2023.5, 2035.5))
    f.xaxis.ticker = list(range(2024, 2036, 2))
    return f


class ExplorerApp:
    def __init__(self, scenario, output_dir="outputs/explore", name: str | None = None, reference=True,
                 baseline=True, band=None):
        pn.extension(notifications=False)
        self.state = Explorer(scenario, output_dir, reference=reference, baseline=baseline, band=band)
        self.runner = LatestRunner()          # one per session: another tab's change never supersedes this one's
        self.widgets: dict[str, pn.widgets.Widget] = {}
        self._updating = False
        self.status = pn.pane.HTML("", css_classes=["explore-status"], sizing_mode="stretch_width")
        self.check = pn.pane.HTML("", sizing_mode="stretch_width")
        self.name_input = pn.widgets.TextInput(**_label(pn.widgets.TextInput, "scenario name"),
                                               value=name or f"{self.state.start.name}_explore", width=220)
        self.save_button = pn.widgets.Button(**_label(pn.widgets.Button, "Save scenario"),
                                             **_color(pn.widgets.Button, "primary"), width=140)
        self.save_button.on_click(self._save)
        self.saved = pn.pane.HTML("", css_classes=["explore-saved"], sizing_mode="stretch_width")
        self._build_plots()
        ref = self.state.reference
        self._draw(ref)
        self.layout = pn.Row(self._left(), self._right(), sizing_mode="stretch_width")

    # --- left side ---------------------------------------------------------------------------------
    def _widget(self, c):
        value = self.state.values[c.id]
        cls = pn.widgets.EditableIntSlider if c.integer else pn.widgets.EditableFloatSlider
        kw = dict(**_label(cls, f"{c.label} ({c.units})"), start=c.low, end=c.high, step=c.step,
                  value=int(value) if c.integer else value, fixed_start=c.hard_low, fixed_end=c.hard_high,
                  sizing_mode="stretch_width", css_classes=[f"ctl-{c.id.replace('.', '-')}"])
        if c.integer:
            kw.update(start=int(c.low), end=int(c.high), step=int(c.step), fixed_start=int(c.hard_low),
                      fixed_end=int(c.hard_high))
        if not (kw["start"] <= kw["value"] <= kw["end"]):          # the scenario's value lies outside the slider
            kw["start"], kw["end"] = min(kw["start"], kw["value"]), max(kw["end"], kw["value"])
        if not c.integer:
            kw["format"] = "0[.]00" if c.step < 0.1 else "0[.]0"
        w = cls(**kw)
        w.param.watch(lambda e, cid=c.id: self._changed(cid, e.new), "value")
        self.widgets[c.id] = w
        return w

    def _left(self):
        cards = []
        for g in self.state.groups:
            items = [pn.pane.Markdown(g.help, styles={"font-size": "0.85em"}, margin=(0, 5))]
            if g.name == "hukou":
                for p in PARTS:
                    options = self.state.hukou_options(p)
                    if not options:
                        items.append(pn.pane.Markdown(f"{PART_NAMES[p]}: every condition already removed by "
                                                      f"{self.state.path.name}", margin=(0, 5)))
                        continue
                    w = pn.widgets.CheckBoxGroup(**_label(pn.widgets.CheckBoxGroup, PART_NAMES[p]), options=options,
                                                 value=[], inline=True)
                    w.param.watch(lambda e, cid=f"hukou.{p}": self._changed(cid, e.new), "value")
                    self.widgets[f"hukou.{p}"] = w
                    items += [pn.pane.Markdown(f"**{PART_NAMES[p]}**", margin=(0, 5)), w]
            for c in g.controls:
                w = self._widget(c)
                note = self.state.describe_default(c)
                items.append(w)
                if note:
                    items.append(pn.pane.Markdown(f"start scenario: {note}",
                                                  styles={"font-size": "0.8em", "color": "#666"}, margin=(-8, 10, 0, 10)))
            reset = pn.widgets.Button(**_label(pn.widgets.Button, "reset"), **_color(pn.widgets.Button, "light"),
                                      width=80)
            reset.on_click(lambda e, group=g.name: self._reset(group))
            items.append(reset)
            cards.append(pn.Card(*items, title=g.title, collapsed=g.name not in ("graduates_retained", "tfp_growth"),
                                 sizing_mode="stretch_width"))
        reset_all = pn.widgets.Button(**_label(pn.widgets.Button, "reset all"), **_color(pn.widgets.Button, "light"),
                                      width=100)
        reset_all.on_click(lambda e: self._reset(None))
        head = pn.pane.Markdown(f"### Levers\nstart scenario: `{self.state.path.as_posix()}`; policies are "
                                "added to its own, a lever holds its value from its year on.", margin=(0, 5))
        return pn.Column(head, reset_all, *cards, width=420, scroll=True, height=1000)

    # --- right side --------------------------------------------------------------------------------
    def _build_plots(self):
        st = self.state
        ref, base, band = st.reference, st.baseline, st.band
        tgt = st.start.targets
        self.src = ColumnDataSource(dict(year=[], pop=[], gdp=[]))
        self.ref_src = ColumnDataSource(dict(year=[], pop=[], gdp=[]))
        self.base_src = ColumnDataSource(dict(year=[], pop=[], gdp=[]))
        self.band_src = ColumnDataSource(dict(year=[], pop_lo=[], pop_hi=[], gdp_lo=[], gdp_hi=[]))
        self.pop_fig = _fig("Metro-area population, 10^4 persons (万人)", "10^4 persons")
        self.gdp_fig = _fig("Metro-area nominal GDP, 10^8 yuan/yr (亿元)", "10^8 yuan/yr")
        for f, col, target, scale in ((self.pop_fig, "pop", tgt.population, 1e4), (self.gdp_fig, "gdp", tgt.gdp_nominal, 1e8)):
            if band is not None:               # drawn first: behind the lines
                f.varea("year", f"{col}_lo", f"{col}_hi", source=self.band_src, fill_color=BAND_COLOR,
                        fill_alpha=0.15, legend_label=st.band_label(short=True))
            if base is not None:
                f.line("year", col, source=self.base_src, legend_label=f"baseline: {st.baseline_scenario.name}",
                       **BASELINE_STYLE)
            f.line("year", col, source=self.ref_src, legend_label=f"start: {st.start.name}", **START_STYLE)
            f.line("year", col, source=self.src, color="#1f77b4", line_width=3, legend_label="current setting")
            f.scatter("year", col, source=self.src, color="#1f77b4", size=5)
            f.add_layout(Span(location=target / scale, dimension="width", line_dash="dotted", line_color="#c00"))
            f.scatter([tgt.year], [target / scale], marker="star", size=14, color="#c00",
                      legend_label=f"{tgt.year:g} target")
            f.add_layout(f.legend[0], "right")    # beside the plot: inside, it hid the lines it explains
            f.legend.label_text_font_size = "8.5pt"
            f.legend.spacing, f.legend.padding = 0, 6
        def cols():
            return {"year": [], **{f"pop_{p}": [] for p in PARTS}, **{f"gdp_{p}": [] for p in PARTS}}
        self.part_src, self.part_ref, self.part_base = (ColumnDataSource(cols()) for _ in range(3))
        self.part_figs = []                  # small multiples: each part on its own scale (Changchun is 5–15× the others)
        for col, what, unit in (("pop", "population", "10^4 persons"), ("gdp", "nominal GDP", "10^8 yuan/yr")):
            for p in PARTS:
                f = _fig(f"{PART_NAMES[p]}: {what}", unit, height=230)
                if base is not None:
                    f.line("year", f"{col}_{p}", source=self.part_base, **BASELINE_STYLE)
                f.line("year", f"{col}_{p}", source=self.part_ref, **START_STYLE)
                f.line("year", f"{col}_{p}", source=self.part_src, color=COLORS[p], line_width=3)
                f.xaxis.axis_label = None
                self.part_figs.append(f)
        self.ref_src.data = self._series(ref)
        self.part_ref.data = self._part_series(ref)
        if base is not None:                 # computed once (Explorer), never redrawn
            self.base_src.data = self._series(base)
            self.part_base.data = self._part_series(base)
        if band is not None:
            self.band_src.data = dict(year=[float(y) for y in band.years],
                                      pop_lo=list(band.population[0] / 1e4), pop_hi=list(band.population[1] / 1e4),
                                      gdp_lo=list(band.gdp[0] / 1e8), gdp_hi=list(band.gdp[1] / 1e8))

    @staticmethod
    def _series(n: Numbers) -> dict:
        return dict(year=[float(y) for y in n.years], pop=list(n.population / 1e4), gdp=list(n.gdp / 1e8))

    @staticmethod
    def _part_series(n: Numbers) -> dict:
        d = {"year": [float(y) for y in n.years]}
        for p in PARTS:
            d[f"pop_{p}"] = list(n.part_population[p] / 1e4)
            d[f"gdp_{p}"] = list(n.part_gdp[p] / 1e8)
        return d

    def _right(self):
        save = pn.Row(self.name_input, pn.Column(pn.Spacer(height=18), self.save_button), sizing_mode="stretch_width")
        tabs = pn.Tabs(("Metro area", pn.Column(self.pop_fig, self.gdp_fig, self._band_note(),
                                                sizing_mode="stretch_width")),
                       ("City parts", pn.Column(
                           pn.pane.HTML("population in 万人 (10<sup>4</sup> persons), top; nominal GDP in 亿元 "
                                        "(10<sup>8</sup> yuan/yr), bottom; thick: the current setting; dashed grey: "
                                        f"the start scenario ({html.escape(self.state.start.name)})"
                                        + ("; dash-dot orange: the baseline" if self.state.baseline is not None else ""),
                                        margin=(0, 10)),
                           pn.GridBox(*self.part_figs, ncols=4, sizing_mode="stretch_width"),
                           sizing_mode="stretch_width")),
                       sizing_mode="stretch_width", dynamic=True)     # the hidden tab is rendered when opened
        return pn.Column(self.check, self.status, tabs, save, self.saved, sizing_mode="stretch_width")

    def _band_note(self):
        """What the shaded band is (whose, how many members, which file) and its range in the target year
        (under the metro plots: the City parts tab has no band)."""
        st = self.state
        if st.band is None:
            return pn.pane.HTML("", sizing_mode="stretch_width", visible=False)
        year = st.start.targets.year
        at = st.band.at(year)
        text = f"shaded: {html.escape(st.band_label())}"
        if at is not None:
            (p0, p1), (g0, g1) = at["population"], at["gdp"]
            text += (f"; in {year:g}: population {p0 / 1e4:,.1f}–{p1 / 1e4:,.1f} 万人, nominal GDP "
                     f"{g0 / 1e8:,.0f}–{g1 / 1e8:,.0f} 亿元")
        return pn.pane.HTML(f"<div id='band-label' style='font-size:0.85em;color:#444'>{text}</div>",
                            sizing_mode="stretch_width", margin=(0, 10))

    def _check_html(self, n: Numbers) -> str:
        ref, base = self.state.reference, self.state.baseline
        rows = []
        for name, label, scale, unit, digits in (("population", "population", 1e4, "万人", 1),
                                                 ("gdp_nominal", "nominal GDP", 1e8, "亿元", 0)):
            t, r = n.target(name), ref.target(name)
            if t["simulated"] is None:
                rows.append(f"<tr><td>{label}</td><td colspan=4>target year not simulated</td></tr>")
                continue
            verdict = "<b style='color:#080'>met</b>" if t["met"] else "<b style='color:#c00'>not met</b>"
            rows.append(
                f"<tr><td>{label}</td>"
                f"<td><span id='now-{name}' data-value='{t['simulated']!r}'>{t['simulated'] / scale:,.{digits}f}</span> {unit}</td>"
                f"<td>{t['value'] / scale:,.0f} {unit}</td>"
                f"<td><span id='gap-{name}'>{t['gap'] / scale:+,.{digits}f}</span> {unit} ({t['gap_percent']:+.1f} %) {verdict}</td>"
                f"<td style='color:#666'>{r['simulated'] / scale:,.{digits}f} {unit}</td>"
                + (f"<td style='color:#a55a00'>{base.target(name)['simulated'] / scale:,.{digits}f} {unit}</td>"
                   if base is not None else "") + "</tr>")
        year = int(n.targets[0]["year"])
        return (f"<table class='check' style='font-size:1.05em;border-collapse:collapse' cellpadding=4>"
                f"<tr style='border-bottom:1px solid #ccc'><th align=left>{year}</th><th align=left>current setting</th>"
                f"<th align=left>target</th><th align=left>gap</th><th align=left>start: {html.escape(self.state.start.name)}</th>"
                + (f"<th align=left>baseline</th>" if base is not None else "") + "</tr>"
                + "".join(rows) + "</table><div style='font-size:0.8em;color:#666'>万人 = 10<sup>4</sup> persons, "
                "亿元 = 10<sup>8</sup> yuan; GDP is the calendar-year flow, as in sim run</div>")

    def _draw(self, n: Numbers, message: str = "") -> None:
        self.src.data = self._series(n)
        self.part_src.data = self._part_series(n)
        self.check.object = self._check_html(n)
        warn = "".join(f"<div style='color:#a60'>warning: {html.escape(w)}</div>" for w in n.warnings)
        self.status.object = (f"<span id='run-state' data-state='ok'>{html.escape(message)}</span>" + warn)

    # --- events ------------------------------------------------------------------------------------
    def _changed(self, control_id: str, value) -> None:
        if self._updating:
            return
        try:
            self.state.set(control_id, value)
        except ExploreError as exc:
            self._error(str(exc))
            return
        self._request()

    def _reset(self, group: str | None) -> None:
        self.state.reset(group)
        self._updating = True
        try:
            for cid, w in self.widgets.items():
                if group is None or cid.split(".")[0] == group:
                    w.value = [] if cid.startswith("hukou.") and cid != "hukou.year" else (
                        int(self.state.values[cid]) if isinstance(w, pn.widgets.EditableIntSlider) else self.state.values[cid])
        finally:
            self._updating = False
        self._request()

    def _error(self, message: str) -> None:
        self.status.object = (f"<div id='run-state' data-state='error' style='color:#c00;white-space:pre-wrap'>"
                              f"{html.escape(message[:3000])}<br>(the picture shows the last setting that ran)</div>")

    def _request(self) -> None:
        text = self.state.yaml_text()                         # a snapshot of the setting
        self.status.object = "<span id='run-state' data-state='running' style='color:#666'>running…</span>"
        future = self.runner.submit(lambda cancelled: self.state.compute(cancelled, text=text))
        doc = pn.state.curdoc

        def done(f):                       # in the worker thread: hand the result to the document's loop
            if doc is not None and doc.session_context is not None:
                doc.add_next_tick_callback(partial(self._finish, f))
            else:                          # a notebook: comms send the changes from here
                self._finish(f)
        future.add_done_callback(done)

    def _finish(self, future) -> None:
        try:
            numbers = future.result()
        except Superseded:
            return
        except ExploreError as exc:
            self._error(str(exc))
            return
        except Exception as exc:                            # noqa: BLE001 - a message, never a traceback
            log.exception("explorer run failed")
            self._error(f"unexpected error: {type(exc).__name__}: {exc}")
            return
        self._draw(numbers, f"ran in {numbers.seconds:.2f} s")

    def _save(self, event=None) -> None:
        try:
            path = self.state.save(self.name_input.value)
        except ExploreError as exc:
            self.saved.object = f"<div style='color:#c00'>not saved: {html.escape(str(exc))}</div>"
            return
        self.saved.object = (f"saved <code id='saved-path'>{html.escape(path.as_posix())}</code> — "
                             f"check with <code>sim validate {html.escape(path.as_posix())}</code>, "
                             f"run with <code>sim run {html.escape(path.as_posix())}</code>")
