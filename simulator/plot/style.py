"""Shared conventions for every plot: node colours, English/Chinese labels, display units
(万人 / 亿元 on the axes, persons / yuan in the data) and the CJK-font fallback.

Display scaling: persons → 10⁴ persons (万人), yuan → 10⁸ yuan (亿元), m² → 10⁴ m² (万平方米),
shares ("1") of rate variables → %. The data are never modified; only the plotted numbers.
"""
from __future__ import annotations

import contextlib
import functools
import warnings

import matplotlib
from matplotlib import font_manager

# ---------------------------------------------------------------------------------------------
# colours: one hue per city, dark for the plan-area part, light for the rest
NODE_COLORS: dict[str, str] = {
    "CC_P": "#1f5fa8", "CC_R": "#8fb4dc",
    "JL_P": "#c2410c", "JL_R": "#f4a77a",
    "SP_P": "#2e7d32", "SP_R": "#98cf8f",
    "LY_P": "#7b3fa0", "LY_R": "#c7a4dd",
    "RJ": "#8a8a8a", "EXT": "#5b4636",
}
CITY_COLORS: dict[str, str] = {"Changchun": NODE_COLORS["CC_P"], "Jilin": NODE_COLORS["JL_P"],
                               "Siping": NODE_COLORS["SP_P"], "Liaoyuan": NODE_COLORS["LY_P"],
                               "Rest of Jilin province": NODE_COLORS["RJ"]}
METRO_COLOR = "#111111"
TARGET_COLOR = "#d62728"
OBSERVED_COLOR = "#111111"
SCENARIO_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]


def color(key: str) -> str:
    """Colour of a node code, a whole city, ``metro`` or ``EXT`` (the same in every plot)."""
    if key in NODE_COLORS:
        return NODE_COLORS[key]
    if key in CITY_COLORS:
        return CITY_COLORS[key]
    if key in ("metro", "METRO"):
        return METRO_COLOR
    return "#444444"


# ---------------------------------------------------------------------------------------------
# names
NODE_NAMES = {
    "en": {"CC_P": "Changchun (plan area)", "CC_R": "Changchun (rest)", "JL_P": "Jilin (plan area)",
           "JL_R": "Jilin (rest)", "SP_P": "Siping (plan area)", "SP_R": "Siping (rest)",
           "LY_P": "Liaoyuan (plan area)", "LY_R": "Liaoyuan (rest)", "RJ": "Rest of Jilin",
           "EXT": "Rest of China", "metro": "Metro area total", "natural": "Natural change",
           "Changchun": "Changchun", "Jilin": "Jilin City", "Siping": "Siping", "Liaoyuan": "Liaoyuan"},
    "zh": {"CC_P": "长春(都市圈内)", "CC_R": "长春(圈外)", "JL_P": "吉林(都市圈内)", "JL_R": "吉林(圈外)",
           "SP_P": "四平(都市圈内)", "SP_R": "四平(圈外)", "LY_P": "辽源(都市圈内)", "LY_R": "辽源(圈外)",
           "RJ": "吉林省其他地区", "EXT": "省外", "metro": "都市圈合计", "natural": "自然增长",
           "Changchun": "长春市", "Jilin": "吉林市", "Siping": "四平市", "Liaoyuan": "辽源市"},
}

VARIABLE_NAMES = {
    "en": {"population": "Resident population", "urbanization_rate": "Urbanization rate",
           "floor_area_per_urban_resident": "Housing floor area per urban resident",
           "gdp_real": "Real GDP (2024 prices)", "gdp_nominal": "Nominal GDP",
           "metro_population": "Metro-area population", "metro_gdp_nominal": "Metro-area nominal GDP",
           "metro_gdp_real": "Metro-area real GDP (2024 prices)",
           "metro_urbanization_rate": "Metro-area urbanization rate",
           "city_population": "Whole-city population", "city_gdp_nominal": "Whole-city nominal GDP",
           "net_migration": "Net migration", "natural_change": "Natural change",
           "migration_flow": "Migration flow", "population_by_age": "Population by age",
           "change": "Population change", "age": "Age group", "year": "Year", "origin": "Origin",
           "destination": "Destination", "median": "median", "band50": "50% band", "band90": "90% band",
           "target": "target", "observed": "observed", "simulated": "simulated", "total": "total change",
           "gap": "gap"},
    "zh": {"population": "常住人口", "urbanization_rate": "城镇化率",
           "floor_area_per_urban_resident": "城镇人均住房面积",
           "gdp_real": "实际GDP(2024年价格)", "gdp_nominal": "名义GDP",
           "metro_population": "都市圈常住人口", "metro_gdp_nominal": "都市圈名义GDP",
           "metro_gdp_real": "都市圈实际GDP(2024年价格)", "metro_urbanization_rate": "都市圈城镇化率",
           "city_population": "全市常住人口", "city_gdp_nominal": "全市名义GDP",
           "net_migration": "净迁移", "natural_change": "自然增长", "migration_flow": "迁移流量",
           "population_by_age": "分年龄人口", "change": "人口变动", "age": "年龄组", "year": "年份",
           "origin": "迁出地", "destination": "迁入地", "median": "中位数", "band50": "50%区间",
           "band90": "90%区间", "target": "目标", "observed": "观测值", "simulated": "模拟值",
           "total": "总变动", "gap": "差距"},
}

# variables whose dimensionless values are shares shown in %
PERCENT_VARIABLES = {"urbanization_rate", "metro_urbanization_rate", "unemployment_rate", "vacancy_rate",
                     "city_urbanization_rate"}

# data units -> (factor to divide by, English display, Chinese display)
UNIT_DISPLAY = {
    "persons": (1e4, "10⁴ persons", "万人"),
    "persons/yr": (1e4, "10⁴ persons/yr", "万人/年"),
    "yuan": (1e8, "10⁸ yuan", "亿元"),
    "yuan/yr": (1e8, "10⁸ yuan/yr", "亿元/年"),
    "m2": (1e4, "10⁴ m²", "万平方米"),
    "m2/yr": (1e4, "10⁴ m²/yr", "万平方米/年"),
    "m2/person": (1.0, "m²/person", "平方米/人"),
    "yuan/person/yr": (1.0, "yuan/person/yr", "元/人/年"),
    "yuan/worker/yr": (1.0, "yuan/worker/yr", "元/人/年"),
    "yuan/person": (1.0, "yuan/person", "元/人"),
    "%": (0.01, "%", "%"),
}
# English axis labels add the Chinese unit name when a CJK font can draw it
ZH_UNIT_HINT = {"persons": "万人", "persons/yr": "万人/年", "yuan": "亿元", "yuan/yr": "亿元/年"}


def unit_display(units: str, variable: str | None = None, lang: str = "en") -> tuple[float, str]:
    """``(factor, label)``: plotted value = data value / factor, shown with unit ``label``."""
    units = str(units).replace("m^2", "m2")      # files written with CF unit strings (simulator.cf)
    if units == "1":
        if variable in PERCENT_VARIABLES:
            return 0.01, "%"
        return 1.0, ("index" if lang == "en" else "指数")
    if units in UNIT_DISPLAY:
        f, en, zh = UNIT_DISPLAY[units]
        if lang == "zh":
            return f, zh
        if units in ZH_UNIT_HINT and cjk_font() is not None:
            return f, f"{en}, {ZH_UNIT_HINT[units]}"
        return f, en
    return 1.0, units


def axis_label(name: str, units: str, variable: str | None = None, lang: str = "en") -> str:
    return f"{name} ({unit_display(units, variable, lang)[1]})"


def node_name(key: str, lang: str = "en") -> str:
    return NODE_NAMES[lang].get(str(key), str(key))


def var_name(key: str, lang: str = "en", default: str | None = None) -> str:
    return VARIABLE_NAMES[lang].get(key, default if default is not None else key.replace("_", " "))


def fmt_value(value: float, units: str, variable: str | None = None, lang: str = "en", digits: int = 0) -> str:
    """A data value as displayed text: 13_000_000 persons → '1,300 万人' (zh) / '13.0 million persons' (en);
    1.35e12 yuan → '13,500 亿元' / '1.35 trillion yuan' (a '/yr' is kept)."""
    if lang == "en":
        base, _, per = str(units).partition("/")
        tail = f"/{per}" if per else ""
        a = abs(value)
        if base == "persons" and a >= 1e4:
            return f"{value / 1e6:.2f} million persons{tail}" if a >= 1e6 else f"{value / 1e3:,.0f} thousand persons{tail}"
        if base == "yuan" and a >= 1e9:
            return f"{value / 1e12:.2f} trillion yuan{tail}" if a >= 1e12 else f"{value / 1e9:,.0f} billion yuan{tail}"
    f, label = unit_display(units, variable, lang)
    return f"{value / f:,.{digits}f} {label}"


# ---------------------------------------------------------------------------------------------
# fonts and language
CJK_FONT_NAMES = ("Noto Sans CJK SC", "Noto Sans CJK", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans",
                  "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "SimHei", "Microsoft YaHei", "PingFang SC",
                  "Heiti SC", "STHeiti", "Hiragino Sans GB", "AR PL UMing CN", "AR PL UKai CN",
                  "Droid Sans Fallback", "Noto Serif CJK SC", "SimSun", "Arial Unicode MS")


@functools.lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """Name of an installed font able to draw Chinese characters, or None."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONT_NAMES:
        if name in installed:
            return name
    for name in sorted(installed):
        if "CJK" in name or "Hei" in name or "Song" in name:
            return name
    return None


class CJKFontWarning(UserWarning):
    """lang='zh' was requested but no CJK font is installed; English labels are used instead."""


def resolve_lang(lang: str | None) -> str:
    """'en' or 'zh'. 'zh' without an installed CJK font falls back to 'en' with a warning."""
    lang = (lang or "en").lower()
    if lang in ("zh", "cn", "zh_cn", "zh-cn", "chinese"):
        if cjk_font() is None:
            warnings.warn("no CJK font installed (e.g. apt install fonts-noto-cjk); using English labels",
                          CJKFontWarning, stacklevel=3)
            return "en"
        return "zh"
    if lang not in ("en", "english"):
        raise ValueError(f"lang must be 'en' or 'zh', not {lang!r}")
    return "en"


@contextlib.contextmanager
def language(lang: str):
    """rc settings for a plot in ``lang`` (adds the CJK font in front for Chinese)."""
    rc = {"axes.unicode_minus": False}
    font = cjk_font()
    if font is not None:
        rc["font.sans-serif"] = [font] + list(matplotlib.rcParams["font.sans-serif"])
        rc["font.family"] = "sans-serif"
    with matplotlib.rc_context(rc):
        yield


def new_axes(ax=None, figsize=(8, 4.5)):
    """``ax`` or a fresh Axes on a new figure (pyplot figure so that notebooks show it)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt
    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def new_figure(nrows=1, ncols=1, figsize=(8, 4.5), **kw):
    import matplotlib.pyplot as plt
    return plt.subplots(nrows, ncols, figsize=figsize, layout="constrained", squeeze=False, **kw)


def finish(ax, title: str | None = None, legend: bool = True, **legend_kw):
    if title:
        ax.set_title(title, fontsize=11)
    ax.grid(True, color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, frameon=False, **legend_kw)
    return ax
