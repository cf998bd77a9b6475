"""``sim optimize``: multi-objective search over policy portfolios in planner units, each candidate
evaluated over an ensemble of uncertain futures (docs/optimize.md).

    from simulator.optimize import load_portfolio, run_portfolio
    res = run_portfolio(load_portfolio("sweeps/portfolio.yaml").with_overrides(population=8, generations=2,
                                                                                samples=4))
"""
from .search import PortfolioResult, pareto_mask, run_portfolio, search
from .spec import Decision, Portfolio, load_portfolio, portfolio_from_dict

__all__ = ["Decision", "Portfolio", "PortfolioResult", "load_portfolio", "pareto_mask", "portfolio_from_dict",
           "run_portfolio", "search"]
