"""``sim explore``: the live policy explorer as a local web app (docs/explore.md)."""
from __future__ import annotations

import logging
from pathlib import Path

import click

from .cli_common import fail, verbosity_options

log = logging.getLogger("simulator.cli")


@click.command("explore", help="""Start the live policy explorer for SCENARIO (default scenarios/baseline.yaml)
as a local web app and print its address: move a lever (in planner units, per plan-area part) and see
the 2030 population and GDP against the targets redrawn; "Save scenario" writes the changed levers as a
commented YAML file that extends SCENARIO into outputs/explore/ (or -o DIR), for sim validate and sim run.
Starting from another scenario than the baseline, the baseline (scenarios/baseline.yaml) is drawn too.
--band FILE shades the 5–95 % band of metro population and nominal GDP over the members of an ensemble.nc
written by sim sweep (labelled with the ensemble's scenario, its member count and the file). Files are
read only inside the project and the output directory. Listens on 127.0.0.1 unless --host says otherwise
(then it warns). Ctrl-C stops it. In a notebook: from simulator import explore;
explore("scenarios/baseline.yaml", band="outputs/uncertainty/ensemble.nc").

\b
Examples:
  sim explore                                  # baseline, http://127.0.0.1:5006/
  sim explore scenarios/plan.yaml --band outputs/uncertainty   # the plan, the baseline and its band (1)

(1) the 90 % band of `sim sweep sweeps/uncertainty.yaml` (run it first; -n 200 takes seconds).
""")
@click.argument("scenario", required=False, default="scenarios/baseline.yaml",
                type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", "output", type=click.Path(file_okay=False, path_type=Path),
              default=Path("outputs") / "explore", show_default=True, help="Directory for saved scenarios.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5006, show_default=True, type=click.IntRange(0, 65535),
              help="Port (0: any free port).")
@click.option("--show/--no-show", default=False, help="Open the page in the default browser.")
@click.option("--band", "band", type=click.Path(path_type=Path), default=None, metavar="FILE",
              help="ensemble.nc of `sim sweep` (or its directory): shade its 5–95 % band of metro population "
                   "and nominal GDP.")
@click.option("--check", is_flag=True, help="Build the app, run the scenario once and exit without serving.")
@verbosity_options
def explore_cmd(scenario: Path, output: Path, host: str, port: int, show: bool, band: Path | None,
                check: bool) -> None:
    try:
        import panel as pn
    except ImportError:
        from .explorer import INSTALL_HINT
        fail(INSTALL_HINT)
    from .explorer.app import ExplorerApp
    from .explorer.state import ExploreError
    from .safeio import DestinationError, check_output_dir
    try:
        check_output_dir(output)
    except DestinationError as exc:
        fail(f"cannot write saved scenarios: {exc}")
    try:
        first = ExplorerApp(scenario, output, band=band)   # validates the files and runs once, before listening
    except ExploreError as exc:
        fail(str(exc))
    if host not in ("127.0.0.1", "localhost", "::1"):
        log.warning(f"listening on {host}: anyone who can reach this address can run the model and save "
                    f"scenario files into {output}")
    if check:
        st = first.state
        click.echo(f"ok: the explorer for {scenario} would listen on http://{host}:{port}/ "
                   f"and save into {output}/"
                   + (f"; baseline drawn too ({st.baseline_file})" if st.baseline is not None else "")
                   + (f"; band: {st.band_label()}" if st.band is not None else ""))
        return
    def session():
        app = ExplorerApp(scenario, output, reference=first.state.reference,   # the start scenario, the
                          baseline=first.state.baseline, band=first.state.band)  # baseline, the band: once
        pn.state.on_session_destroyed(lambda context: app.runner.close())
        return app.layout
    server = pn.serve(session, address=host, port=port, show=False,
                      start=False, title=f"sim explore: {scenario.name}",
                      websocket_origin=[f"{host}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"]
                      if port else "*", verbose=False)
    server.start()
    click.echo(f"sim explore: {scenario} at http://{host}:{server.port}/  (Ctrl-C to stop; saves into {output}/)",
               err=False)
    import sys
    sys.stdout.flush()
    if show:
        import webbrowser
        webbrowser.open(f"http://{host}:{server.port}/")
    try:
        server.io_loop.start()
    except KeyboardInterrupt:
        click.echo("stopped")
