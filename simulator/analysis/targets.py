"""The mission's question: how likely are the 2030 targets, what lever values reach them, which lever
combinations do.

* ``target_probabilities``: share of (non-failed) members meeting each target and both, with Wilson
  score intervals.
* ``goal_seek``: for each lever factor of a sweep, with every other input at the base scenario, the value
  of the lever (applied as the factor defines: value from ``from`` on / scale / add) at which each target
  is just met — a grid over the factor's range in one vectorized integration, then ``scipy.optimize.brentq``
  on the bracket nearest the baseline value. No sign change → "not reachable within the range".
* ``discover``: PRIM boxes (``discovery.prim``) over the lever factors for "both targets met", or for
  the first relaxed target of a ladder that enough runs meet (``target_ladder``).

``sim targets`` writes ``targets.json``; its schema (keys are only ever added)::

    {"uncertainty_sweep": name, "levers_sweep": name, "design_key", "seed", "analysis_key",
     "probabilities": {"year", "runs", "runs_used", "failed", "confidence_level", "method",
                       "targets": {"population"|"gdp_nominal"|"both":
                                   {"probability", "interval": [lo, hi], "met",
                                    "target", "median", "p05", "p95"}}},      # (last four: not for both)
     "factor_info": {factor: {"target", "apply", "units"}},
     "goal_seek": {"status": "done"|"skipped", "reason": str},
     "required_lever_values": [{"lever", "target", "target_value", "year", "apply", "range", "baseline",
                                "at_range_ends", "status": "reachable"|"not_reachable"|
                                "met_over_whole_range", "value", "met_when", "message"}] | null,
     "discovery": {"target": {"kind": "both"|"relaxed"|"gdp_only"|"population_only"|"closest",
                              "label", "label_plain" (no Chinese units), "population_at_least",
                              "gdp_nominal_at_least", "n_of_interest"},
                   "relaxed": bool, "message": plain-words summary naming the target used,
                   "ladder": [every rung tried: the same keys + "used"], "min_cases", "year",
                   "factors", "categorical", "ranges", "n_points", "n_of_interest", "threshold",
                   "alpha", "paste_alpha", "min_mass", "pasting",
                   "boxes": [see simulator.analysis.discovery: limits, categories, coverage, density,
                             mass, n, n_of_interest, n_restricted, meets_threshold, peeled,
                             pasting_steps, stability],
                   "peeling_trajectory": [{"coverage", "density", "mass", "n_restricted"}]},
     "exported_box": {"box": N, "path": file} (only with --export-box)}

Populations in persons, GDP in yuan (nominal), shares as fractions 0–1.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

TARGETS = (("population", "metro_population", "target_population"),
           ("gdp_nominal", "metro_gdp_nominal", "target_gdp_nominal"))


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion k/n."""
    from scipy.stats import norm
    if n == 0:
        return (float("nan"), float("nan"))
    z = norm.ppf(0.5 + confidence / 2)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = 0.0 if k == 0 else max(0.0, centre - half)
    hi = 1.0 if k == n else min(1.0, centre + half)
    return (float(lo), float(hi))


def target_met(ds: xr.Dataset, year: int | None = None) -> dict[str, np.ndarray]:
    """Boolean (run,) arrays: each target met, and both."""
    year = int(ds.attrs["target_year"]) if year is None else int(year)
    out = {}
    for name, var, attr in TARGETS:
        out[name] = ds[var].sel(time=year).values >= float(ds.attrs[attr])
    out["both"] = out["population"] & out["gdp_nominal"]
    return out


def target_probabilities(ds: xr.Dataset, year: int | None = None, confidence: float = 0.95) -> dict:
    year = int(ds.attrs["target_year"]) if year is None else int(year)
    ok = ds["failed"].values == 0 if "failed" in ds else np.ones(ds.sizes["run"], dtype=bool)
    met = target_met(ds, year)
    n = int(ok.sum())
    res = {"year": year, "runs": int(ds.sizes["run"]), "runs_used": n, "failed": int((~ok).sum()),
           "confidence_level": confidence, "method": "Wilson score interval", "targets": {}}
    for name in ("population", "gdp_nominal", "both"):
        k = int(met[name][ok].sum())
        lo, hi = wilson_interval(k, n, confidence)
        entry = {"probability": k / n if n else float("nan"), "interval": [lo, hi], "met": k}
        if name != "both":
            var = dict((a, b) for a, b, _ in TARGETS)[name]
            vals = ds[var].sel(time=year).values[ok]
            entry.update(target=float(ds.attrs[dict((a, c) for a, _, c in TARGETS)[name]]),
                         median=float(np.median(vals)) if n else None,
                         p05=float(np.quantile(vals, 0.05)) if n else None,
                         p95=float(np.quantile(vals, 0.95)) if n else None)
        res["targets"][name] = entry
    return res


# --- goal seek -----------------------------------------------------------------------------------
class _Evaluator:
    """Target-year metro population and nominal GDP for values of one factor (others at baseline)."""

    def __init__(self, scenario, factor, year: int):
        self.scenario, self.factor, self.year = scenario, factor, year
        self.cache: dict[float, tuple[float, float]] = {}
        self.calls = 0

    def many(self, xs) -> np.ndarray:
        from simulator.ensemble.runner import ChunkContext, solve_rows
        xs = np.asarray(xs, dtype=float)
        new = [x for x in xs if float(x) not in self.cache]
        if new:
            ctx = ChunkContext(self.scenario, [self.factor], ["metro_population", "metro_gdp_nominal"], 20_000)
            T = len(self.scenario.output_times)
            shapes = {"metro_population": (T,), "metro_gdp_nominal": (T,)}
            data, failed, _, _, _ = solve_rows(ctx, np.array(new).reshape(-1, 1), shapes)
            k = list(np.asarray(self.scenario.output_times).astype(int)).index(self.year)
            self.calls += 1
            for i, x in enumerate(new):
                self.cache[float(x)] = (float(data["metro_population"][i, k]), float(data["metro_gdp_nominal"][i, k]))
        return np.array([self.cache[float(x)] for x in xs])


def _baseline_value(scenario, factor) -> float:
    if factor.apply == "scale":
        return 1.0
    if factor.apply == "add":
        return 0.0
    if factor.kind == "parameter":
        return float(np.ravel(scenario.parameters[factor.target])[factor.elements[0] if factor.elements else 0])
    lever = scenario.levers[factor.target]
    v = np.ravel(lever.value(float(scenario.targets.year)))
    return float(v[factor.elements[0]] if factor.elements else v[0])


def goal_seek(scenario, factors, grid: int = 9, xtol_rel: float = 1e-4, year: int | None = None,
              progress=None) -> list[dict]:
    """For each lever factor and each target, the value that just meets the target (others at baseline).
    ``progress(n)`` (optional) is called after each factor with the number of factors done (1)."""
    from scipy.optimize import brentq
    year = int(scenario.targets.year) if year is None else int(year)
    targets = {"population": float(scenario.targets.population), "gdp_nominal": float(scenario.targets.gdp_nominal)}
    rows = []
    for f in [f for f in factors if f.kind == "lever"]:
        lo, hi = f.range()
        ev = _Evaluator(scenario, f, year)
        xs = np.unique(np.concatenate([np.linspace(lo, hi, grid), [np.clip(_baseline_value(scenario, f), lo, hi)]]))
        if f.distribution == "choice":
            xs = np.unique(np.asarray(f.args["values"], dtype=float))
        vals = ev.many(xs)
        base = _baseline_value(scenario, f)
        for t, (name, target) in enumerate(targets.items()):
            g = vals[:, t] - target
            row = {"lever": f.id, "target": name, "target_value": target, "year": year, "apply": f.apply,
                   "range": [float(lo), float(hi)], "baseline": base,
                   "at_range_ends": [float(vals[0, t]), float(vals[-1, t])]}
            finite = np.isfinite(g)
            signs = np.sign(g)
            changes = [i for i in range(len(xs) - 1) if finite[i] and finite[i + 1] and signs[i] * signs[i + 1] < 0]
            if not changes:
                if finite.any() and np.all(g[finite] >= 0):
                    row.update(status="met_over_whole_range", value=None,
                               message="met for every value in the range")
                else:
                    row.update(status="not_reachable", value=None,
                               message="not reachable within the lever's range")
                rows.append(row)
                continue
            i = min(changes, key=lambda c: abs(0.5 * (xs[c] + xs[c + 1]) - base))
            if f.distribution == "choice":
                j = i + 1 if g[i + 1] >= 0 else i
                row.update(status="reachable", value=float(xs[j]), met_when=">=" if g[i + 1] >= 0 else "<=",
                           message=f"met with value {xs[j]:g}")
                rows.append(row)
                continue
            fn = lambda x: ev.many([x])[0, t] - target  # noqa: E731
            root = brentq(fn, xs[i], xs[i + 1], xtol=max(abs(hi - lo) * xtol_rel, 1e-12), maxiter=60)
            row.update(status="reachable", value=float(root), met_when=">=" if g[i + 1] > 0 else "<=",
                       message=f"met for values {'≥' if g[i + 1] > 0 else '≤'} {root:.6g}")
            if len(changes) > 1:
                row["other_crossings"] = [[float(xs[c]), float(xs[c + 1])] for c in changes if c != i]
            rows.append(row)
        if progress is not None:
            progress(1)
    return rows


DEFAULT_POPULATION_RUNGS = (1250e4, 1200e4)
MIN_CASES = 10
CLOSEST_SHARE = 0.1


def target_ladder(population_target: float, gdp_target: float, population_at_least=None,
                  gdp_at_least=None) -> list[dict]:
    """The rungs tried in order by ``discover``: both targets; then each relaxed population level with
    GDP met (default 1250万 and 1200万 residents); each relaxed GDP level with population met (none by
    default); GDP met alone; population met alone; the runs closest to both targets (the last resort,
    used whenever it has a run, so that discovery always says something)."""
    pops = DEFAULT_POPULATION_RUNGS if population_at_least is None else tuple(population_at_least)
    gdps = () if gdp_at_least is None else tuple(gdp_at_least)
    rungs = [{"kind": "both", "population_at_least": float(population_target),
              "gdp_nominal_at_least": float(gdp_target)}]
    for p in pops:
        if float(p) < population_target:
            rungs.append({"kind": "relaxed", "population_at_least": float(p), "gdp_nominal_at_least": float(gdp_target)})
    for g in gdps:
        if float(g) < gdp_target:
            rungs.append({"kind": "relaxed", "population_at_least": float(population_target), "gdp_nominal_at_least": float(g)})
    rungs.append({"kind": "gdp_only", "population_at_least": None, "gdp_nominal_at_least": float(gdp_target)})
    rungs.append({"kind": "population_only", "population_at_least": float(population_target),
                  "gdp_nominal_at_least": None})
    rungs.append({"kind": "closest", "population_at_least": None, "gdp_nominal_at_least": None,
                  "share": CLOSEST_SHARE})
    for r in rungs:
        r["label"] = rung_label(r)
        r["label_plain"] = rung_label(r, plain=True)
    return rungs


def _wan(v: float, plain: bool = False) -> str:
    return f"{v / 1e6:g} million residents" if plain else f"{v / 1e4:g}万 ({v / 1e6:g} million) residents"


def _yi(v: float, plain: bool = False) -> str:
    return (f"{v / 1e12:g} trillion yuan nominal GDP" if plain else
            f"{v / 1e8:g}亿 yuan ({v / 1e12:g} trillion) nominal GDP")


def rung_label(r: dict, plain: bool = False) -> str:
    """The rung in words (``plain``: without Chinese units, e.g. for figures without a CJK font)."""
    if r["kind"] == "closest":
        return (f"the {r['share']:.0%} of runs closest to both targets (largest min(population/target, "
                "GDP/target))")
    parts = []
    if r.get("population_at_least") is not None:
        parts.append(f"population ≥ {_wan(r['population_at_least'], plain)}")
    if r.get("gdp_nominal_at_least") is not None:
        parts.append(f"GDP ≥ {_yi(r['gdp_nominal_at_least'], plain)}")
    return " and ".join(parts) + (" (GDP target alone)" if r["kind"] == "gdp_only" else
                                  " (population target alone)" if r["kind"] == "population_only" else "")


def _rung_cases(ds: xr.Dataset, r: dict, year: int, ok: np.ndarray) -> np.ndarray:
    pop = ds["metro_population"].sel(time=year).values[ok]
    gdp = ds["metro_gdp_nominal"].sel(time=year).values[ok]
    if r["kind"] == "closest":
        closeness = np.minimum(pop / float(ds.attrs["target_population"]), gdp / float(ds.attrs["target_gdp_nominal"]))
        closeness = np.where(np.isfinite(closeness), closeness, -np.inf)
        k = max(1, int(np.ceil(r["share"] * len(closeness))))
        cut = np.sort(closeness)[::-1][k - 1] if len(closeness) else np.inf
        r["closeness_at_least"] = float(cut) if np.isfinite(cut) else None
        return closeness >= cut
    y = np.ones(len(pop), dtype=bool)
    if r.get("population_at_least") is not None:
        y &= pop >= r["population_at_least"]
    if r.get("gdp_nominal_at_least") is not None:
        y &= gdp >= r["gdp_nominal_at_least"]
    return y


def discover(ds: xr.Dataset, factors: list[str] | None = None, *, population_at_least=None, gdp_at_least=None,
             min_cases: int = MIN_CASES, relax: bool = True, year: int | None = None, **kw) -> dict:
    """PRIM boxes over ``factors`` (default: the lever factors) for 'both targets met' — or, when fewer than
    ``min_cases`` runs meet both, for the first rung of ``target_ladder`` that at least ``min_cases`` runs
    meet (``relax=False``: never relax). ``kw`` goes to ``discovery.prim``; ``choice`` factors are
    categorical. The result says in ``target`` and ``message`` which target the boxes are for."""
    import json
    from .discovery import prim
    specs = json.loads(ds.attrs.get("factors", "[]"))
    if factors is None:
        factors = [s["id"] for s in specs if s.get("kind") == "lever"] or [str(f) for f in ds.factor.values]
    categorical = [s["id"] for s in specs if s.get("distribution") == "choice" and s["id"] in factors]
    year = int(ds.attrs["target_year"]) if year is None else int(year)
    ok = ds["failed"].values == 0 if "failed" in ds else np.ones(ds.sizes["run"], dtype=bool)
    ladder = target_ladder(float(ds.attrs["target_population"]), float(ds.attrs["target_gdp_nominal"]),
                           population_at_least, gdp_at_least)
    if not relax:
        ladder = ladder[:1]
    chosen, y = None, None
    for i, r in enumerate(ladder):
        cases = _rung_cases(ds, r, year, ok)
        r["n_of_interest"] = int(cases.sum())
        r["used"] = False
        need = 1 if r["kind"] == "closest" else min(min_cases, max(1, int(ok.sum())))   # the last resort
        if chosen is None and r["n_of_interest"] >= need:
            chosen, y = i, cases
            r["used"] = True
    X = {f: ds[f].values[ok] for f in factors}
    if y is None:        # relax=False and too few runs meet both (or nothing at all)
        y = _rung_cases(ds, ladder[0], year, ok)
    out = prim(X, y, categorical=categorical, **kw)
    out["factors"] = list(factors)
    out["year"] = year
    out["min_cases"] = int(min_cases)
    out["ladder"] = ladder
    rung = ladder[chosen if chosen is not None else 0]
    out["target"] = {k: v for k, v in rung.items() if k != "used"}
    out["relaxed"] = bool(chosen not in (None, 0))
    both = ladder[0]["n_of_interest"]
    n = int(ok.sum())
    if chosen == 0:
        msg = f"{both} of {n} runs meet both {year} targets; the boxes are for both targets."
    elif chosen is None:
        msg = (f"{both} of {n} runs meet both {year} targets (fewer than {min_cases}); relaxation is off, so "
               + ("no box can be found." if both == 0 else "the boxes rest on very few runs."))
    else:
        msg = (f"{'No run' if both == 0 else f'Only {both} of {n} runs'} meet{'s' if both == 0 else ''} both "
               f"{year} targets{'' if both == 0 else f' (fewer than {min_cases})'}, so scenario discovery used a "
               f"relaxed target: {rung['label']}, met by {rung['n_of_interest']} of {n} runs.")
    if out["boxes"]:
        b = out["boxes"][0]
        msg += (f" Box 1 restricts {b['n_restricted']} factor(s) and holds {b['coverage']:.0%} of those runs "
                f"(coverage) with {b['density']:.0%} of its runs meeting it (density"
                f"{'' if b['meets_threshold'] else ', below the threshold ' + format(out['threshold'], '.0%')}).")
    elif out["n_of_interest"]:
        msg += " PRIM found no restriction."
    out["message"] = msg
    return out


TARGET_NAMES = {"population": "population (plan area)", "gdp_nominal": "nominal GDP (plan area)",
                "both": "both targets"}

LEVER_NAMES = {
    "hukou_ease": "hukou (settlement) ease", "talent_bonus": "talent-policy bonus", "amenity_bonus": "amenity bonus",
    "metro_integration": "metropolitan integration", "travel_time": "travel time", "tfp_growth": "TFP growth",
    "investment_rate": "investment rate", "human_capital": "human capital",
    "service_spending_factor": "public-service spending factor", "tfr": "fertility (TFR)",
    "deflator_growth": "GDP deflator growth", "national_income_growth": "national income growth",
    "rural_income_growth": "rural income growth", "external_inflow_factor": "inflow from the rest of China",
}


def factor_info(ds: xr.Dataset) -> dict:
    """{factor id: {target, apply, units}} from an ensemble's ``factors`` attribute (for readable tables)."""
    import json
    from simulator.model.levers import LEVERS
    from simulator.model.parameters import PARAMETERS
    out = {}
    for f in json.loads(ds.attrs.get("factors", "[]")):
        spec = LEVERS.get(f.get("target")) if f.get("kind") == "lever" else PARAMETERS.get(f.get("target"))
        out[f["id"]] = {"target": f.get("target"), "apply": f.get("apply"), "units": spec.units if spec else ""}
    return out


def readable_value(v, units: str = "", apply: str = "value") -> str:
    """A lever or parameter value with its unit: growth rates in %/yr, scale factors as × baseline."""
    if v is None:
        return "—"
    v = float(v)
    if apply == "scale":
        return f"×{v:.3g} of the baseline path"
    if apply == "add":
        return f"+{v:.3g} {units}".rstrip()
    if units == "1/yr":
        return f"{100 * v:.2f} %/yr"
    if units in ("1", ""):
        return f"{v:.3g}"
    if units == "min":
        return f"{v:.0f} min"
    return f"{v:.3g} {units}"


def _lever_label(factor_id: str, info: dict) -> str:
    target = info.get("target") or factor_id.split("[")[0]
    name = LEVER_NAMES.get(target, target)
    return f"{name} ({factor_id})"


def format_answer(answer: dict) -> str:
    """Readable text of ``targets.json``: plain names, values with units."""
    lines = []
    info_all = answer.get("factor_info", {})
    pr = answer.get("probabilities")
    if pr:
        lines.append(f"Probability of meeting the {pr['year']} targets under '{answer.get('uncertainty_sweep')}' "
                     f"({pr['runs_used']} runs, {pr['failed']} failed; {int(pr['confidence_level'] * 100)} % "
                     f"Wilson interval):")
        for name, e in pr["targets"].items():
            extra = ""
            if "target" in e:
                scale, unit = (1e4, "万人 (10^4 persons)") if name == "population" else (1e8, "亿元 (10^8 yuan)")
                extra = (f"   target {e['target'] / scale:.0f}, median {e['median'] / scale:.1f}, "
                         f"90 % range {e['p05'] / scale:.1f}–{e['p95'] / scale:.1f} {unit}")
            lines.append(f"  {TARGET_NAMES.get(name, name):24} {e['probability']:6.1%}  "
                         f"[{e['interval'][0]:.1%}, {e['interval'][1]:.1%}]{extra}")
    gs = answer.get("required_lever_values")
    if gs:
        lines.append("")
        lines.append("Lever value needed to meet each target, all other inputs at the base scenario:")
        for r in gs:
            info = info_all.get(r["lever"], {})
            units, apply = info.get("units", ""), r.get("apply", "value")
            if r.get("status") == "reachable":
                sign = {">=": "at least", "<=": "at most"}.get(r.get("met_when", ">="), "")
                what = f"met with {sign} {readable_value(r['value'], units, apply)}".replace("  ", " ")
            else:
                what = r["message"]
            lines.append(f"  {_lever_label(r['lever'], info):58} {TARGET_NAMES.get(r['target'], r['target']):24} "
                         f"{what}")
            if apply == "scale":
                span = f"×{r['range'][0]:.3g} to ×{r['range'][1]:.3g} of the baseline path; base scenario ×1"
            else:
                span = (f"{readable_value(r['range'][0], units, apply)} to {readable_value(r['range'][1], units, apply)}"
                        f"; base scenario {readable_value(r['baseline'], units, apply)}")
            lines.append(f"  {'':58} sampled {span}")
    disc = answer.get("discovery")
    if disc is not None:
        lines.append("")
        target = disc.get("target", {}).get("label", "both targets met")
        lines.append(f"Scenario discovery (PRIM with pasting) on '{answer.get('levers_sweep')}': "
                     f"{disc['n_of_interest']} of {disc['n_points']} runs meet {target}")
        if disc.get("message"):
            lines.append("  " + disc["message"])
        if not disc["boxes"]:
            lines.append("  no box found: " + ("no run meets the target" if not disc["n_of_interest"]
                                                else "no restriction raises the density"))
        for b, box in enumerate(disc["boxes"], 1):
            flag = "" if box.get("meets_threshold", True) else f" (below the threshold {disc['threshold']:.0%})"
            lines.append(f"  box {b}: coverage {box['coverage']:.0%}, density {box['density']:.0%}{flag}, "
                         f"mass {box['mass']:.0%}")
            st = box.get("stability") or {}
            freq = st.get("restriction_frequency", {})
            for k, (lo, hi) in box["limits"].items():
                info = info_all.get(k, {})
                units, apply = info.get("units", ""), info.get("apply", "value")
                cats = box.get("categories", {}).get(k)
                rng = (f"one of {', '.join(readable_value(c, units, apply) for c in cats)}" if cats else
                       f"{readable_value(lo, units, apply)} to {readable_value(hi, units, apply)}")
                extra = f"   (restricted in {freq[k]:.0%} of {st['resamples_with_box']} resamples)" if k in freq else ""
                lines.append(f"      {_lever_label(k, info)}: {rng}{extra}")
            if st.get("coverage"):
                lines.append(f"      stability ({st['method']}, {st['resamples']} resamples, seed {st['seed']}): "
                             f"coverage {st['coverage'][0]:.0%}–{st['coverage'][2]:.0%}, density "
                             f"{st['density'][0]:.0%}–{st['density'][2]:.0%} ({st['confidence_level']:.0%} interval)")
                others = [k for k, v in freq.items() if k not in box["limits"] and v >= 0.25]
                if others:
                    lines.append("      also restricted in ≥ 25 % of resamples: " + ", ".join(
                        f"{k} ({freq[k]:.0%})" for k in others))
    if answer.get("exported_box"):
        e = answer["exported_box"]
        lines.append(f"  box {e['box']} written as a sweep file: {e['path']}")
    return "\n".join(lines)
