"""The researcher's commands, run through the entry point as a user types them: they are
wired with the settings and the registry hooks, read a real data folder and write what
their help says, with no broker and no database."""
import pandas as pd
from typer.testing import CliRunner

from research.cli import research
from tft_forecast import cli

runner = CliRunner()


def test_the_entry_point_offers_the_service_and_the_research_commands():
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0, result.output
    names = {c.name or c.callback.__name__.replace("_", "-") for c in cli.registered_commands}
    for name in ("worker", "up", "replay", "promote", "rollback",
                 *(c.name or c.callback.__name__.replace("_", "-") for c in research.registered_commands)):
        assert name in names
        assert runner.invoke(cli, [name, "--help"]).exit_code == 0, name


def test_a_backtest_of_the_default_model_is_scored_for_skill(data_dir, tmp_path):
    csv = tmp_path / "bt.csv"
    result = runner.invoke(cli, ["backtest", "--data-dir", str(data_dir), "--symbols", "SPY",
                                 "--start", "2023-11-01", "--out", str(csv)])
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(csv, parse_dates=["date"])
    assert set(rows["symbol"]) == {"SPY"} and rows["date"].min() >= pd.Timestamp("2023-11-01")
    result = runner.invoke(cli, ["skill", str(csv), "--data-dir", str(data_dir), "--out", str(tmp_path / "skill")])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "skill" / "skill.csv")
    assert list(table["horizon"]) == sorted(rows["horizon"].unique())
    assert (tmp_path / "skill" / "reliability.png").stat().st_size > 0


def test_a_model_without_a_regime_book_is_refused_with_a_message(data_dir, tmp_path):
    model = tmp_path / "bare.pt"
    model.write_bytes(b"")
    result = runner.invoke(cli, ["regimes", "--data-dir", str(data_dir), "--model", str(model),
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "has no regime book" in " ".join(result.output.replace("│", " ").split())  # unwrapped from rich's box


def test_a_portfolio_backtest_scores_the_books_it_can_build_beside_both_baselines(data_dir, tmp_path):
    """The default model's forecasts for SPY and TLT (seen in its training: this is about the
    command, not the figures): 60/40 and the equal weight over both can be built; the
    sector basket and the KO/PEP pair cannot, and are left out."""
    csv = tmp_path / "bt.csv"
    result = runner.invoke(cli, ["backtest", "--data-dir", str(data_dir), "--symbols", "SPY,TLT",
                                 "--start", "2023-03-01", "--end", "2023-11-30", "--out", str(csv)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "pf"
    result = runner.invoke(cli, ["portfolio-backtest", str(csv), "--data-dir", str(data_dir), "--validation-start",
                                 "2023-06-01", "--test-start", "2023-09-01", "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "backtests.csv")
    assert set(table["book"]) == {"60/40 SPY/TLT", "equal weight"}
    assert set(table["model"]) == {"TFT copula", "historical simulation", "RiskMetrics"}
    assert set(table["horizon"]) == {1, 5} and set(table["level"]) == {0.95, 0.99}
    assert table["kupiec_p"].between(0, 1).all() and (table["tick_loss"] > 0).all()
    one = table[(table["horizon"] == 1) & (table["model"] == "TFT copula")]
    assert (one["n"] > 55).all()  # every session from 2023-09-01 whose next one is in the data
    assert (out / "breaches_6040SPYTLT.png").stat().st_size > 0 and "Kupiec" in (out / "report.md").read_text()
    intervals = pd.read_csv(out / "symbol_intervals.csv")
    assert set(intervals["symbol"]) == {"SPY", "TLT"}
